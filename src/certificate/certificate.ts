import { X509Certificate } from 'node:crypto';
import { RecentStrings } from './recent-strings.js';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

// Most persons carry their mailbox provider's certificate, so a register of millions holds few
// distinct ones; parsing one costs about 0.2 ms. Remember the recent good ones (bounded).
const known = new Set<string>();
const KNOWN_LIMIT = 1000;

// Persons in a row mostly carry one of a few certificates: comparing with those is cheaper than
// hashing a 1.3 kB string for the set.
const recent = new RecentStrings<true>();

/** Whether `base64` (no PEM armour) holds one DER-encoded X.509 certificate. Expiry is not checked. */
export function isDerCertificate(base64: string): boolean {
  if (recent.get(base64)) return true;
  if (known.has(base64)) {
    recent.set(base64, true);
    return true;
  }
  if (base64.length % 4 !== 0 || !BASE64.test(base64)) return false;
  try {
    new X509Certificate(Buffer.from(base64, 'base64'));
  } catch {
    return false;
  }
  if (known.size >= KNOWN_LIMIT) known.clear();
  known.add(base64);
  recent.set(base64, true);
  return true;
}

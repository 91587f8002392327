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

/**
 * Whether `der` is exactly one DER value: its outer tag's length covers the buffer to the byte.
 * node:crypto parses a certificate followed by anything and ignores the rest.
 */
function isOneDerValue(der: Buffer): boolean {
  if (der.length < 2 || der[0] !== 0x30) return false; // a certificate is a SEQUENCE
  const first = der[1]!;
  if (first < 0x80) return 2 + first === der.length;
  const octets = first & 0x7f;
  if (octets === 0 || octets > 4 || der.length < 2 + octets) return false;
  let length = 0;
  for (let i = 0; i < octets; i++) length = length * 256 + der[2 + i]!;
  return 2 + octets + length === der.length;
}

/**
 * Whether `base64` (no PEM armour) holds one DER-encoded X.509 certificate and nothing after it.
 * Expiry is not checked.
 */
export function isDerCertificate(base64: string): boolean {
  if (recent.get(base64)) return true;
  if (known.has(base64)) {
    recent.set(base64, true);
    return true;
  }
  if (base64.length % 4 !== 0 || !BASE64.test(base64)) return false;
  const der = Buffer.from(base64, 'base64');
  if (!isOneDerValue(der)) return false;
  try {
    new X509Certificate(der);
  } catch {
    return false;
  }
  if (known.size >= KNOWN_LIMIT) known.clear();
  known.add(base64);
  recent.set(base64, true);
  return true;
}

import { X509Certificate } from 'node:crypto';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Whether `base64` (no PEM armour) holds one DER-encoded X.509 certificate. Expiry is not checked. */
export function isDerCertificate(base64: string): boolean {
  if (base64.length % 4 !== 0 || !BASE64.test(base64)) return false;
  try {
    new X509Certificate(Buffer.from(base64, 'base64'));
    return true;
  } catch {
    return false;
  }
}

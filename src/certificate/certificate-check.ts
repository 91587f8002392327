import { X509Certificate } from 'node:crypto';
import { isDerCertificate } from './certificate.js';
import { x509 } from './x509.js';
import { readFileBounded } from '../files/bounded-file.js';

export type CertificateProblem = 'NOT_A_CERTIFICATE' | 'EXPIRED' | 'NOT_YET_VALID' | 'NOT_FOR_ENCRYPTION';

export type CertificateCheck =
  { ok: true; notAfter: Date; subject: string } | { ok: false; reason: CertificateProblem };

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----/;

/**
 * The certificate in a PEM ("-----BEGIN CERTIFICATE-----"; the first one if there are several) or
 * DER file, as base64 of the DER (the wire form, docs/register.md#the-person-record). Throws when the file
 * holds neither.
 */
export function readCertificateFile(path: string): string {
  const content = readFileBounded(path);
  const pem = PEM_CERTIFICATE.exec(content.toString('latin1'));
  const base64 = pem ? pem[1]!.replace(/\s+/g, '') : content.toString('base64');
  if (!isDerCertificate(base64)) {
    throw new Error(`${path} holds no X.509 certificate (expected PEM "-----BEGIN CERTIFICATE-----" or DER)`);
  }
  return base64;
}

interface Facts {
  notBefore: Date;
  notAfter: Date;
  subject: string;
  forEncryption: boolean;
}

// Most certificates checked are the few providers' own; remember what parsing found (bounded).
const facts = new Map<string, Facts | null>();
const FACTS_LIMIT = 1000;

/**
 * Whether `base64` (base64 of DER, no whitespace, no PEM armour) is a certificate that digital post
 * can be encrypted with at `now`: within its validity period (bounds included), an RSA key, and no
 * KeyUsage extension or one allowing keyEncipherment or dataEncipherment. The validity period is
 * checked before the key.
 */
export function checkEncryptionCertificate(base64: string, now: Date): CertificateCheck {
  const f = factsOf(base64);
  if (f === null) return { ok: false, reason: 'NOT_A_CERTIFICATE' };
  const t = now.getTime();
  if (t < f.notBefore.getTime()) return { ok: false, reason: 'NOT_YET_VALID' };
  if (t > f.notAfter.getTime()) return { ok: false, reason: 'EXPIRED' };
  if (!f.forEncryption) return { ok: false, reason: 'NOT_FOR_ENCRYPTION' };
  return { ok: true, notAfter: new Date(f.notAfter), subject: f.subject };
}

/**
 * Whether `base64` is a certificate digital post can be encrypted with, whatever the date: one DER
 * value, an RSA key, and no KeyUsage extension or one allowing encipherment. The register's rule
 * for a stored certificate (import, sync); a mailbox provider's new one must also be valid now
 * (checkEncryptionCertificate). See docs/register.md#certificates.
 */
export function isEncryptionCertificate(base64: string): boolean {
  return factsOf(base64)?.forEncryption === true;
}

function factsOf(base64: string): Facts | null {
  let f = facts.get(base64);
  if (f === undefined) {
    f = readFacts(base64);
    if (facts.size >= FACTS_LIMIT) facts.clear();
    facts.set(base64, f);
  }
  return f;
}

function readFacts(base64: string): Facts | null {
  if (!isDerCertificate(base64)) return null;
  try {
    const der = Buffer.from(base64, 'base64');
    const cert = new X509Certificate(der);
    // Node 20 has no validFromDate/validToDate; its strings ("Nov 23 15:44:05 2026 GMT") parse as UTC.
    const notBefore = new Date(cert.validFrom);
    const notAfter = new Date(cert.validTo);
    if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) return null;
    // node:crypto does not expose the basic KeyUsage extension (2.5.29.15).
    const keyUsage = new x509.X509Certificate(der).getExtension(x509.KeyUsagesExtension);
    const encipher = x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.dataEncipherment;
    const forEncryption =
      cert.publicKey.asymmetricKeyType === 'rsa' && (keyUsage === null || (keyUsage.usages & encipher) !== 0);
    // Node's subject has one attribute a line, with separators inside values escaped.
    return { notBefore, notAfter, subject: cert.subject.split('\n').join(', '), forEncryption };
  } catch {
    return null;
  }
}

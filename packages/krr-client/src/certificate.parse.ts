// Certificates as callers hold them: PEM text (one or more certificates), base64 DER (an x5c
// member), DER bytes, or node:crypto's X509Certificate.

import { X509Certificate } from 'node:crypto';
import { KrrConfigError } from './krr.errors.js';

export type CertificateInput = string | Uint8Array | X509Certificate;

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/g;

function parseOne(input: CertificateInput, what: string): X509Certificate[] {
  if (input instanceof X509Certificate) return [input];
  try {
    if (typeof input !== 'string') return [new X509Certificate(input)];
    if (input.includes('-----BEGIN')) {
      const pems = [...input.matchAll(PEM_CERTIFICATE)].map((m) => m[0]);
      if (pems.length === 0) throw new Error('no certificate');
      return pems.map((pem) => new X509Certificate(pem));
    }
    return [new X509Certificate(Buffer.from(input.replace(/\s+/g, ''), 'base64'))];
  } catch {
    throw new KrrConfigError(
      `${what}: a certificate that cannot be read (give PEM, base64 DER or DER bytes)`,
    );
  }
}

/** Every certificate in `input`, in order. Throws KrrConfigError when one cannot be read or none is given. */
export function parseCertificates(
  input: CertificateInput | readonly CertificateInput[],
  what: string,
): X509Certificate[] {
  const list: readonly CertificateInput[] = Array.isArray(input) ? input : [input as CertificateInput];
  const certificates = list.flatMap((c) => parseOne(c, what));
  if (certificates.length === 0) throw new KrrConfigError(`${what}: no certificate given`);
  return certificates;
}

/** Whether `now` lies within the certificate's validity period. */
export function isValidAt(certificate: X509Certificate, now: number): boolean {
  const from = Date.parse(certificate.validFrom);
  const to = Date.parse(certificate.validTo);
  return !Number.isNaN(from) && !Number.isNaN(to) && from <= now && now <= to;
}

/** base64 DER: an x5c member. */
export const base64Der = (certificate: X509Certificate): string => certificate.raw.toString('base64');

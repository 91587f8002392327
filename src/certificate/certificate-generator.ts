import { webcrypto } from 'node:crypto';
import { x509 } from './x509.js';

export type GeneratedKeyUsage = 'encryption' | 'signing' | 'both';

export interface GenerateCertificateOptions {
  commonName: string;
  organisation?: string;
  /** Goes in the subject's serialNumber attribute (2.5.4.5), as in Norwegian enterprise certificates. */
  organisationNumber?: string;
  /** Default: now. */
  validFrom?: Date;
  /** Default: one year after `validFrom`. */
  validTo?: Date;
  /** 'encryption': keyEncipherment + dataEncipherment; 'signing': digitalSignature; 'both': all three. Default 'encryption'. */
  keyUsage?: GeneratedKeyUsage;
  /** 'rsa' (2048 bits, the default) or 'ec' (ECDSA P-256). */
  keyType?: 'rsa' | 'ec';
}

export interface GeneratedCertificate {
  /** Base64 of the DER, no PEM armour, no line breaks: the wire form (docs/register.md#the-person-record). */
  certificateDerBase64: string;
  certificatePem: string;
  /** PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"). */
  privateKeyPem: string;
}

const F = x509.KeyUsageFlags;
const USAGES: Record<GeneratedKeyUsage, number> = {
  encryption: F.keyEncipherment | F.dataEncipherment,
  signing: F.digitalSignature,
  both: F.digitalSignature | F.keyEncipherment | F.dataEncipherment,
};

const RSA = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
};
const EC = { name: 'ECDSA', namedCurve: 'P-256' };

const YEAR_MS = 365 * 24 * 60 * 60 * 1000;

/** A self-signed X.509 certificate and its private key, for demo data, dev mode and tests. */
export async function generateSelfSignedCertificate(
  opts: GenerateCertificateOptions,
): Promise<GeneratedCertificate> {
  const keyType = opts.keyType ?? 'rsa';
  const algorithm = keyType === 'ec' ? EC : RSA;
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);

  // The JSON form of the name: the string form needs RFC 4514 escaping of the values.
  const name: x509.JsonName = [{ CN: [opts.commonName] }];
  if (opts.organisation !== undefined) name.push({ O: [opts.organisation] });
  if (opts.organisationNumber !== undefined) name.push({ '2.5.4.5': [opts.organisationNumber] });

  const notBefore = opts.validFrom ?? new Date();
  const notAfter = opts.validTo ?? new Date(notBefore.getTime() + YEAR_MS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialHex(),
    name,
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: keyType === 'ec' ? { name: 'ECDSA', hash: 'SHA-256' } : RSA,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(USAGES[opts.keyUsage ?? 'encryption'], true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });

  const der = Buffer.from(cert.rawData);
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return {
    certificateDerBase64: der.toString('base64'),
    certificatePem: cert.toString('pem') + '\n',
    privateKeyPem: toPem('PRIVATE KEY', pkcs8),
  };
}

/** 16 random bytes, first bit clear so the serial is positive. */
function randomSerialHex(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return Buffer.from(bytes).toString('hex');
}

function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

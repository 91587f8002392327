// Certificates for the token service's tests: a CA, business certificates it issues, and
// self-signed ones (@peculiar/x509, as certificate-generator.ts makes the demo's).

import { createPrivateKey, webcrypto } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { x509 } from '../../src/certificate/x509.js';

const RSA = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
};
const DAY = 24 * 60 * 60 * 1000;

export interface TestCertificate {
  /** base64 DER: an x5c member. */
  readonly der: string;
  readonly pem: string;
  /** The private key, for signing assertions. */
  readonly key: KeyObject;
  readonly cert: x509.X509Certificate;
  readonly keys: webcrypto.CryptoKeyPair;
}

async function keyPair(): Promise<webcrypto.CryptoKeyPair> {
  return await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify']);
}

async function finish(cert: x509.X509Certificate, keys: webcrypto.CryptoKeyPair): Promise<TestCertificate> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return {
    der: Buffer.from(cert.rawData).toString('base64'),
    pem: `${cert.toString('pem')}\n`,
    key: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }),
    cert,
    keys,
  };
}

export interface SubjectOptions {
  readonly commonName: string;
  /** In the subject's serialNumber (2.5.4.5). */
  readonly orgno?: string;
  /** In organizationIdentifier (2.5.4.97) as NTRNO-<orgno>. */
  readonly organizationIdentifier?: string;
  readonly validFrom?: Date;
  readonly validTo?: Date;
}

function subject(o: SubjectOptions): x509.JsonName {
  const name: x509.JsonName = [{ CN: [o.commonName] }];
  if (o.orgno) name.push({ '2.5.4.5': [o.orgno] });
  if (o.organizationIdentifier) name.push({ '2.5.4.97': [`NTRNO-${o.organizationIdentifier}`] });
  return name;
}

export async function makeCa(commonName: string, issuer?: TestCertificate): Promise<TestCertificate> {
  const keys = await keyPair();
  const extensions = [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  const notBefore = new Date(Date.now() - DAY);
  const notAfter = new Date(Date.now() + 365 * DAY);
  const cert = issuer
    ? await x509.X509CertificateGenerator.create({
        subject: subject({ commonName }),
        issuer: issuer.cert.subjectName,
        publicKey: keys.publicKey,
        signingKey: issuer.keys.privateKey,
        notBefore,
        notAfter,
        signingAlgorithm: RSA,
        extensions,
      })
    : await x509.X509CertificateGenerator.createSelfSigned({
        name: subject({ commonName }),
        keys,
        notBefore,
        notAfter,
        signingAlgorithm: RSA,
        extensions,
      });
  return finish(cert, keys);
}

/** A business certificate: issued by `issuer`, or self-signed without one. */
export async function makeBusinessCertificate(
  o: SubjectOptions,
  issuer?: TestCertificate,
): Promise<TestCertificate> {
  const keys = await keyPair();
  const notBefore = o.validFrom ?? new Date(Date.now() - DAY);
  const notAfter = o.validTo ?? new Date(Date.now() + 365 * DAY);
  const extensions = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
  ];
  const cert = issuer
    ? await x509.X509CertificateGenerator.create({
        subject: subject(o),
        issuer: issuer.cert.subjectName,
        publicKey: keys.publicKey,
        signingKey: issuer.keys.privateKey,
        notBefore,
        notAfter,
        signingAlgorithm: RSA,
        extensions,
      })
    : await x509.X509CertificateGenerator.createSelfSigned({
        name: subject(o),
        keys,
        notBefore,
        notAfter,
        signingAlgorithm: RSA,
        extensions,
      });
  return finish(cert, keys);
}

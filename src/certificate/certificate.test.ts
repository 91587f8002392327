import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, privateDecrypt, publicEncrypt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEMO_DIGIPOST_CERTIFICATE, DEMO_EBOKS_CERTIFICATE } from '../demo/demo-certificates.js';
import { isDerCertificate } from './certificate.js';
import { checkEncryptionCertificate, readCertificateFile } from './certificate-check.js';
import { type GeneratedCertificate, generateSelfSignedCertificate } from './certificate-generator.js';
import { x509 } from './x509.js';

// RSA key generation costs 50-100 ms each: a handful of certificates, made once, in parallel.
const FROM = new Date('2026-01-01T00:00:00Z');
const TO = new Date('2027-01-01T00:00:00Z');
const DURING = new Date('2026-06-01T12:00:00Z');
let encryption: GeneratedCertificate;
let signing: GeneratedCertificate;
let both: GeneratedCertificate;
let ec: GeneratedCertificate;
let expired: GeneratedCertificate;

before(async () => {
  [encryption, signing, both, ec, expired] = await Promise.all([
    generateSelfSignedCertificate({
      commonName: 'krr test, encryption',
      organisation: 'Digipost AS',
      organisationNumber: '984661185',
      validFrom: FROM,
      validTo: TO,
    }),
    generateSelfSignedCertificate({
      commonName: 'signing',
      keyUsage: 'signing',
      validFrom: FROM,
      validTo: TO,
    }),
    generateSelfSignedCertificate({ commonName: 'both', keyUsage: 'both', validFrom: FROM, validTo: TO }),
    generateSelfSignedCertificate({ commonName: 'ec', keyType: 'ec', validFrom: FROM, validTo: TO }),
    generateSelfSignedCertificate({
      commonName: 'expired',
      validFrom: new Date('2020-01-01T00:00:00Z'),
      validTo: new Date('2021-01-01T00:00:00Z'),
    }),
  ]);
});

function parse(g: GeneratedCertificate): X509Certificate {
  return new X509Certificate(Buffer.from(g.certificateDerBase64, 'base64'));
}

describe('x509 (the @peculiar/x509 entry)', () => {
  it('loads on this Node with the Reflect polyfill and parses names with or without spaces after commas', () => {
    const json = [{ CN: ['krr demo'] }, { O: ['Digipost'] }];
    assert.deepEqual(new x509.Name('CN=krr demo,O=Digipost').toJSON(), json);
    assert.deepEqual(new x509.Name('CN=krr demo, O=Digipost').toJSON(), json);
  });
});

describe('generateSelfSignedCertificate', () => {
  it('makes a self-signed certificate node:crypto parses, in the wire form (base64 DER, no whitespace)', () => {
    const cert = parse(encryption);
    assert.ok(isDerCertificate(encryption.certificateDerBase64));
    assert.match(encryption.certificateDerBase64, /^[A-Za-z0-9+/]+={0,2}$/);
    assert.equal(cert.issuer, cert.subject);
    assert.ok(cert.verify(cert.publicKey));
    assert.equal(cert.publicKey.asymmetricKeyType, 'rsa');
    assert.equal(cert.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    assert.equal(cert.ca, false);
    assert.equal(new Date(cert.validFrom).getTime(), FROM.getTime());
    assert.equal(new Date(cert.validTo).getTime(), TO.getTime());
  });

  it('puts the common name, organisation and organisation number (serialNumber, 2.5.4.5) in the subject', () => {
    assert.deepEqual(parse(encryption).subject.split('\n'), [
      'CN=krr test\\, encryption',
      'O=Digipost AS',
      'serialNumber=984661185',
    ]);
    assert.equal(parse(signing).subject, 'CN=signing');
  });

  it('gives the PEM of the same certificate and a PKCS#8 private key matching its public key', () => {
    assert.match(
      encryption.certificatePem,
      /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+\n-----END CERTIFICATE-----\n$/,
    );
    assert.equal(
      new X509Certificate(encryption.certificatePem).fingerprint256,
      parse(encryption).fingerprint256,
    );
    assert.match(
      encryption.privateKeyPem,
      /^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PRIVATE KEY-----\n$/,
    );
    const key = createPrivateKey(encryption.privateKeyPem);
    const secret = Buffer.from('digital post');
    assert.deepEqual(privateDecrypt(key, publicEncrypt(parse(encryption).publicKey, secret)), secret);
  });

  it('sets the KeyUsage extension as asked', () => {
    const F = x509.KeyUsageFlags;
    const usages = (g: GeneratedCertificate) =>
      new x509.X509Certificate(g.certificateDerBase64).getExtension(x509.KeyUsagesExtension)?.usages;
    assert.equal(usages(encryption), F.keyEncipherment | F.dataEncipherment);
    assert.equal(usages(signing), F.digitalSignature);
    assert.equal(usages(both), F.digitalSignature | F.keyEncipherment | F.dataEncipherment);
  });

  it('makes an EC (P-256) certificate when asked', () => {
    const cert = parse(ec);
    assert.equal(cert.publicKey.asymmetricKeyType, 'ec');
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.ok(cert.verify(cert.publicKey));
    assert.equal(createPrivateKey(ec.privateKeyPem).asymmetricKeyType, 'ec');
  });
});

describe('checkEncryptionCertificate', () => {
  it('accepts an RSA certificate for key or data encipherment, with its expiry and subject', () => {
    assert.deepEqual(checkEncryptionCertificate(encryption.certificateDerBase64, DURING), {
      ok: true,
      notAfter: TO,
      subject: 'CN=krr test\\, encryption, O=Digipost AS, serialNumber=984661185',
    });
    assert.equal(checkEncryptionCertificate(both.certificateDerBase64, DURING).ok, true);
  });

  it('refuses a signing-only certificate and an EC certificate (NOT_FOR_ENCRYPTION)', () => {
    assert.deepEqual(checkEncryptionCertificate(signing.certificateDerBase64, DURING), {
      ok: false,
      reason: 'NOT_FOR_ENCRYPTION',
    });
    assert.deepEqual(checkEncryptionCertificate(ec.certificateDerBase64, DURING), {
      ok: false,
      reason: 'NOT_FOR_ENCRYPTION',
    });
  });

  it('refuses an expired certificate and one not yet valid; both bounds of the validity period count', () => {
    assert.deepEqual(checkEncryptionCertificate(expired.certificateDerBase64, new Date()), {
      ok: false,
      reason: 'EXPIRED',
    });
    assert.deepEqual(
      checkEncryptionCertificate(expired.certificateDerBase64, new Date('2019-12-31T23:59:59Z')),
      {
        ok: false,
        reason: 'NOT_YET_VALID',
      },
    );
    const at = (t: number) => checkEncryptionCertificate(encryption.certificateDerBase64, new Date(t));
    assert.equal(at(FROM.getTime()).ok, true);
    assert.equal(at(TO.getTime()).ok, true);
    assert.deepEqual(at(FROM.getTime() - 1), { ok: false, reason: 'NOT_YET_VALID' });
    assert.deepEqual(at(TO.getTime() + 1), { ok: false, reason: 'EXPIRED' });
  });

  it('checks the validity period before the key usage', () => {
    const r = checkEncryptionCertificate(signing.certificateDerBase64, new Date('2030-01-01T00:00:00Z'));
    assert.deepEqual(r, { ok: false, reason: 'EXPIRED' });
  });

  it('takes only the wire form: garbage, PEM armour, line breaks and non-certificate DER are NOT_A_CERTIFICATE', () => {
    const b64 = encryption.certificateDerBase64;
    const wrapped = b64.match(/.{1,64}/g)!.join('\n');
    for (const input of [
      '',
      'not a certificate',
      'AAAA',
      Buffer.from('hello world!').toString('base64'),
      b64.slice(0, 400),
      encryption.certificatePem,
      wrapped,
      ` ${b64}`,
      Buffer.from(
        createPrivateKey(encryption.privateKeyPem).export({ type: 'pkcs8', format: 'der' }),
      ).toString('base64'),
    ]) {
      assert.deepEqual(
        checkEncryptionCertificate(input, DURING),
        { ok: false, reason: 'NOT_A_CERTIFICATE' },
        input,
      );
    }
  });

  it('classifies the two static demo provider certificates as usable for encryption', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const digipost = checkEncryptionCertificate(DEMO_DIGIPOST_CERTIFICATE, now);
    const eboks = checkEncryptionCertificate(DEMO_EBOKS_CERTIFICATE, now);
    assert.ok(digipost.ok && eboks.ok);
    assert.match(digipost.subject, /CN=krr demo digipost encryption/);
    assert.match(eboks.subject, /CN=krr demo eboks encryption/);
    assert.equal(digipost.notAfter.getUTCFullYear(), 2046);
  });
});

describe('readCertificateFile', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'krr-cert-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function file(name: string, content: string | Buffer): string {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  }

  it('reads a PEM file as base64 DER', () => {
    assert.equal(
      readCertificateFile(file('cert.pem', encryption.certificatePem)),
      encryption.certificateDerBase64,
    );
  });

  it('reads a PEM file with CRLF line ends, text around it and a chain (the first certificate)', () => {
    const pem = `subject=CN = x\r\n${encryption.certificatePem}${signing.certificatePem}`.replace(
      /\n/g,
      '\r\n',
    );
    assert.equal(readCertificateFile(file('chain.pem', pem)), encryption.certificateDerBase64);
  });

  it('reads a DER file as base64', () => {
    const path = file('cert.der', Buffer.from(both.certificateDerBase64, 'base64'));
    assert.equal(readCertificateFile(path), both.certificateDerBase64);
  });

  it('refuses a text file, a private key and an empty file, naming the file but not its content', () => {
    const cases = [
      file('notes.txt', 'secret-looking text, not a certificate\n'),
      file('key.pem', encryption.privateKeyPem),
      file('empty.der', ''),
      file('broken.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
    ];
    for (const path of cases) {
      assert.throws(
        () => readCertificateFile(path),
        (e: unknown) =>
          e instanceof Error &&
          e.message.includes(path) &&
          !e.message.includes('secret-looking') &&
          !e.message.includes('PRIVATE KEY-----'),
      );
    }
  });

  it('passes on the error for a missing file', () => {
    assert.throws(() => readCertificateFile(join(dir, 'missing.pem')), /missing\.pem: ENOENT/);
  });
});

describe('isDerCertificate (unchanged)', () => {
  it('accepts base64 DER only', () => {
    assert.equal(isDerCertificate(DEMO_EBOKS_CERTIFICATE), true);
    assert.equal(isDerCertificate(encryption.certificatePem), false);
    assert.equal(isDerCertificate('AAAA'), false);
  });

  it('answers by the text, past the certificates it remembers: one byte changed is not the same certificate', () => {
    const certificates = [encryption, signing, both, ec, expired].map((c) => c.certificateDerBase64);
    certificates.push(DEMO_DIGIPOST_CERTIFICATE, DEMO_EBOKS_CERTIFICATE);
    for (let round = 0; round < 2; round++)
      for (const c of certificates)
        assert.equal(isDerCertificate(JSON.parse(JSON.stringify(c)) as string), true);
    // The same length as a remembered one, its DER cut short inside: base64 still, no certificate.
    const broken = `${DEMO_EBOKS_CERTIFICATE.slice(0, 200)}${'A'.repeat(DEMO_EBOKS_CERTIFICATE.length - 200)}`;
    assert.equal(broken.length, DEMO_EBOKS_CERTIFICATE.length);
    assert.equal(isDerCertificate(broken), false);
  });
});

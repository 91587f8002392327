// Signed answers (docs/signed-answers.md#the-jws) through HTTP on both stores: `Accept: application/jose`
// on the lookups and /rest/v1/person gives a compact JWS over exactly the JSON answer, verifiable with
// the first x5c certificate as Digdir's own client does; errors stay JSON; an operator's key and
// certificate are used and checked at start.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compactVerify, decodeProtectedHeader } from 'jose';
import type { LightMyRequestResponse } from 'fastify';
import { generateSelfSignedCertificate } from '../certificate/certificate-generator.js';
import type { GeneratedCertificate } from '../certificate/certificate-generator.js';
import { loadConfig } from '../config/config.js';
import { ConfigError } from '../errors/errors.js';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import { assertErrorBody } from '../../test/support/error-body.js';
import { openTestStore, skipReason, STORE_KINDS } from '../../test/support/stores.js';
import { startTestApp } from '../../test/support/test-app.js';
import type { TestApp } from '../../test/support/test-app.js';
import { answerSignerFromFiles, devAnswerSigner } from './answer-signer.js';
import { acceptsJose } from './signed-answer.hook.js';

const PERSON = makeIdentifier({ day: 1, month: 7, year: 90 });
const UNKNOWN = makeIdentifier({ day: 2, month: 7, year: 90 });
const SCOPES = ['krr:global/kontaktinformasjon.read', 'krr:global/digitalpost.read'];
const BODY = { personidentifikatorer: [PERSON, UNKNOWN], inkluderIkkeRegistrerte: true };

/** Verifies the JWS with its first x5c certificate; its header and payload text. */
async function verifyWithX5c(jws: string): Promise<{ header: Record<string, unknown>; payload: string }> {
  const header = decodeProtectedHeader(jws) as Record<string, unknown>;
  const x5c = header.x5c as string[];
  assert.ok(Array.isArray(x5c) && x5c.length > 0, 'x5c is present');
  const certificate = new X509Certificate(Buffer.from(x5c[0]!, 'base64'));
  const { payload, protectedHeader } = await compactVerify(jws, certificate.publicKey, {
    algorithms: ['RS256'],
  });
  assert.equal(protectedHeader.alg, 'RS256');
  assert.equal(typeof protectedHeader.kid, 'string');
  return { header, payload: Buffer.from(payload).toString('utf8') };
}

function assertJose(res: LightMyRequestResponse): string {
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers['content-type'], 'application/jose');
  assert.match(res.body, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  return res.body;
}

describe('Accept header parsing', () => {
  it('finds application/jose anywhere in the list, with parameters, any letter case, unless q=0', () => {
    for (const accept of [
      'application/jose',
      'application/json, application/jose',
      'application/json;q=0.9, application/jose;q=0.5',
      ' APPLICATION/JOSE ; charset=utf-8',
    ]) {
      assert.equal(acceptsJose(accept), true, accept);
    }
    for (const accept of [
      undefined,
      '',
      '*/*',
      'application/json',
      'application/jose+json',
      'application/jose;q=0',
      'application/*',
    ]) {
      assert.equal(acceptsJose(accept), false, String(accept));
    }
  });
});

for (const kind of STORE_KINDS) {
  describe(`signed answers (${kind})`, { skip: await skipReason(kind) }, () => {
    let t: TestApp;
    let token: string;
    let personToken: string;
    before(async () => {
      t = await startTestApp(kind);
      await t.write([
        {
          personidentifikator: PERSON,
          status: 'AKTIV',
          reservasjon: 'NEI',
          kontaktinformasjon: { epostadresse: 'jose@example.no', mobiltelefonnummer: '+4791234567' },
          spraak: 'se',
        },
      ]);
      token = await t.token(SCOPES);
      personToken = await t.personToken(['krr:user/kontaktinformasjon.read'], PERSON);
    });
    after(async () => t?.close());

    const getPerson = (accept?: string) =>
      t.app.inject({
        method: 'GET',
        url: '/rest/v1/person',
        headers: { authorization: `Bearer ${personToken}`, ...(accept ? { accept } : {}) },
      });

    for (const path of ['/rest/v1/personer', '/rest/v2/personer']) {
      it(`signs ${path}: the payload is exactly the unsigned answer`, async () => {
        const plain = await t.post(path, BODY, token);
        assert.equal(plain.statusCode, 200);
        assert.equal(plain.headers['content-type'], 'application/json');
        assert.equal(plain.headers.vary, 'Accept');
        const signed = assertJose(
          await t.post(path, BODY, token, { accept: 'application/json, application/jose' }),
        );
        const { header, payload } = await verifyWithX5c(signed);
        assert.equal(payload, plain.body);
        assert.equal(header.alg, 'RS256');
        assert.ok((JSON.parse(payload) as { personer: unknown[] }).personer.length === 2);
      });
    }

    it('signs GET /rest/v1/person (one Person object)', async () => {
      const plain = await getPerson();
      const { payload } = await verifyWithX5c(assertJose(await getPerson('application/jose')));
      assert.equal(payload, plain.body);
      assert.equal((JSON.parse(payload) as { personidentifikator: string }).personidentifikator, PERSON);
    });

    it('answers JSON without application/jose, or with q=0', async () => {
      for (const accept of ['application/json', '*/*', 'application/jose;q=0']) {
        const res = await t.post('/rest/v2/personer', BODY, token, { accept });
        assert.equal(res.headers['content-type'], 'application/json', accept);
        assert.ok((JSON.parse(res.body) as { personer?: unknown }).personer);
      }
    });

    it('leaves errors as the JSON error body', async () => {
      const accept = { accept: 'application/jose' };
      assertErrorBody(await t.post('/rest/v2/personer', BODY, undefined, accept), 401);
      assertErrorBody(
        await t.post('/rest/v2/personer', { personidentifikatorer: ['123'] }, token, accept),
        422,
      );
      assertErrorBody(await t.post('/rest/v2/personer', '{bad', token, accept), 400);
      assertErrorBody(await t.app.inject({ method: 'GET', url: '/rest/v1/person', headers: accept }), 401);
    });

    it('does not sign other endpoints', async () => {
      const feedToken = await t.token(['krr:global/hentendring.read', ...SCOPES]);
      const res = await t.post('/rest/v2/krr/hentEndringer', { fraEndringsId: 0 }, feedToken, {
        accept: 'application/jose',
      });
      assert.equal(res.headers['content-type'], 'application/json');
    });

    it('keeps the dev key and certificate in the store: the same after a restart', async () => {
      const first = await devAnswerSigner(t.store.db);
      const second = await devAnswerSigner(t.store.db);
      assert.equal(first.kid, second.kid);
      assert.deepEqual(first.x5c, second.x5c);
      const { header } = await verifyWithX5c(assertJose(await getPerson('application/jose')));
      assert.equal(header.kid, first.kid);
      assert.deepEqual(header.x5c, first.x5c);
    });
  });
}

describe('an operator-configured answer signing key and certificate', () => {
  let dir: string;
  let signing: GeneratedCertificate;
  let issuerCert: GeneratedCertificate;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'krr-signing-'));
    [signing, issuerCert] = await Promise.all([
      generateSelfSignedCertificate({ commonName: 'KRR signing test', keyUsage: 'signing' }),
      generateSelfSignedCertificate({ commonName: 'Some CA', keyUsage: 'signing' }),
    ]);
    await writeFile(join(dir, 'key.pem'), signing.privateKeyPem);
    await writeFile(join(dir, 'chain.pem'), signing.certificatePem + issuerCert.certificatePem);
    await writeFile(join(dir, 'other-key.pem'), issuerCert.privateKeyPem);
    await writeFile(join(dir, 'garbage.pem'), 'not a pem');
    await writeFile(
      join(dir, 'krr.json'),
      JSON.stringify({ answerSigning: { keyFile: 'key.pem', certificateFile: 'chain.pem' } }),
    );
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('reads the files named in the config file, relative to it', () => {
    const config = loadConfig({ config: join(dir, 'krr.json') }, {});
    assert.deepEqual(config.answerSigning, {
      keyFile: join(dir, 'key.pem'),
      certificateFile: join(dir, 'chain.pem'),
    });
  });

  it('signs with the configured key, the chain in x5c with the signing certificate first', async () => {
    const t = await startTestApp('embedded', {
      env: {
        KRR_ANSWER_SIGNING_KEY_FILE: join(dir, 'key.pem'),
        KRR_ANSWER_SIGNING_CERTIFICATE_FILE: join(dir, 'chain.pem'),
      },
    });
    try {
      const token = await t.token(SCOPES);
      const res = await t.post('/rest/v2/personer', BODY, token, { accept: 'application/jose' });
      const { header } = await verifyWithX5c(assertJose(res));
      assert.deepEqual(header.x5c, [signing.certificateDerBase64, issuerCert.certificateDerBase64]);
    } finally {
      await t.close();
    }
  });

  it('fails at start when the key and certificate do not match or do not parse', async () => {
    const cases = [
      {
        keyFile: join(dir, 'other-key.pem'),
        certificateFile: join(dir, 'chain.pem'),
        why: /not the private key/,
      },
      { keyFile: join(dir, 'garbage.pem'), certificateFile: join(dir, 'chain.pem'), why: /cannot be read/ },
      { keyFile: join(dir, 'key.pem'), certificateFile: join(dir, 'garbage.pem'), why: /no PEM certificate/ },
      { keyFile: join(dir, 'missing.pem'), certificateFile: join(dir, 'chain.pem'), why: /cannot read/ },
    ];
    for (const { why, ...files } of cases) {
      await assert.rejects(answerSignerFromFiles(files), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, why);
        return true;
      });
    }
    assert.throws(
      () => loadConfig({}, { KRR_ANSWER_SIGNING_KEY_FILE: join(dir, 'key.pem') }),
      (err: unknown) => err instanceof ConfigError,
    );
  });

  it('makes a dev signer on a fresh store that signs exactly the bytes given', async () => {
    const store = await openTestStore('embedded');
    try {
      const signer = await devAnswerSigner(store.db);
      assert.equal(signer.x5c.length, 1);
      const { header, payload } = await verifyWithX5c(await signer.sign(Buffer.from('{"a":1}')));
      assert.equal(payload, '{"a":1}');
      assert.equal(header.kid, signer.kid);
    } finally {
      await store.dispose();
    }
  });
});

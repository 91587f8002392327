// Token attacks, over HTTP on every endpoint that takes a token, on both stores. The app
// trusts a real issuer over loopback (with an audience configured) beside the dev issuer. Every
// forged, stale or misdirected token is refused as docs/errors.md#statuses says (401 invalid_token and
// the error body; 503 when the issuer's keys cannot be had), and no answer carries any part of the
// token: not the whole, not one of its three segments, not an 11-character run of it.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import type { JWTPayload } from 'jose';
import type { LightMyRequestResponse } from 'fastify';
import { generateSelfSignedCertificate } from '../../src/certificate/certificate-generator.js';
import { makeIdentifier } from '../../src/identifier/identifier.generate.js';
import { ProviderService } from '../../src/provider/provider.service.js';
import { assertErrorBody } from '../support/error-body.js';
import { maskinportenClaims, newIssuerKey, startFakeIssuer } from '../support/fake-issuer.js';
import type { FakeIssuer } from '../support/fake-issuer.js';
import { skipReason, STORE_KINDS } from '../support/stores.js';
import { startTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';
import { MAX_TOKEN_BYTES } from '../../src/auth/token-verifier.js';

const AUDIENCE = 'https://krr.example.test/';
const PROVIDER = '984661185';
const PERSON = makeIdentifier({ day: 3, month: 4, year: 85 });
const SCOPES = [
  'krr:global/kontaktinformasjon.read',
  'krr:global/digitalpost.read',
  'krr:global/hentendring.read',
  'krr:global/postkasse.write',
].join(' ');

/** Every endpoint that takes a token, with a body it would answer. */
const ENDPOINTS: ReadonlyArray<{ url: string; body: unknown; ok: number }> = [
  { url: '/rest/v1/personer', body: { personidentifikatorer: [PERSON] }, ok: 200 },
  { url: '/rest/v2/personer', body: { personidentifikatorer: [PERSON] }, ok: 200 },
  { url: '/rest/v2/krr/hentEndringer', body: { fraEndringsId: 0 }, ok: 200 },
  { url: '/rest/v1/postkasse/kanVelge', body: { personidentifikator: PERSON }, ok: 200 },
  {
    url: '/rest/v1/postkasse/opprettOgVelg',
    body: { personidentifikator: PERSON, virksomhetsidentifikator: PROVIDER, postkasseadresse: 'x.y#AB12' },
    ok: 200,
  },
  {
    url: '/rest/v1/postkasse/oppdater',
    body: { personidentifikator: PERSON, virksomhetsidentifikator: PROVIDER, postkasseadresse: 'x.y#AB12' },
    ok: 200,
  },
  {
    url: '/rest/v1/postkasse/slett',
    body: { personidentifikator: PERSON, virksomhetsidentifikator: PROVIDER },
    ok: 200,
  },
];

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The answer as a whole: headers and body. */
const answerText = (res: LightMyRequestResponse) => `${JSON.stringify(res.headers)}\n${res.body}`;

/** Neither the token, nor any of its segments, nor any 11-character run of it is in the answer. */
function assertNoEcho(res: LightMyRequestResponse, token: string): void {
  const text = answerText(res);
  assert.ok(!text.includes(token), 'the answer echoes the token');
  for (const segment of token.split('.'))
    if (segment.length > 0) assert.ok(!text.includes(segment), 'the answer echoes a segment of the token');
  for (let i = 0; i + 11 <= token.length; i++) {
    const part = token.slice(i, i + 11);
    assert.ok(!text.includes(part), `the answer contains part of the token: ${JSON.stringify(part)}`);
  }
}

function assertRefused(res: LightMyRequestResponse, token: string, label: string): void {
  assert.equal(res.statusCode, 401, `${label}: ${res.statusCode} ${res.body}`);
  assertErrorBody(res, 401);
  const challenge = String(res.headers['www-authenticate']);
  assert.ok(challenge.startsWith('Bearer error="invalid_token"'), `${label}: ${challenge}`);
  assertNoEcho(res, token);
}

function assertUnavailable(res: LightMyRequestResponse, token: string, label: string): void {
  assert.equal(res.statusCode, 503, `${label}: ${res.statusCode} ${res.body}`);
  assertErrorBody(res, 503);
  assertNoEcho(res, token);
}

/** Tokens made by an attacker who knows everything the issuer publishes. */
async function attacks(idp: FakeIssuer): Promise<Array<[string, string]>> {
  const now = Math.floor(Date.now() / 1000);
  const key = idp.keys[0]!;
  const claims = (extra: JWTPayload = {}) =>
    maskinportenClaims(SCOPES, PROVIDER, {
      iss: idp.issuer,
      aud: AUDIENCE,
      iat: now,
      exp: now + 120,
      ...extra,
    });
  const good = await idp.sign(claims());
  const [h, p, s] = good.split('.') as [string, string, string];
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as JWTPayload;
  const hs256 = (secret: string | Uint8Array) =>
    new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', kid: key.kid })
      .sign(typeof secret === 'string' ? new TextEncoder().encode(secret) : secret);
  const untrusted = await newIssuerKey(key.kid);
  const narrow = await idp.sign(claims({ scope: 'openid' }));
  const [nh, np, ns] = narrow.split('.') as [string, string, string];
  const narrowPayload = JSON.parse(Buffer.from(np, 'base64url').toString('utf8')) as JWTPayload;
  const { privateKey: otherRsa } = await generateKeyPair('RS256');
  return [
    ['alg none', new UnsecuredJWT(claims()).encode()],
    ['alg none with a published kid and a signature', `${b64url({ alg: 'none', kid: key.kid })}.${p}.${s}`],
    ['alg NONE, in capitals', `${b64url({ alg: 'NONE', kid: key.kid })}.${p}.${s}`],
    ['HS256 keyed with the public key as PEM', await hs256(key.spkiPem)],
    ['HS256 keyed with the public JWK bytes', await hs256(JSON.stringify(key.publicJwk))],
    ['HS256 keyed with the modulus', await hs256(key.publicJwk.n!)],
    [
      'HS256 keyed with the DER public key',
      await hs256(Buffer.from(key.spkiPem.replace(/-----[^-]+-----|\s/g, ''), 'base64')),
    ],
    [
      'a good signature by an untrusted key under a published kid',
      await idp.sign(claims(), { key: untrusted, kid: key.kid }),
    ],
    [
      'a good signature by an untrusted key under its own kid',
      await idp.sign(claims(), { key: untrusted, kid: 'attacker' }),
    ],
    ['a wrong iss', await idp.sign(claims({ iss: 'https://maskinporten.no/' }))],
    ['an iss without its trailing slash', await idp.sign(claims({ iss: idp.base }))],
    ['no iss', await idp.sign(claims({ iss: undefined }))],
    ['an unknown kid', await idp.sign(claims(), { kid: 'unknown-kid' })],
    [
      'no kid, signed by another key',
      await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256' }).sign(otherRsa),
    ],
    ['expired', await idp.sign(claims({ iat: now - 900, exp: now - 600 }))],
    ['no exp', await idp.sign(claims({ exp: undefined }))],
    ['nbf in the future beyond the skew', await idp.sign(claims({ nbf: now + 600, exp: now + 900 }))],
    ['iat in the future beyond the skew', await idp.sign(claims({ iat: now + 600, exp: now + 900 }))],
    [
      'a tampered payload (another consumer)',
      `${h}.${b64url({ ...payload, consumer: { authority: 'iso6523-actorid-upis', ID: '0192:996460320' } })}.${s}`,
    ],
    ['a scope widened after signing', `${nh}.${b64url({ ...narrowPayload, scope: SCOPES })}.${ns}`],
    ['a header swapped after signing', `${b64url({ alg: 'RS512', kid: key.kid })}.${p}.${s}`],
    ['a signature cut short', `${h}.${p}.${s.slice(0, -10)}`],
    ['a token for another audience', await idp.sign(claims({ aud: 'https://other-service.example/' }))],
    ['a token for no audience', await idp.sign(claims({ aud: undefined }))],
    ['an oversized token (validly signed)', await idp.sign(claims({ padding: 'x'.repeat(MAX_TOKEN_BYTES) }))],
    ['an oversized garbage token', `${'A'.repeat(4 * MAX_TOKEN_BYTES)}.${p}.${s}`],
  ];
}

for (const kind of STORE_KINDS) {
  describe(`token attacks on every protected endpoint (${kind})`, { skip: await skipReason(kind) }, () => {
    let idp: FakeIssuer;
    let t: TestApp;
    let valid: string;
    let forged: Array<[string, string]>;

    before(async () => {
      idp = await startFakeIssuer();
      t = await startTestApp(kind, {
        verifier: {
          trustedIssuers: [{ issuer: idp.issuer, audience: AUDIENCE }],
          fetchTimeoutMs: 5000, // the issuer answers: generous, so a loaded machine cannot make it look down
          refreshCooldownMs: 0,
        },
      });
      const certificate = (
        await generateSelfSignedCertificate({ commonName: 'digipost', keyUsage: 'encryption' })
      ).certificateDerBase64;
      await new ProviderService(t.store.db).add({ orgno: PROVIDER, name: 'Digipost', certificate });
      await t.write([{ personidentifikator: PERSON, status: 'AKTIV', reservasjon: 'NEI' }]);
      valid = await idp.sign(maskinportenClaims(SCOPES, PROVIDER, { aud: AUDIENCE }));
      forged = await attacks(idp);
    });
    after(async () => {
      await t?.close();
      await idp?.close();
    });

    it('answers a valid token from the trusted issuer on every endpoint (the control)', async () => {
      for (const { url, body, ok } of ENDPOINTS) {
        const res = await t.post(url, body, valid);
        assert.equal(res.statusCode, ok, `${url}: ${res.body}`);
      }
    });

    it('refuses every forged, stale or misdirected token with 401 invalid_token, never echoing it', async () => {
      assert.ok(forged.length >= 25);
      for (const [label, token] of forged) {
        for (const { url, body } of ENDPOINTS) {
          assertRefused(await t.post(url, body, token), token, `${label} on ${url}`);
        }
      }
    });

    it('refuses an oversized Authorization header, and a token with junk around it, without echoing them', async () => {
      const huge = `Bearer ${valid}${'A'.repeat(64 * 1024)}`;
      for (const authorization of [
        huge,
        `Bearer ${valid}.${valid}`,
        `Bearer ${valid}"`,
        `Bearer ${valid}\u0000`,
      ]) {
        for (const { url, body } of ENDPOINTS) {
          const res = await t.post(url, body, undefined, { authorization });
          assertRefused(res, valid, `${authorization.length} characters on ${url}`);
        }
      }
    });

    it('over a real socket: a token over the header limit gets 431 with the error body, not echoed', async () => {
      const address = await t.app.listen({ host: '127.0.0.1', port: 0 });
      for (const size of [MAX_TOKEN_BYTES + 100, 64 * 1024]) {
        const token = `${valid}${'A'.repeat(size - valid.length)}`;
        const res = await fetch(`${address}/rest/v2/personer`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ personidentifikatorer: [PERSON] }),
        });
        const body = await res.text();
        const headers = Object.fromEntries(res.headers);
        assertErrorBody({ statusCode: res.status, headers, body }, 431);
        const text = `${JSON.stringify(headers)}\n${body}`;
        for (let i = 0; i + 11 <= valid.length; i++) assert.ok(!text.includes(valid.slice(i, i + 11)));
        assert.ok(!text.includes('AAAAAAAAAAA'));
      }
    });

    it('keeps the token out of the answer also when it is refused for its scope (403)', async () => {
      const unrelated = await idp.sign(maskinportenClaims('openid', PROVIDER, { aud: AUDIENCE }));
      for (const { url, body } of ENDPOINTS) {
        const res = await t.post(url, body, unrelated);
        assertErrorBody(res, 403);
        assertNoEcho(res, unrelated);
      }
    });
  });

  describe(`the issuer's keys unreachable (${kind})`, { skip: await skipReason(kind) }, () => {
    let idp: FakeIssuer;
    let t: TestApp;

    before(async () => {
      idp = await startFakeIssuer();
      t = await startTestApp(kind, {
        verifier: {
          trustedIssuers: [{ issuer: idp.issuer }],
          fetchTimeoutMs: 1000, // short, as the hanging issuer costs each request this long
          refreshCooldownMs: 0,
        },
      });
      await t.write([{ personidentifikator: PERSON, status: 'AKTIV', reservasjon: 'NEI' }]);
    });
    after(async () => {
      await t?.close();
      await idp?.close();
    });

    const lookups = ENDPOINTS.slice(0, 3);

    it('with no keys cached: 503 with the error body on every endpoint, whether the issuer is stopped, failing or hanging', async () => {
      const token = await idp.sign(maskinportenClaims(SCOPES, PROVIDER));
      for (const outage of ['stopped', 'error', 'hang'] as const) {
        if (outage === 'stopped') await idp.stop();
        else idp.mode = outage;
        for (const { url, body } of ENDPOINTS)
          assertUnavailable(await t.post(url, body, token), token, `${outage}: ${url}`);
        if (outage === 'stopped') await idp.start();
        idp.mode = 'up';
      }
    });

    it('with keys cached: tokens signed with them keep working while the issuer is down; a new kid gets 503, then works when it is back', async () => {
      const token = await idp.sign(maskinportenClaims(SCOPES, PROVIDER));
      for (const { url, body, ok } of lookups) assert.equal((await t.post(url, body, token)).statusCode, ok);
      await idp.stop();
      try {
        for (const { url, body, ok } of lookups) {
          const res = await t.post(url, body, token);
          assert.equal(res.statusCode, ok, `${url} while the issuer is down: ${res.body}`);
        }
        const rotated = await idp.rotate(true);
        const fresh = await idp.sign(maskinportenClaims(SCOPES, PROVIDER), { key: rotated });
        for (const { url, body } of lookups) assertUnavailable(await t.post(url, body, fresh), fresh, url);
        await idp.start();
        for (const { url, body, ok } of lookups)
          assert.equal((await t.post(url, body, fresh)).statusCode, ok);
      } finally {
        await idp.start().catch(() => {});
      }
    });
  });
}

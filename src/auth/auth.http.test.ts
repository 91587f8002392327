// Tokens (docs/tokens.md#resource-server) and their errors (docs/errors.md#statuses) through HTTP: how
// the lookup endpoint answers missing, malformed, expired, forged and under-scoped bearer tokens, on
// both stores. Error answers have the error body (docs/errors.md#error-body), `Content-Type:
// application/json`, the right WWW-Authenticate challenge, and never echo the token.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import type { LightMyRequestResponse } from 'fastify';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import { skipReason, STORE_KINDS } from '../../test/support/stores.js';
import { startTestApp, TEST_ISSUER } from '../../test/support/test-app.js';
import type { TestApp } from '../../test/support/test-app.js';

const URL_V2 = '/rest/v2/personer';
const DATA_SCOPE = 'krr:global/kontaktinformasjon.read';
const UNRELATED = ['openid', 'krr:global/hentendring.read'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const PERSON = makeIdentifier({ day: 27, month: 12, year: 93 });
const UNKNOWN = makeIdentifier({ day: 6, month: 6, year: 84 });
const BODY = { personidentifikatorer: [PERSON, UNKNOWN] };

/** No run of more than 10 characters of the token appears in the text. */
function assertNoTokenPart(text: string, token: string): void {
  for (let i = 0; i + 11 <= token.length; i++) {
    const part = token.slice(i, i + 11);
    assert.ok(!text.includes(part), `the answer contains part of the token: ${JSON.stringify(part)}`);
  }
}

/** The answer as a whole: status line headers and body. */
function answerText(res: LightMyRequestResponse): string {
  return `${JSON.stringify(res.headers)}\n${res.body}`;
}

function assertErrorAnswer(res: LightMyRequestResponse, status: number): { title: string; detail: string } {
  assert.equal(res.statusCode, status, res.body);
  assert.equal(res.headers['content-type'], 'application/json');
  const body = JSON.parse(res.body) as {
    errors: { id: string; status: string; title: string; detail: string }[];
  };
  assert.deepEqual(Object.keys(body), ['errors']);
  assert.equal(body.errors.length, 1);
  const [error] = body.errors;
  assert.match(error!.id, UUID);
  assert.equal(error!.status, String(status));
  assert.equal(typeof error!.title, 'string');
  assert.ok(error!.title.length > 0);
  assert.equal(typeof error!.detail, 'string');
  assert.ok(error!.detail.length > 0);
  return error!;
}

function assertInvalidToken(res: LightMyRequestResponse, token?: string): void {
  const error = assertErrorAnswer(res, 401);
  assert.equal(error.title, 'Unauthorized');
  const challenge = res.headers['www-authenticate'];
  assert.equal(typeof challenge, 'string');
  assert.ok((challenge as string).startsWith('Bearer error="invalid_token"'), String(challenge));
  if (token) assertNoTokenPart(answerText(res), token);
}

for (const kind of STORE_KINDS) {
  describe(`bearer tokens on the lookup endpoint (${kind})`, { skip: await skipReason(kind) }, () => {
    let t: TestApp;
    let dataToken: string;

    before(async () => {
      t = await startTestApp(kind);
      await t.write([{ personidentifikator: PERSON, status: 'AKTIV', reservasjon: 'NEI' }]);
      dataToken = await t.token([DATA_SCOPE]);
    });
    after(async () => t?.close());

    const withAuthorization = (authorization: string) => t.post(URL_V2, BODY, undefined, { authorization });

    it('answers a valid token with a data scope', async () => {
      const res = await t.post(URL_V2, BODY, dataToken);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['content-type'], 'application/json');
      assert.equal(res.headers['www-authenticate'], undefined);
      const body = JSON.parse(res.body) as { personer: { personidentifikator: string; status: string }[] };
      assert.deepEqual(
        body.personer.map((p) => [p.personidentifikator, p.status]),
        [[PERSON, 'AKTIV']],
      );
    });

    it('refuses a request without an Authorization header: 401, invalid_token, the error body', async () => {
      const res = await t.post(URL_V2, BODY);
      assertInvalidToken(res);
    });

    it('refuses other schemes and malformed Bearer credentials', async () => {
      const basic = `Basic ${Buffer.from('client:secret').toString('base64')}`;
      for (const authorization of [
        basic,
        `Token ${dataToken}`,
        dataToken,
        'Bearer',
        'Bearer ',
        `Bearer ${dataToken} ${dataToken}`,
        `Bearer ${dataToken},x`,
        `Bearer\u00a0${dataToken}`,
        `Bearer${dataToken}`,
      ]) {
        const res = await withAuthorization(authorization);
        assertInvalidToken(res, dataToken);
      }
    });

    it('accepts the scheme in any letter case and extra blanks around the token', async () => {
      for (const authorization of [
        `bearer ${dataToken}`,
        `BEARER ${dataToken}`,
        `Bearer  ${dataToken}`,
        `Bearer ${dataToken} `,
      ]) {
        const res = await withAuthorization(authorization);
        assert.equal(res.statusCode, 200, `${authorization.slice(0, 8)}: ${res.body}`);
      }
    });

    it('answers 403 insufficient_scope to a valid token with only unrelated scopes', async () => {
      const token = await t.token(UNRELATED);
      const res = await t.post(URL_V2, BODY, token);
      const error = assertErrorAnswer(res, 403);
      assert.equal(error.title, 'Forbidden');
      assert.ok(String(res.headers['www-authenticate']).startsWith('Bearer error="insufficient_scope"'));
      assertNoTokenPart(answerText(res), token);
    });

    it('answers 403 to a valid token with no scope at all', async () => {
      const res = await t.post(URL_V2, BODY, await t.token([]));
      assertErrorAnswer(res, 403);
    });

    it('answers a token with an unrelated scope beside a data scope', async () => {
      for (const scopes of [
        [...UNRELATED, DATA_SCOPE],
        [DATA_SCOPE, 'krr:global/hentendring.read'],
        ['krr:global/digitalpost.read', 'openid'],
      ]) {
        const res = await t.post(URL_V2, BODY, await t.token(scopes));
        assert.equal(res.statusCode, 200, `${scopes.join(' ')}: ${res.body}`);
      }
    });

    it('refuses an expired token', async () => {
      const token = await t.token([DATA_SCOPE], { expiresInSeconds: -120 });
      const res = await t.post(URL_V2, BODY, token);
      assertInvalidToken(res, token);
      assert.match((JSON.parse(res.body) as { errors: { detail: string }[] }).errors[0]!.detail, /expired/);
    });

    it('refuses a token from another issuer, a forged signature, alg none and a tampered scope', async () => {
      const { privateKey } = await generateKeyPair('RS256');
      const claims = {
        scope: DATA_SCOPE,
        client_id: 'x',
        consumer: { authority: 'iso6523-actorid-upis', ID: '0192:991825827' },
      };
      const forged = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'krr-test-key' })
        .setIssuer(TEST_ISSUER)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
      const otherIssuer = await t.token([DATA_SCOPE], { issuer: 'https://maskinporten.no/' });
      const none = new UnsecuredJWT(claims)
        .setIssuer(TEST_ISSUER)
        .setIssuedAt()
        .setExpirationTime('5m')
        .encode();
      const narrow = await t.token(['openid']);
      const [h, p, s] = narrow.split('.') as [string, string, string];
      const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
      const widened = `${h}.${Buffer.from(JSON.stringify({ ...payload, scope: `openid ${DATA_SCOPE}` })).toString('base64url')}.${s}`;
      for (const token of [forged, otherIssuer, none, widened]) {
        const res = await withAuthorization(`Bearer ${token}`);
        assertInvalidToken(res, token);
      }
    });

    it('refuses garbage and oversized tokens without echoing them', async () => {
      for (const token of [
        'not-a-jwt',
        'a.b.c',
        `${'A'.repeat(20_000)}.b.c`,
        `${dataToken.slice(0, -10)}AAAAAAAAAA`,
      ]) {
        const res = await withAuthorization(`Bearer ${token}`);
        assertInvalidToken(res, token);
      }
    });

    it('never puts the token in an error answer, whatever the failure', async () => {
      const expired = await t.token([DATA_SCOPE], { expiresInSeconds: -3600 });
      const unrelated = await t.token(UNRELATED);
      for (const [token, status] of [
        [expired, 401],
        [unrelated, 403],
      ] as const) {
        const res = await t.post(URL_V2, BODY, token);
        assert.equal(res.statusCode, status);
        assertNoTokenPart(answerText(res), token);
      }
    });

    it('checks the token before the body: no 400/413/422 to a caller without a usable token', async () => {
      const unrelated = await t.token(UNRELATED);
      const tooLarge = { personidentifikatorer: ['x'.repeat(t.config.http.bodyLimitBytes)] };
      for (const body of [
        '{not json',
        { personidentifikatorer: [] },
        { personidentifikatorer: ['12345678901'] },
        tooLarge,
      ]) {
        assertInvalidToken(await t.post(URL_V2, body));
        assertErrorAnswer(await t.post(URL_V2, body, unrelated), 403);
      }
      assert.equal((await t.post(URL_V2, '{not json', dataToken)).statusCode, 400);
    });

    it('guards v1 the same way', async () => {
      assertInvalidToken(await t.post('/rest/v1/personer', BODY));
      assertErrorAnswer(await t.post('/rest/v1/personer', BODY, await t.token(UNRELATED)), 403);
      assert.equal((await t.post('/rest/v1/personer', BODY, dataToken)).statusCode, 200);
    });
  });
}

// IdportenService without HTTP: code lifetime on a moved clock, bounds, and the tokens' claims.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { OAuthError } from '../errors/errors.js';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import { IdportenService } from './idporten.service.js';

const PID = makeIdentifier({ day: 5, month: 5, year: 55 });
const REDIRECT = 'https://client.example/cb';

async function service(now: () => number) {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid: 'k1', alg: 'RS256' };
  return new IdportenService({
    issuer: 'http://127.0.0.1:8080/idporten',
    clients: [{ clientId: 'c', redirectUris: [REDIRECT] }],
    privateJwk,
    identifierRules: { allowSynthetic: true },
    now,
    codeTtlSeconds: 60,
  });
}

function codeFrom(location: string): string {
  return new URL(location).searchParams.get('code')!;
}

function codeAndVerifier(s: IdportenService) {
  const verifier = randomBytes(32).toString('base64url');
  const started = s.authorize({
    response_type: 'code',
    client_id: 'c',
    redirect_uri: REDIRECT,
    scope: 'openid krr:user/spraak.write',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  assert.equal(started.kind, 'sign-in');
  const done = s.complete(started.kind === 'sign-in' ? started.requestId : '', { pid: PID });
  assert.equal(done.kind, 'redirect');
  return { code: codeFrom(done.kind === 'redirect' ? done.location : ''), verifier };
}

describe('IdportenService', () => {
  it('refuses a code after its lifetime, and takes it just before', async () => {
    let now = 1_700_000_000_000;
    const s = await service(() => now);
    const late = codeAndVerifier(s);
    const inTime = codeAndVerifier(s);
    now += 59_000;
    const answer = await s.exchange(
      { grant_type: 'authorization_code', client_id: 'c', redirect_uri: REDIRECT, ...pair(inTime) },
      undefined,
    );
    assert.equal(decodeJwt(answer.access_token).pid, PID);
    now += 1_000;
    await assert.rejects(
      s.exchange(
        { grant_type: 'authorization_code', client_id: 'c', redirect_uri: REDIRECT, ...pair(late) },
        undefined,
      ),
      (err: unknown) => err instanceof OAuthError && err.error === 'invalid_grant',
    );
  });

  it('lets a pending sign-in expire', async () => {
    let now = 1_700_000_000_000;
    const s = await service(() => now);
    const started = s.authorize({
      response_type: 'code',
      client_id: 'c',
      redirect_uri: REDIRECT,
      scope: 'openid',
      code_challenge: 'a'.repeat(43),
      code_challenge_method: 'S256',
    });
    assert.equal(started.kind, 'sign-in');
    now += 16 * 60_000;
    assert.equal(
      s.complete(started.kind === 'sign-in' ? started.requestId : '', { pid: PID }).kind,
      'expired',
    );
  });

  it('refuses repeated query parameters as an OAuth error redirect', async () => {
    const s = await service(() => Date.now());
    const outcome = s.authorize({ client_id: 'c', redirect_uri: REDIRECT, scope: ['openid', 'openid'] });
    assert.equal(outcome.kind, 'redirect');
    assert.equal(
      new URL(outcome.kind === 'redirect' ? outcome.location : REDIRECT).searchParams.get('error'),
      'invalid_request',
    );
  });
});

function pair(x: { code: string; verifier: string }) {
  return { code: x.code, code_verifier: x.verifier };
}

// VerifiedTokenCache: a verified token is answered from memory until its exp, never past it;
// refusals are not remembered; the map stays bounded. The verifier is a double of our own code.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnsecuredJWT } from 'jose';
import { InvalidTokenError } from '../errors/errors.js';
import type { AccessToken } from '../access/access-token.js';
import { VerifiedTokenCache } from './token-cache.js';

const ACCESS: AccessToken = {
  issuerKind: 'maskinporten',
  issuer: 'https://issuer.test/',
  clientId: 'c',
  scopes: ['krr:global/kontaktinformasjon.read'],
  consumer: '991825827',
  supplier: null,
  pid: null,
};

/** A JWT-shaped string with the given exp (the double verifier does not check signatures). */
function tokenWithExp(exp: number, jti: string): string {
  return new UnsecuredJWT({ exp, jti }).encode();
}

function countingVerifier(refuse = new Set<string>()) {
  const calls: string[] = [];
  return {
    calls,
    verifier: {
      verify(token: string): Promise<AccessToken> {
        calls.push(token);
        if (refuse.has(token)) return Promise.reject(new InvalidTokenError('the access token has expired'));
        return Promise.resolve(ACCESS);
      },
    },
  };
}

describe('VerifiedTokenCache', () => {
  it('verifies a token once and answers it from memory until exp', async () => {
    let now = 1_000_000_000_000;
    const { calls, verifier } = countingVerifier();
    const cache = new VerifiedTokenCache(verifier, 10, () => now);
    const token = tokenWithExp(now / 1000 + 60, 'a');
    assert.equal(await cache.verify(token), ACCESS);
    assert.equal(await cache.verify(token), ACCESS);
    assert.equal(calls.length, 1);
    now += 59_999;
    await cache.verify(token);
    assert.equal(calls.length, 1);
    now += 1; // exp reached: verified again (and the verifier decides)
    await cache.verify(token);
    assert.equal(calls.length, 2);
  });

  it('does not remember refusals', async () => {
    const token = tokenWithExp(Date.now() / 1000 + 60, 'refused');
    const { calls, verifier } = countingVerifier(new Set([token]));
    const cache = new VerifiedTokenCache(verifier);
    await assert.rejects(cache.verify(token), InvalidTokenError);
    await assert.rejects(cache.verify(token), InvalidTokenError);
    assert.equal(calls.length, 2);
  });

  it('keys on the exact token text, and stays bounded', async () => {
    const { calls, verifier } = countingVerifier();
    const cache = new VerifiedTokenCache(verifier, 3);
    const exp = Date.now() / 1000 + 600;
    const tokens = ['1', '2', '3', '4'].map((j) => tokenWithExp(exp, j));
    for (const t of tokens) await cache.verify(t);
    assert.equal(calls.length, 4);
    await cache.verify(tokens[3]!); // still there
    assert.equal(calls.length, 4);
    await cache.verify(tokens[0]!); // the oldest went when the fourth came
    assert.equal(calls.length, 5);
    await cache.verify(`${tokens[1]!}x`); // not the same text: verified
    assert.equal(calls.length, 6);
  });
});

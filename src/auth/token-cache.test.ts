// VerifiedTokenCache (docs/tokens.md#verified-token-cache): a verified token is answered from
// memory until its exp, the key set's refresh or 5 minutes, whichever is first, and not once the key
// set is replaced; refusals are not remembered; the map stays bounded. The verifier is a double of
// our own code (the real one, with a real JWKS server, in test/robustness/withdrawn-key.test.ts).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnsecuredJWT } from 'jose';
import { InvalidTokenError } from '../errors/errors.js';
import type { AccessToken } from '../access/access-token.js';
import { MAX_REMEMBER_MS, VerifiedTokenCache } from './token-cache.js';
import type { KeySetLease, LeasedVerification } from './token-verifier.js';

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

/** A key set that is fresh until `freshUntil` and current until `replaced` is set. */
function keySet(freshUntil = Number.POSITIVE_INFINITY) {
  const state = { replaced: false };
  const lease: KeySetLease = { freshUntil, current: () => !state.replaced };
  return { lease, state };
}

function countingVerifier(refuse = new Set<string>(), keys: KeySetLease = keySet().lease) {
  const calls: string[] = [];
  return {
    calls,
    verifier: {
      verifyLeased(token: string): Promise<LeasedVerification> {
        calls.push(token);
        if (refuse.has(token)) return Promise.reject(new InvalidTokenError('the access token has expired'));
        return Promise.resolve({ token: ACCESS, keys });
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

  it('remembers a verification at most 5 minutes, also for a token that expires in 2100', async () => {
    let now = 1_000_000_000_000;
    const { calls, verifier } = countingVerifier();
    const cache = new VerifiedTokenCache(verifier, 10, () => now);
    const token = tokenWithExp(Date.UTC(2100, 0, 1) / 1000, 'far');
    await cache.verify(token);
    now += MAX_REMEMBER_MS - 1;
    await cache.verify(token);
    assert.equal(calls.length, 1);
    now += 1;
    await cache.verify(token);
    assert.equal(calls.length, 2, 'verified again after 5 minutes');
    assert.equal(MAX_REMEMBER_MS, 5 * 60_000);
  });

  it('remembers a verification no longer than the key set that verified it is fresh and current', async () => {
    let now = 1_000_000_000_000;
    const fresh = keySet(now + 10_000);
    const { calls, verifier } = countingVerifier(new Set(), fresh.lease);
    const cache = new VerifiedTokenCache(verifier, 10, () => now);
    const token = tokenWithExp(now / 1000 + 3600, 'keys');
    await cache.verify(token);
    now += 9_999;
    await cache.verify(token);
    assert.equal(calls.length, 1);
    now += 1; // the key set is due for its refresh: the verifier decides again
    await cache.verify(token);
    assert.equal(calls.length, 2);

    const replaced = keySet();
    const second = countingVerifier(new Set(), replaced.lease);
    const other = new VerifiedTokenCache(second.verifier, 10, () => now);
    await other.verify(token);
    await other.verify(token);
    assert.equal(second.calls.length, 1);
    replaced.state.replaced = true; // refetched (a key rotated or withdrawn): verified again
    await other.verify(token);
    assert.equal(second.calls.length, 2);
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

// Load: the per-client rate limit (429, docs/operations.md#rate-limit) and load shedding (503,
// docs/operations.md#load-shedding), answered at once with the error body (docs/errors.md#error-body)
// and Retry-After, on both stores. Driven deterministically: a window long
// enough never to roll over during the test, and an in-flight bound filled by requests the test
// holds open itself.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { loadConfig } from '../config/config.js';
import { ConfigError } from '../errors/errors.js';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import { assertErrorBody } from '../../test/support/error-body.js';
import { skipReason, STORE_KINDS } from '../../test/support/stores.js';
import { startTestApp } from '../../test/support/test-app.js';
import type { TestApp } from '../../test/support/test-app.js';

const SCOPE = 'krr:global/kontaktinformasjon.read';
const PERSON = makeIdentifier({ day: 14, month: 2, year: 88 });
const BODY = { personidentifikatorer: [PERSON] };
const LIMIT = 3;

function assertRetryAfter(res: LightMyRequestResponse): void {
  const retryAfter = Number(res.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After: ${res.headers['retry-after']}`);
}

for (const kind of STORE_KINDS) {
  describe(`the per-client rate limit (${kind})`, { skip: await skipReason(kind) }, () => {
    let t: TestApp;
    let alice: string;
    let bob: string;

    before(async () => {
      t = await startTestApp(kind, {
        env: { KRR_RATE_LIMIT_MAX: String(LIMIT), KRR_RATE_LIMIT_WINDOW_SECONDS: '3600' },
      });
      await t.write([{ personidentifikator: PERSON, status: 'AKTIV', reservasjon: 'NEI' }]);
      alice = await t.token([SCOPE], { clientId: 'alice', consumer: '991825827' });
      bob = await t.token([SCOPE], { clientId: 'bob', consumer: '974760673' });
    });
    after(async () => t?.close());

    it('answers a client over its limit 429 with the error body and Retry-After, while another client still gets 200', async () => {
      for (let i = 0; i < LIMIT; i++)
        assert.equal((await t.post('/rest/v2/personer', BODY, alice)).statusCode, 200);
      const refused = await t.post('/rest/v2/personer', BODY, alice);
      const [error] = assertErrorBody(refused, 429);
      assert.equal(error!.title, 'Too Many Requests');
      assertRetryAfter(refused);
      for (const segment of alice.split('.')) assert.ok(!refused.body.includes(segment));
      // The limit is the client's, not its token's, nor the endpoint's.
      const again = await t.token([SCOPE], { clientId: 'alice', consumer: '991825827' });
      assertErrorBody(await t.post('/rest/v1/personer', BODY, again), 429);
      assert.equal((await t.post('/rest/v2/personer', BODY, bob)).statusCode, 200);
    });

    it("does not count refused tokens: a forged token naming a client does not spend that client's allowance", async () => {
      const [h, p] = bob.split('.') as [string, string, string];
      const forged = `${h}.${p}.${'A'.repeat(342)}`;
      for (let i = 0; i < LIMIT + 2; i++)
        assert.equal((await t.post('/rest/v2/personer', BODY, forged)).statusCode, 401);
      // bob used one request above; two remain.
      assert.equal((await t.post('/rest/v2/personer', BODY, bob)).statusCode, 200);
      assert.equal((await t.post('/rest/v2/personer', BODY, bob)).statusCode, 200);
      assertErrorBody(await t.post('/rest/v2/personer', BODY, bob), 429);
    });

    it('counts callers without a token by address, and never limits liveness', async () => {
      const print = () => t.app.inject({ method: 'GET', url: '/rest/v2/printSertifikat' });
      for (let i = 0; i < LIMIT; i++) assert.notEqual((await print()).statusCode, 429);
      assertErrorBody(await print(), 429);
      for (let i = 0; i < LIMIT + 2; i++)
        assert.equal((await t.app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200);
    });
  });

  describe(`load shedding (${kind})`, { skip: await skipReason(kind) }, () => {
    const MAX_IN_FLIGHT = 2;
    let t: TestApp;
    let release: () => void = () => {};
    let gate: Promise<void>;
    let entered = 0;
    let enteredAll: () => void = () => {};

    before(async () => {
      t = await startTestApp(kind, { env: { KRR_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT) } });
      // A route of the test's own whose answer it holds back: the requests in flight it controls.
      t.app.get('/test/held', async () => {
        entered++;
        if (entered === MAX_IN_FLIGHT) enteredAll();
        await gate;
        return { held: true };
      });
      await t.write([{ personidentifikator: PERSON, status: 'AKTIV', reservasjon: 'NEI' }]);
    });
    after(async () => {
      release();
      await t?.close();
    });

    it('answers 503 with the error body and Retry-After at once while the in-flight bound is full, and serves again after', async () => {
      gate = new Promise<void>((resolve) => (release = resolve));
      const allIn = new Promise<void>((resolve) => (enteredAll = resolve));
      const held = Array.from({ length: MAX_IN_FLIGHT }, () =>
        t.app.inject({ method: 'GET', url: '/test/held' }),
      );
      await allIn;
      const token = await t.token([SCOPE]);
      const shed = await t.post('/rest/v2/personer', BODY, token);
      const [error] = assertErrorBody(shed, 503);
      assert.equal(error!.title, 'Service Unavailable');
      assertRetryAfter(shed);
      // Shed before the token is looked at: a bad token gets 503 too, not 401.
      assertErrorBody(await t.post('/rest/v2/personer', BODY, 'not.a.token'), 503);
      assert.equal((await t.app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200);

      release();
      for (const res of await Promise.all(held)) assert.equal(res.statusCode, 200);
      assert.equal((await t.post('/rest/v2/personer', BODY, token)).statusCode, 200);
      // The shed requests did not take places: the bound is as wide as before.
      entered = 0;
      gate = new Promise<void>((resolve) => (release = resolve));
      const allInAgain = new Promise<void>((resolve) => (enteredAll = resolve));
      const heldAgain = Array.from({ length: MAX_IN_FLIGHT }, () =>
        t.app.inject({ method: 'GET', url: '/test/held' }),
      );
      await allInAgain;
      assertErrorBody(await t.post('/rest/v2/personer', BODY, token), 503);
      release();
      for (const res of await Promise.all(heldAgain)) assert.equal(res.statusCode, 200);
    });
  });
}

describe('traffic limits in the configuration', () => {
  it('reads the rate limit and the overload bounds from the environment, over the defaults', () => {
    const defaults = loadConfig({}, {});
    assert.equal(defaults.rateLimit, undefined);
    assert.deepEqual(defaults.overload, { maxInFlight: 1024, maxEventLoopDelayMs: 0 });
    const set = loadConfig(
      {},
      {
        KRR_RATE_LIMIT_MAX: '50',
        KRR_RATE_LIMIT_WINDOW_SECONDS: '10',
        KRR_MAX_IN_FLIGHT: '64',
        KRR_MAX_EVENT_LOOP_DELAY_MS: '250',
      },
    );
    assert.deepEqual(set.rateLimit, { max: 50, windowSeconds: 10 });
    assert.deepEqual(set.overload, { maxInFlight: 64, maxEventLoopDelayMs: 250 });
    assert.deepEqual(loadConfig({}, { KRR_RATE_LIMIT_MAX: '5' }).rateLimit, { max: 5, windowSeconds: 1 });
  });

  it('refuses limits that are not whole positive numbers', () => {
    for (const env of [
      { KRR_RATE_LIMIT_MAX: '0' },
      { KRR_RATE_LIMIT_MAX: 'many' },
      { KRR_RATE_LIMIT_MAX: '5', KRR_RATE_LIMIT_WINDOW_SECONDS: '1.5' },
      { KRR_MAX_IN_FLIGHT: '-1' },
      { KRR_MAX_EVENT_LOOP_DELAY_MS: '-5' },
    ])
      assert.throws(() => loadConfig({}, env), ConfigError, JSON.stringify(env));
  });
});

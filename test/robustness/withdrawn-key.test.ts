// A key the issuer withdraws from its JWKS stops being accepted on every route, also on the lookup
// routes, which remember verified tokens (docs/tokens.md#verified-token-cache): a remembered
// verification lives at most as long as the key set it was checked against. The attack: a token
// with `exp` in 2100, signed with a key the issuer has since withdrawn, kept working on the cached
// routes while the others refused it. The issuer is a real HTTP server (node:http) serving the
// JWKS; both stores.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeIdentifier } from '../../src/identifier/identifier.generate.js';
import { maskinportenClaims, startFakeIssuer } from '../support/fake-issuer.js';
import type { FakeIssuer } from '../support/fake-issuer.js';
import { skipReason, STORE_KINDS } from '../support/stores.js';
import { startTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';

const PERSON = makeIdentifier({ day: 3, month: 4, year: 85 });
const SCOPES = 'krr:global/kontaktinformasjon.read krr:global/hentendring.read';
/** The verifier's key set is refreshed (in the background) once it is this old. */
const KEYS_MAX_AGE_MS = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const kind of STORE_KINDS) {
  describe(`a withdrawn signing key (${kind})`, { skip: await skipReason(kind) }, () => {
    let idp: FakeIssuer;
    let t: TestApp;

    before(async () => {
      idp = await startFakeIssuer();
      t = await startTestApp(kind, {
        verifier: {
          trustedIssuers: [{ issuer: idp.issuer }],
          keysMaxAgeMs: KEYS_MAX_AGE_MS,
          refreshCooldownMs: 0,
          fetchTimeoutMs: 1000,
        },
      });
      await t.write([{ personidentifikator: PERSON, status: 'AKTIV', reservasjon: 'NEI' }]);
    });
    after(async () => {
      await t?.close();
      await idp?.close();
    });

    const lookup = (token: string) => t.post('/rest/v2/personer', { personidentifikatorer: [PERSON] }, token);
    const feed = (token: string) => t.post('/rest/v2/krr/hentEndringer', { fraEndringsId: 0 }, token);

    it('answers 401 on the cached lookup routes, as on the others, once the key is gone from the JWKS', async () => {
      const exp2100 = Math.floor(Date.UTC(2100, 0, 1) / 1000);
      const token = await idp.sign(maskinportenClaims(SCOPES, '991825827', { exp: exp2100 }));
      // Verified once, then remembered by the lookup routes.
      for (let i = 0; i < 3; i++) assert.equal((await lookup(token)).statusCode, 200);
      assert.equal((await feed(token)).statusCode, 200);

      await idp.rotate(); // the signing key withdrawn: the JWKS now holds only a new one
      const deadline = Date.now() + 20 * KEYS_MAX_AGE_MS;
      let status = 0;
      let feedStatus = 0;
      while (Date.now() < deadline) {
        feedStatus = (await feed(token)).statusCode;
        status = (await lookup(token)).statusCode;
        if (status === 401) break;
        await sleep(50);
      }
      assert.equal(
        status,
        401,
        `${20 * KEYS_MAX_AGE_MS} ms after its key was withdrawn, the lookup route answered ${status} and the feed ${feedStatus}`,
      );
      for (let i = 0; i < 3; i++) {
        const res = await lookup(token);
        assert.equal(res.statusCode, 401);
        assert.match(String(res.headers['www-authenticate']), /invalid_token/);
      }
      assert.equal(
        (await t.post('/rest/v1/personer', { personidentifikatorer: [PERSON] }, token)).statusCode,
        401,
      );
      assert.equal((await feed(token)).statusCode, 401);

      // A token signed with the key the issuer publishes now is taken.
      const fresh = await idp.sign(maskinportenClaims(SCOPES, '991825827', { exp: exp2100 }));
      assert.equal((await lookup(fresh)).statusCode, 200);
    });
  });
}

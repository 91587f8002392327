// Issuer kinds (docs/tokens.md#issuer-kinds), over HTTP on both stores: the lookups, the change feed
// and the mailbox operations take only tokens from an issuer configured as Maskinporten, and
// `/rest/v1/person` only tokens from an issuer configured as ID-porten. The app trusts two issuers
// over loopback beside the dev issuers: one spelled out without a kind (so Maskinporten), one with
// `kind: "idporten"`. The dev ID-porten sign-in grants no Maskinporten scope
// (docs/tokens.md#dev-id-porten-sign-in).

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { generateSelfSignedCertificate } from '../../src/certificate/certificate-generator.js';
import { makeIdentifier } from '../../src/identifier/identifier.generate.js';
import { ProviderService } from '../../src/provider/provider.service.js';
import { assertErrorBody } from '../support/error-body.js';
import { maskinportenClaims, startFakeIssuer } from '../support/fake-issuer.js';
import type { FakeIssuer } from '../support/fake-issuer.js';
import { skipReason, STORE_KINDS } from '../support/stores.js';
import { startTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';

const PROVIDER = '984661185';
const PERSON = makeIdentifier({ day: 9, month: 10, year: 81 });
const GLOBAL_SCOPES = [
  'krr:global/kontaktinformasjon.read',
  'krr:global/digitalpost.read',
  'krr:global/hentendring.read',
  'krr:global/postkasse.write',
].join(' ');
const USER_SCOPES = 'krr:user/kontaktinformasjon.read krr:user/spraak.write';

/** The Maskinporten endpoints, each with a body it answers 200. */
const MASKINPORTEN_ENDPOINTS: ReadonlyArray<{ url: string; body: unknown }> = [
  { url: '/rest/v1/personer', body: { personidentifikatorer: [PERSON] } },
  { url: '/rest/v2/personer', body: { personidentifikatorer: [PERSON] } },
  { url: '/rest/v2/krr/hentEndringer', body: { fraEndringsId: 0 } },
  { url: '/rest/v1/postkasse/kanVelge', body: { personidentifikator: PERSON } },
  {
    url: '/rest/v1/postkasse/opprettOgVelg',
    body: { personidentifikator: PERSON, virksomhetsidentifikator: PROVIDER, postkasseadresse: 'x.y#AB12' },
  },
  {
    url: '/rest/v1/postkasse/oppdater',
    body: { personidentifikator: PERSON, virksomhetsidentifikator: PROVIDER, postkasseadresse: 'x.y#AB12' },
  },
  {
    url: '/rest/v1/postkasse/slett',
    body: { personidentifikator: PERSON, virksomhetsidentifikator: PROVIDER },
  },
];

/** An ID-porten access token's claims: `pid`, `acr`, no `consumer` unless given. */
function idportenClaims(scope: string, extra: Record<string, unknown> = {}) {
  return {
    scope,
    client_id: 'some-idporten-client',
    client_amr: 'none',
    pid: PERSON,
    acr: 'idporten-loa-high',
    token_type: 'Bearer',
    ...extra,
  };
}

/** 403, the error body, no WWW-Authenticate (the token is valid, just not for this endpoint). */
function assertWrongKind(res: LightMyRequestResponse, label: string): void {
  assert.equal(res.statusCode, 403, `${label}: ${res.statusCode} ${res.body}`);
  assertErrorBody(res, 403);
  assert.equal(res.headers['www-authenticate'], undefined, label);
}

for (const kind of STORE_KINDS) {
  describe(`issuer kinds (${kind})`, { skip: await skipReason(kind) }, () => {
    let maskinporten: FakeIssuer;
    let idporten: FakeIssuer;
    let t: TestApp;

    before(async () => {
      maskinporten = await startFakeIssuer();
      idporten = await startFakeIssuer();
      t = await startTestApp(kind, {
        verifier: {
          trustedIssuers: [{ issuer: maskinporten.issuer }, { issuer: idporten.issuer, kind: 'idporten' }],
          fetchTimeoutMs: 1000,
        },
      });
      const certificate = (
        await generateSelfSignedCertificate({ commonName: 'digipost', keyUsage: 'encryption' })
      ).certificateDerBase64;
      await new ProviderService(t.store.db).add({ orgno: PROVIDER, name: 'Digipost', certificate });
      await t.write([{ personidentifikator: PERSON, status: 'AKTIV', reservasjon: 'NEI' }]);
    });
    after(async () => {
      await t?.close();
      await maskinporten?.close();
      await idporten?.close();
    });

    const getSelf = (token: string) =>
      t.app.inject({ method: 'GET', url: '/rest/v1/person', headers: { authorization: `Bearer ${token}` } });

    it('answers each kind on its own endpoints (the control)', async () => {
      const system = await maskinporten.sign(maskinportenClaims(GLOBAL_SCOPES, PROVIDER));
      for (const { url, body } of MASKINPORTEN_ENDPOINTS) {
        const res = await t.post(url, body, system);
        assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
      }
      const person = await idporten.sign(idportenClaims(USER_SCOPES));
      const res = await getSelf(person);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal((JSON.parse(res.body) as { personidentifikator: string }).personidentifikator, PERSON);
    });

    it('refuses an ID-porten token with Maskinporten scopes on the lookups, the feed and the mailbox operations', async () => {
      // Even with a consumer that is a registered provider: the issuer's kind decides, not the claims.
      const token = await idporten.sign(
        idportenClaims(GLOBAL_SCOPES, {
          consumer: { authority: 'iso6523-actorid-upis', ID: `0192:${PROVIDER}` },
        }),
      );
      for (const { url, body } of MASKINPORTEN_ENDPOINTS)
        assertWrongKind(await t.post(url, body, token), url);
    });

    it('refuses a Maskinporten token carrying pid and user scopes on /rest/v1/person', async () => {
      const fromConfigured = await maskinporten.sign(
        maskinportenClaims(USER_SCOPES, PROVIDER, { pid: PERSON }),
      );
      assertWrongKind(await getSelf(fromConfigured), 'a configured issuer without a kind');
      const fromDev = await t.token(USER_SCOPES.split(' '), { pid: PERSON });
      assertWrongKind(await getSelf(fromDev), 'the dev Maskinporten-like issuer');
    });

    it('refuses a token carrying pid on the Maskinporten endpoints, whatever its issuer', async () => {
      const token = await maskinporten.sign(maskinportenClaims(GLOBAL_SCOPES, PROVIDER, { pid: PERSON }));
      for (const { url, body } of MASKINPORTEN_ENDPOINTS)
        assertWrongKind(await t.post(url, body, token), url);
    });

    it('the dev ID-porten sign-in grants no Maskinporten scope to an anonymous caller', async () => {
      // The attack: the authorize flow asking for lookup and feed scopes, then the token on them.
      const verifier = randomBytes(32).toString('base64url');
      const redirectUri = 'http://127.0.0.1:9999/callback';
      const query = new URLSearchParams({
        response_type: 'code',
        client_id: 'anyone',
        redirect_uri: redirectUri,
        scope: 'openid krr:global/kontaktinformasjon.read krr:global/hentendring.read',
        state: 's',
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      });
      const res = await t.app.inject({ method: 'GET', url: `/idporten/authorize?${query.toString()}` });
      assert.equal(
        res.statusCode,
        303,
        `the request is refused, not shown a sign-in page: ${res.statusCode}`,
      );
      const location = new URL(String(res.headers.location));
      assert.equal(`${location.origin}${location.pathname}`, redirectUri);
      assert.equal(location.searchParams.get('error'), 'invalid_scope');
      assert.equal(location.searchParams.get('state'), 's');
      assert.equal(location.searchParams.get('code'), null);
    });
  });
}

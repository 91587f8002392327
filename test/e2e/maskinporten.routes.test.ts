// The dev-mode token service over HTTP (inject), on both stores, with real signed assertions in
// the shapes real Maskinporten clients send (kid or x5c, RS256/384/512, with and without typ, 12 to
// 120 s, consumer_org, resource, form content types with charset, grants in the query string), and
// every refusal: expired, too long-lived, replayed, wrong audience, bad signature, alg none, HS256
// with the public key, unknown client, kid or CA, scopes not given. Tokens are then used for lookups.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, createSecretKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  SignJWT,
} from 'jose';
import type { JWK } from 'jose';
import { publicJwk } from '../../src/auth/dev-issuer.js';
import { TokenVerifier } from '../../src/auth/token-verifier.js';
import { parseClientKeys } from '../../src/client/client-key.js';
import { clientRepositoryFor, ClientService } from '../../src/client/client.service.js';
import { loadConfig } from '../../src/config/config.js';
import type { KrrConfig } from '../../src/config/config.js';
import { demoPersons } from '../../src/demo/demo-data.js';
import { buildApp } from '../../src/app/app.js';
import { PersonWriter } from '../../src/register/person.writer.js';
import { openTestStore, skipReason, STORE_KINDS } from '../support/stores.js';
import type { TestStore } from '../support/stores.js';
import { devTokenServiceOptions } from '../../src/maskinporten/maskinporten.app.js';
import { makeBusinessCertificate, makeCa } from '../support/test-certificates.js';
import type { TestCertificate } from '../support/test-certificates.js';

const ISSUER = 'http://127.0.0.1:8080/';
const GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const ORGNO = '991825827';
const CUSTOMER = '974760673';
const OTHER_ORGNO = '889640782';
const SCOPES = 'krr:global/kontaktinformasjon.read krr:global/digitalpost.read';
const CLIENT = 'client-kid';
const CERT_CLIENT = 'client-cert';

interface App {
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

let devJwk: JWK;
let clientKey: KeyObject;
let clientPublicJwk: JWK;
let otherKey: KeyObject;
let ca: TestCertificate;
let intermediate: TestCertificate;
let untrustedCa: TestCertificate;
let selfSigned: TestCertificate;
let caIssued: TestCertificate;
let viaIntermediate: TestCertificate;
let byOrgIdentifier: TestCertificate;
let untrustedIssued: TestCertificate;
let expired: TestCertificate;
let otherOrg: TestCertificate;
let scratch: string;

before(async () => {
  const dev = await generateKeyPair('RS256', { extractable: true });
  devJwk = { ...(await exportJWK(dev.privateKey)), kid: 'krr-dev-test', alg: 'RS256' };
  const client = generateKeyPairSync('rsa', { modulusLength: 2048 });
  clientKey = client.privateKey;
  clientPublicJwk = { ...(await exportJWK(client.publicKey)), kid: 'k1' };
  otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  ca = await makeCa('Test Root CA');
  intermediate = await makeCa('Test Issuing CA', ca);
  untrustedCa = await makeCa('Untrusted CA');
  selfSigned = await makeBusinessCertificate({ commonName: 'Selvsignert AS', orgno: ORGNO });
  caIssued = await makeBusinessCertificate({ commonName: 'Virksomhet AS', orgno: ORGNO }, ca);
  viaIntermediate = await makeBusinessCertificate(
    { commonName: 'Virksomhet AS', orgno: ORGNO },
    intermediate,
  );
  byOrgIdentifier = await makeBusinessCertificate(
    { commonName: 'eSegl AS', organizationIdentifier: ORGNO },
    ca,
  );
  untrustedIssued = await makeBusinessCertificate({ commonName: 'Virksomhet AS', orgno: ORGNO }, untrustedCa);
  expired = await makeBusinessCertificate(
    {
      commonName: 'Utgått AS',
      orgno: ORGNO,
      validFrom: new Date(Date.now() - 400 * 86400_000),
      validTo: new Date(Date.now() - 86400_000),
    },
    ca,
  );
  otherOrg = await makeBusinessCertificate({ commonName: 'Annen AS', orgno: OTHER_ORGNO }, ca);
  scratch = await mkdtemp(join(tmpdir(), 'krr-mp-'));
  await writeFile(join(scratch, 'ca.pem'), ca.pem);
});

after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function startApp(
  store: TestStore,
  env: NodeJS.ProcessEnv = {},
  logs?: NodeJS.WritableStream,
): Promise<App & { config: KrrConfig }> {
  // The store as configured: the embedded store's clients are a file in its data directory.
  const storeOption =
    store.config.kind === 'embedded' ? { dataDir: store.config.dataDir } : { database: store.config.url };
  const config = loadConfig(
    { dev: true, logLevel: logs ? 'trace' : 'silent', ...storeOption },
    { KRR_TRUSTED_CLIENT_CAS: join(scratch, 'ca.pem'), ...env },
  );
  const verifier = new TokenVerifier({
    trustedIssuers: [],
    clockSkewSeconds: config.auth.clockSkewSeconds,
    dev: { issuer: config.auth.devIssuer, publicJwk: publicJwk(devJwk) },
  });
  const app = await buildApp({
    config,
    db: store.db,
    verifier,
    clock: { now: () => Date.now() },
    maskinporten: devTokenServiceOptions(config, devJwk),
    ...(logs ? { logDestination: logs } : {}),
  });
  return { app, config, close: () => app.close() };
}

interface AssertionOptions {
  alg?: 'RS256' | 'RS384' | 'RS512';
  key?: KeyObject;
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  iss?: string;
  aud?: string | string[];
  scope?: string | undefined;
  lifetime?: number;
  iatOffset?: number;
  jti?: string | null;
}

async function assertion(o: AssertionOptions = {}): Promise<string> {
  const iat = Math.floor(Date.now() / 1000) + (o.iatOffset ?? 0);
  const claims: Record<string, unknown> = {
    ...(o.scope === undefined && 'scope' in o ? {} : { scope: o.scope ?? SCOPES }),
    ...o.claims,
  };
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: o.alg ?? 'RS256', ...(o.header ?? { kid: 'k1' }) })
    .setIssuer(o.iss ?? CLIENT)
    .setAudience(o.aud ?? ISSUER)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (o.lifetime ?? 120));
  if (o.jti !== null) jwt.setJti(o.jti ?? randomUUID());
  return jwt.sign(o.key ?? clientKey);
}

function x5c(...certs: TestCertificate[]) {
  return { x5c: certs.map((c) => c.der) };
}

function postToken(
  app: FastifyInstance,
  form: Record<string, string>,
  { url = '/token', contentType = 'application/x-www-form-urlencoded' } = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': contentType },
    payload: new URLSearchParams(form).toString(),
  });
}

const grant = (app: FastifyInstance, a: string, opts?: { url?: string; contentType?: string }) =>
  postToken(app, { grant_type: GRANT, assertion: a }, opts);

function assertRefused(res: LightMyRequestResponse, error: string, describes: RegExp, sent?: string): void {
  assert.equal(res.statusCode, 400, res.body);
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = res.json<{ error: string; error_description: string }>();
  assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description']);
  assert.equal(body.error, error);
  assert.match(body.error_description, describes);
  if (sent)
    for (const part of sent.split('.').filter((p) => p.length > 8))
      assert.ok(!res.body.includes(part), `the answer echoes the assertion: ${part} in ${res.body}`);
}

async function issued(res: LightMyRequestResponse) {
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers['cache-control'], 'no-store');
  const body = res.json<Record<string, unknown>>();
  assert.deepEqual(Object.keys(body), ['access_token', 'token_type', 'expires_in', 'scope']);
  assert.equal(body.token_type, 'Bearer');
  assert.equal(body.expires_in, 120);
  const token = body.access_token as string;
  // Verified as a resource server would: with the published JWKS, the issuer, RS256.
  const { payload, protectedHeader } = await jwtVerify(
    token,
    createLocalJWKSet({ keys: [publicJwk(devJwk)] }),
    {
      issuer: ISSUER,
      algorithms: ['RS256'],
    },
  );
  assert.equal(protectedHeader.kid, devJwk.kid);
  return { body, token, payload };
}

for (const kind of STORE_KINDS) {
  describe(`the Maskinporten-like token service (${kind})`, { skip: await skipReason(kind) }, () => {
    let store: TestStore;
    let server: App & { config: KrrConfig };
    let app: FastifyInstance;

    before(async () => {
      store = await openTestStore(kind);
      const service = new ClientService(clientRepositoryFor(store.config, store.db));
      await service.add({
        clientId: CLIENT,
        orgno: ORGNO,
        scopes: `${SCOPES} krr:global/hentendring.read`,
        keys: parseClientKeys(JSON.stringify(clientPublicJwk), 'jwk.json'),
        delegatedBy: [CUSTOMER],
      });
      await service.add({ clientId: CERT_CLIENT, orgno: ORGNO, scopes: SCOPES, keys: [] });
      await new PersonWriter(store.db).write(demoPersons(Date.now()).map((p) => p.person));
      server = await startApp(store);
      app = server.app;
    });

    after(async () => {
      await server?.close();
      await store?.dispose();
    });

    it('publishes RFC 8414 metadata (with and without a trailing slash) and the public key at /jwk', async () => {
      for (const url of [
        '/.well-known/oauth-authorization-server',
        '/.well-known/oauth-authorization-server/',
        '//.well-known/oauth-authorization-server',
      ]) {
        const res = await app.inject({ method: 'GET', url });
        assert.equal(res.statusCode, 200);
        assert.deepEqual(res.json(), {
          issuer: ISSUER,
          token_endpoint: 'http://127.0.0.1:8080/token',
          jwks_uri: 'http://127.0.0.1:8080/jwk',
          token_endpoint_auth_methods_supported: ['private_key_jwt'],
          grant_types_supported: [GRANT],
          token_endpoint_auth_signing_alg_values_supported: ['RS256', 'RS384', 'RS512'],
          authorization_details_types_supported: [],
        });
      }
      const jwks = (await app.inject({ method: 'GET', url: '/jwk' })).json<{ keys: JWK[] }>();
      assert.equal(jwks.keys.length, 1);
      assert.equal(jwks.keys[0]!.kid, devJwk.kid);
      assert.equal(jwks.keys[0]!.d, undefined, 'no private part');
      assert.deepEqual(Object.keys(jwks.keys[0]!).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
    });

    it('issues a token with the claims of docs/tokens.md#issued-tokens that the lookup accepts', async () => {
      const { body, token, payload } = await issued(await grant(app, await assertion()));
      assert.equal(body.scope, SCOPES);
      assert.equal(payload.iss, ISSUER);
      assert.equal(payload.scope, SCOPES);
      assert.equal(payload.client_id, CLIENT);
      assert.deepEqual(payload.consumer, { authority: 'iso6523-actorid-upis', ID: `0192:${ORGNO}` });
      assert.equal(payload.supplier, undefined);
      assert.equal(payload.client_amr, 'private_key_jwt');
      assert.equal(payload.token_type, 'Bearer');
      assert.equal(payload.aud, undefined);
      assert.equal(typeof payload.jti, 'string');
      assert.equal(payload.exp! - payload.iat!, 120);
      assert.equal(decodeProtectedHeader(token).typ, 'at+jwt');
      const lookup = await app.inject({
        method: 'POST',
        url: '/rest/v2/personer',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload: { personidentifikatorer: [demoPersons(Date.now())[0]!.person.personidentifikator] },
      });
      assert.equal(lookup.statusCode, 200, lookup.body);
      assert.equal(lookup.json<{ personer: unknown[] }>().personer.length, 1);
    });

    it('takes RS256, RS384 and RS512, with and without typ, on /token and /token/, any form content type', async () => {
      const contentTypes = [
        'application/x-www-form-urlencoded',
        'application/x-www-form-urlencoded;charset=UTF-8',
        'application/x-www-form-urlencoded; charset=utf-8',
        'Application/X-WWW-Form-Urlencoded',
      ];
      let i = 0;
      for (const alg of ['RS256', 'RS384', 'RS512'] as const) {
        for (const typ of [undefined, 'JWT']) {
          const a = await assertion({ alg, header: { kid: 'k1', ...(typ ? { typ } : {}) } });
          const url = ['/token', '/token/', '//token'][i % 3]!;
          await issued(await grant(app, a, { url, contentType: contentTypes[i % contentTypes.length]! }));
          i++;
        }
      }
    });

    it('takes lifetimes of 12 s and 120 s, an aud without the trailing slash, scope as a subset', async () => {
      await issued(await grant(app, await assertion({ lifetime: 12 })));
      await issued(await grant(app, await assertion({ lifetime: 120 })));
      await issued(await grant(app, await assertion({ aud: ISSUER.replace(/\/$/, '') })));
      // A client given http://localhost:8080 as its base URL names that: the same loopback server.
      await issued(await grant(app, await assertion({ aud: 'http://localhost:8080/' })));
      await issued(await grant(app, await assertion({ aud: 'http://[::1]:8080' })));
      const { payload } = await issued(
        await grant(app, await assertion({ scope: 'krr:global/hentendring.read' })),
      );
      assert.equal(payload.scope, 'krr:global/hentendring.read');
    });

    it('consumer_org (a delegation registered with the client) makes the customer the consumer and the client the supplier; resource becomes aud', async () => {
      const { payload } = await issued(
        await grant(
          app,
          await assertion({ claims: { consumer_org: CUSTOMER, resource: 'https://krr.example/' } }),
        ),
      );
      assert.deepEqual(payload.consumer, { authority: 'iso6523-actorid-upis', ID: `0192:${CUSTOMER}` });
      assert.deepEqual(payload.supplier, { authority: 'iso6523-actorid-upis', ID: `0192:${ORGNO}` });
      assert.equal(payload.aud, 'https://krr.example/');
      const arrayResource = await issued(
        await grant(
          app,
          await assertion({ claims: { resource: ['https://a.example/', 'https://b.example/'] } }),
        ),
      );
      assert.deepEqual(arrayResource.payload.aud, ['https://a.example/', 'https://b.example/']);
      // A Python client sends consumer_org: null when it has none, and iss_onbehalfof is allowed.
      const plain = await issued(
        await grant(app, await assertion({ claims: { consumer_org: null, iss_onbehalfof: 'sub' } })),
      );
      assert.deepEqual(plain.payload.consumer, { authority: 'iso6523-actorid-upis', ID: `0192:${ORGNO}` });
      assert.equal(plain.payload.supplier, undefined);
      assertRefused(
        await grant(app, await assertion({ claims: { consumer_org: '123456789' } })),
        'invalid_grant',
        /consumer_org/,
      );
      // iss_onbehalfof is copied into the token unchecked, so it is bounded like a client id.
      for (const onBehalfOf of ['x'.repeat(201), 'with space', 42, { id: 'x' }]) {
        assertRefused(
          await grant(app, await assertion({ claims: { iss_onbehalfof: onBehalfOf } })),
          'invalid_grant',
          /iss_onbehalfof/,
        );
      }
      // An organisation that has not delegated to the client (docs/tokens.md#delegations).
      assertRefused(
        await grant(app, await assertion({ claims: { consumer_org: OTHER_ORGNO } })),
        'invalid_grant',
        /consumer_org.*not delegated/,
      );
    });

    it('takes the grant in the query string (a client seen in the wild) and an assertion without jti once', async () => {
      const a = await assertion({ jti: null });
      const res = await app.inject({
        method: 'POST',
        url: `/token?${new URLSearchParams({ grant_type: GRANT, assertion: a }).toString()}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      await issued(res);
      assertRefused(await grant(app, a), 'invalid_grant', /used before/, a);
    });

    it('takes x5c: CA-issued chains, organizationIdentifier; client_amr virksomhetssertifikat', async () => {
      const cases: [TestCertificate, TestCertificate[]][] = [
        [caIssued, [caIssued]],
        [caIssued, [caIssued, ca]],
        [viaIntermediate, [viaIntermediate, intermediate]],
        [viaIntermediate, [viaIntermediate, intermediate, ca]],
        [byOrgIdentifier, [byOrgIdentifier]],
      ];
      for (const [leaf, chain] of cases) {
        for (const iss of [CERT_CLIENT, CLIENT]) {
          const { payload } = await issued(
            await grant(app, await assertion({ iss, key: leaf.key, header: x5c(...chain) })),
          );
          assert.equal(payload.client_amr, 'virksomhetssertifikat');
          assert.equal(payload.client_id, iss);
        }
      }
    });

    it('takes a certificate registered for the client (--pem CERT) without a trusted CA or organisation number', async () => {
      const pinned = await makeBusinessCertificate({ commonName: 'Uten orgnr' }, untrustedCa);
      const service = new ClientService(clientRepositoryFor(store.config, store.db));
      await service.add({
        clientId: 'client-pinned',
        orgno: ORGNO,
        scopes: SCOPES,
        keys: parseClientKeys(pinned.pem, 'cert.pem', 'pinned-kid'),
      });
      for (const header of [x5c(pinned), x5c(pinned, untrustedCa), { kid: 'pinned-kid' }]) {
        await issued(await grant(app, await assertion({ iss: 'client-pinned', key: pinned.key, header })));
      }
      // Pinned for that client only.
      const other = await assertion({ iss: CERT_CLIENT, key: pinned.key, header: x5c(pinned) });
      assertRefused(await grant(app, other), 'invalid_grant', /trust/, other);
    });

    it('refuses certificates that are self-signed (also in dev mode), untrusted, broken, expired or of another organisation', async () => {
      const refusedChains: [TestCertificate, TestCertificate[], RegExp][] = [
        [selfSigned, [selfSigned], /trust/],
        [untrustedIssued, [untrustedIssued], /trust/],
        [untrustedIssued, [untrustedIssued, untrustedCa], /trust/],
        [viaIntermediate, [viaIntermediate], /trust/],
        [caIssued, [caIssued, untrustedCa], /broken/],
        [expired, [expired], /expired/],
        [otherOrg, [otherOrg], /organisation number/],
        [selfSigned, [caIssued], /signature/],
      ];
      for (const [key, chain, why] of refusedChains) {
        const a = await assertion({ iss: CERT_CLIENT, key: key.key, header: x5c(...chain) });
        assertRefused(await grant(app, a), 'invalid_grant', why, a);
      }
      const notBase64 = await assertion({ iss: CERT_CLIENT, key: caIssued.key, header: { x5c: ['%%%'] } });
      assertRefused(await grant(app, notBase64), 'invalid_grant', /x5c/, notBase64);
    });

    it('refuses expired, too long-lived, future, replayed and wrong-audience assertions', async () => {
      const cases: [string, RegExp][] = [
        [await assertion({ iatOffset: -200, lifetime: 100 }), /expired/],
        [await assertion({ lifetime: 121 }), /too long/],
        [await assertion({ iatOffset: 300, lifetime: 60 }), /future/],
        [await assertion({ aud: 'https://maskinporten.no/' }), /aud/],
        [await assertion({ aud: 'http://127.0.0.1:8080/other/' }), /aud/],
        [await assertion({ aud: 'http://localhost:8081/' }), /aud/],
        [await assertion({ aud: 'http://example.com:8080/' }), /aud/],
      ];
      for (const [a, why] of cases) assertRefused(await grant(app, a), 'invalid_grant', why, a);
      const once = await assertion();
      await issued(await grant(app, once));
      assertRefused(await grant(app, once), 'invalid_grant', /used before/, once);
      const sameJti = await assertion({ jti: 'fixed-jti' });
      await issued(await grant(app, sameJti));
      const again = await assertion({ jti: 'fixed-jti' });
      assertRefused(await grant(app, again), 'invalid_grant', /used before/, again);
    });

    it('refuses a replay also in another app on the same store (the jti is kept in the store)', async () => {
      const a = await assertion();
      await issued(await grant(app, a));
      const second = await startApp(store);
      try {
        assertRefused(await grant(second.app, a), 'invalid_grant', /used before/, a);
      } finally {
        await second.close();
      }
    });

    it('refuses bad signatures, alg none, HS256 with the public key, unknown clients, kids and scopes', async () => {
      const pem = createPublicKey(clientKey).export({ format: 'pem', type: 'spki' }) as string;
      const hs256 = await new SignJWT({ scope: SCOPES })
        .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
        .setIssuer(CLIENT)
        .setAudience(ISSUER)
        .setIssuedAt()
        .setExpirationTime('60s')
        .setJti(randomUUID())
        .sign(createSecretKey(Buffer.from(pem)));
      const good = await assertion();
      const [, payloadPart] = good.split('.');
      const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: 'k1' })).toString('base64url')}.${payloadPart}.`;
      const tampered = (() => {
        const [h, , s] = good.split('.');
        const claims = { ...decodeJwt(good), scope: `${SCOPES} krr:global/postkasse.write` };
        return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
      })();
      const cases: [string, RegExp][] = [
        [await assertion({ key: otherKey }), /signature/],
        [hs256, /algorithm/],
        [none, /signed JWT|algorithm/],
        [tampered, /signature/],
        [await assertion({ iss: 'unknown-client' }), /not registered/],
        [await assertion({ header: { kid: 'k2' } }), /kid/],
        [await assertion({ header: {} }), /kid.*x5c/],
        [await assertion({ scope: 'krr:global/postkasse.write' }), /scope/],
        [await assertion({ scope: `${SCOPES} krr:global/postkasse.write` }), /scope/],
        [await assertion({ scope: undefined }), /no scope/],
        ['not.a.jwt', /not a valid signed JWT/],
      ];
      for (const [a, why] of cases) assertRefused(await grant(app, a), 'invalid_grant', why, a);
    });

    it('answers other OAuth errors: unsupported_grant_type, invalid_request', async () => {
      assertRefused(
        await postToken(app, { grant_type: 'client_credentials', assertion: 'x' }),
        'unsupported_grant_type',
        /jwt-bearer/,
      );
      assertRefused(await postToken(app, { grant_type: GRANT }), 'invalid_request', /assertion/);
      assertRefused(await postToken(app, { assertion: await assertion() }), 'invalid_request', /grant_type/);
      const json = await app.inject({
        method: 'POST',
        url: '/token',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ grant_type: GRANT, assertion: 'x' }),
      });
      assertRefused(json, 'invalid_request', /form/);
      const twice = await app.inject({
        method: 'POST',
        url: '/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `grant_type=${encodeURIComponent(GRANT)}&assertion=a&assertion=b`,
      });
      assertRefused(twice, 'invalid_request', /more than once/);
    });

    it('logs no assertion, access token or certificate, also at trace level', async () => {
      const lines: string[] = [];
      const logs = new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString('utf8'));
          done();
        },
      });
      const traced = await startApp(store, {}, logs);
      try {
        const good = await assertion();
        const { token } = await issued(await grant(traced.app, good));
        const replay = await grant(traced.app, good);
        const viaQuery = await assertion();
        await traced.app.inject({
          method: 'POST',
          url: `/token?${new URLSearchParams({ grant_type: GRANT, assertion: viaQuery }).toString()}`,
        });
        const certificate = await assertion({ iss: CERT_CLIENT, key: caIssued.key, header: x5c(caIssued) });
        await grant(traced.app, certificate);
        assert.equal(replay.statusCode, 400);
        const text = lines.join('');
        assert.ok(lines.length > 0, 'something was logged');
        for (const secret of [good, viaQuery, certificate, token]) {
          for (const part of secret.split('.'))
            assert.ok(!text.includes(part), 'a log line holds a token part');
        }
        assert.ok(!text.includes(caIssued.der.slice(200, 260)), 'a log line holds the certificate');
      } finally {
        await traced.close();
      }
    });

    it('leaves the KRR endpoints reading JSON: a form body there is still a 400 with the error body', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/rest/v2/personer',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Bearer x' },
        payload: 'personidentifikatorer=1',
      });
      assert.ok(res.statusCode === 400 || res.statusCode === 401, res.body);
      assert.ok(Array.isArray(res.json<{ errors?: unknown }>().errors));
    });
  });
}

// krr-client against a real `krr serve --dev` process on an embedded store seeded with 2,500
// synthetic persons, two Maskinporten clients (a JWK key, and a certificate for x5c), the dev
// answer-signing certificate and a print certificate. A front proxy of the test's own (a real HTTP
// server) sits between client and server where a test must see or change the traffic: batches,
// concurrency, 503 / 429 / 401 / broken connections / slow answers, re-signed answers. The client
// is used as an agency would: only through its package entry point.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactSign, decodeJwt, exportJWK } from 'jose';
import type { JWK } from 'jose';
import {
  createKrrClient,
  KrrConfigError,
  KrrHttpError,
  KrrNetworkError,
  KrrSignatureError,
  KrrTimeoutError,
  KrrTokenError,
  parseKrrTimestamp,
} from './index.js';
import type { ChangePage, FeedPerson, KrrClientOptions, MaskinportenAuth, Person } from './index.js';
import { clientRepositoryFor, ClientService } from '../../../src/client/client.service.js';
import { parseClientKeys } from '../../../src/client/client-key.js';
import { DEMO_DIGIPOST_CERTIFICATE } from '../../../src/demo/demo-certificates.js';
import { syntheticPersons } from '../../../src/demo/synthetic-persons.js';
import { ProviderRepository } from '../../../src/provider/provider.repository.js';
import { openStore } from '../../../src/register/open-store.js';
import { PersonWriter } from '../../../src/register/person.writer.js';
import { devAnswerSigner } from '../../../src/signing/answer-signer.js';
import { FrontProxy } from '../../../test/support/front-proxy.js';
import { assertOk, freePort, killHard, krr, sleep, startKrr } from '../../../test/support/processes.js';
import { copyEmptyEmbeddedStore } from '../../../test/support/stores.js';
import { makeBusinessCertificate } from '../../../test/support/test-certificates.js';
import type { TestCertificate } from '../../../test/support/test-certificates.js';

const ORGNO = '991825827';
const PRINT_ORGNO = '974760673';
const SCOPES = [
  'krr:global/kontaktinformasjon.read',
  'krr:global/digitalpost.read',
  'krr:global/hentendring.read',
];
/**
 * Tokens from the dev token service live 8 s here, so that a client renews one within a test (at
 * half its life, 4 s) and keeps it across the other tests' few lookups.
 */
const TOKEN_LIFETIME_SECONDS = 8;
const LOOKUP = '/rest/v2/personer';

describe('krr-client against krr serve --dev (embedded)', () => {
  let scratch = '';
  let dataDir = '';
  let server: ChildProcess | undefined;
  let base = '';
  let proxy: FrontProxy;
  let registered: { readonly personidentifikator: string; readonly status: Person['status'] }[] = [];
  let unregistered: string[] = [];
  let trustedCertificate = '';
  let clientKey: KeyObject;
  let clientJwk: JWK;
  let certificateClient: TestCertificate;
  let lookupToken = '';

  const jwkAuth = (over: Partial<MaskinportenAuth> = {}): MaskinportenAuth => ({
    issuer: `${base}/`,
    tokenEndpoint: `${proxy.base}/token`,
    clientId: 'client-jwk',
    scopes: SCOPES,
    key: clientJwk,
    ...over,
  });
  /** A client that reaches krr through the front proxy. */
  const viaProxy = (over: Partial<KrrClientOptions> = {}) =>
    createKrrClient({ baseUrl: proxy.base, auth: jwkAuth(), retries: 2, ...over });

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'krr-client-'));
    dataDir = join(scratch, 'data');
    await copyEmptyEmbeddedStore(dataDir);

    // 2,600 synthetic identifiers in ascending order; every 26th stays out of the register.
    const all = [...syntheticPersons(2600, { seed: 18 })];
    registered = all
      .filter((_, i) => i % 26 !== 25)
      .map((p) => ({ personidentifikator: p.personidentifikator, status: p.status }));
    unregistered = all.filter((_, i) => i % 26 === 25).map((p) => p.personidentifikator);
    assert.equal(registered.length, 2500);

    clientKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    clientJwk = { ...(await exportJWK(clientKey)), kid: 'client-jwk-kid', alg: 'RS256' };
    certificateClient = await makeBusinessCertificate({ commonName: 'Etat AS', orgno: ORGNO });

    const db = await openStore({ kind: 'embedded', dataDir });
    try {
      await new PersonWriter(db).write(all.filter((_, i) => i % 26 !== 25));
      // The dev answer-signing certificate, made now and kept in the store: the server signs with
      // it, and the test knows it the way an agency would, from the operator, not from an answer.
      trustedCertificate = (await devAnswerSigner(db)).x5c[0]!;
      await new ProviderRepository(db).setPrintCertificate({
        orgno: PRINT_ORGNO,
        certificate: DEMO_DIGIPOST_CERTIFICATE,
      });
      const clients = new ClientService(clientRepositoryFor({ kind: 'embedded', dataDir }, db));
      await clients.add({
        clientId: 'client-jwk',
        orgno: ORGNO,
        scopes: SCOPES.join(' '),
        keys: parseClientKeys(JSON.stringify(clientJwk), 'client.jwk'),
      });
      await clients.add({
        clientId: 'client-x5c',
        orgno: ORGNO,
        scopes: SCOPES.join(' '),
        keys: parseClientKeys(certificateClient.pem, 'client.pem', 'client-x5c-cert'),
      });
    } finally {
      await db.close();
    }

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = startKrr(
      ['serve', '--dev', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', String(port)],
      {
        KRR_TOKEN_EXPIRES_IN: String(TOKEN_LIFETIME_SECONDS),
      },
    );
    let out = '';
    server.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
    server.stderr!.setEncoding('utf8').on('data', (s: string) => (out += s));
    for (const deadline = Date.now() + 60_000; ;) {
      assert.ok(server.exitCode === null, `serve exited early: ${out}`);
      const status = await fetch(`${base}/health/ready`).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) break;
      assert.ok(Date.now() < deadline, `not ready within 60 s: ${out}`);
      await sleep(200);
    }
    proxy = await new FrontProxy(base).start();
    const minted = await krr(['token', '--data-dir', dataDir, '--scope', SCOPES.join(' ')]);
    assertOk(minted, 'krr token');
    lookupToken = minted.stdout.trimEnd().split('\n').at(-1)!;
  });

  after(async () => {
    await proxy?.close();
    if (server) await killHard(server);
    await rm(scratch, { recursive: true, force: true });
  });

  it('looks up 2,600 identifiers in one call: batches of 1000, two at a time, one answer in order', async () => {
    proxy.reset();
    proxy.gate = { path: LOOKUP, together: 2 };
    const client = viaProxy({ concurrency: 2 });
    // Shuffled, with repeats: the client sorts and asks each identifier once.
    const asked = [
      ...unregistered,
      ...registered.map((p) => p.personidentifikator).reverse(),
      unregistered[0]!,
    ];
    asked.push(registered[7]!.personidentifikator);

    const { personer, signedAnswers } = await client.lookup(asked);
    assert.deepEqual(
      personer.map((p) => p.personidentifikator),
      registered.map((p) => p.personidentifikator),
      'every registered person once, ascending; the unregistered are left out',
    );
    assert.deepEqual(signedAnswers, []);
    for (const [i, p] of personer.entries()) assert.equal(p.status, registered[i]!.status);
    const active = personer.find((p) => p.status === 'AKTIV' && p.kontaktinformasjon?.epostadresse_oppdatert);
    assert.ok(active, 'contact data with its dates');
    assert.ok(parseKrrTimestamp(active.kontaktinformasjon!.epostadresse_oppdatert!) instanceof Date);

    const batches = proxy
      .to(LOOKUP)
      .map((s) => (JSON.parse(s.body) as { personidentifikatorer: string[] }).personidentifikatorer);
    assert.deepEqual(
      batches.map((b) => b.length).sort((a, b) => b - a),
      [1000, 1000, 600],
      'three batches of at most 1000 distinct identifiers',
    );
    assert.deepEqual([...batches.flat()].sort(), [...new Set(asked)].sort());
    assert.equal(proxy.maxInFlight, 2, 'two batches at once, never more');
    assert.ok(proxy.to('/token').length < batches.length, 'the batches share a token');
  });

  it('includeUnregistered answers every identifier, IKKE_REGISTRERT ones included, in order', async () => {
    const client = createKrrClient({ baseUrl: base, auth: () => lookupToken });
    const asked = [
      ...registered.slice(0, 1200).map((p) => p.personidentifikator),
      ...unregistered.slice(0, 40),
    ];
    const { personer } = await client.lookup(asked, { includeUnregistered: true });
    const expected = [...asked].sort();
    assert.deepEqual(
      personer.map((p) => p.personidentifikator),
      expected,
    );
    const unknown = new Set(unregistered);
    for (const p of personer) {
      if (unknown.has(p.personidentifikator)) {
        assert.deepEqual(p, {
          personidentifikator: p.personidentifikator,
          status: 'IKKE_REGISTRERT',
          varslingsstatus: 'KAN_IKKE_VARSLES',
        });
      } else assert.notEqual(p.status, 'IKKE_REGISTRERT');
    }
    // The merged answer holds each person as a lookup of that person alone answers them.
    const one = registered.find((p) => p.status === 'AKTIV')!.personidentifikator;
    const alone = await client.lookup([one]);
    assert.deepEqual(
      alone.personer[0],
      personer.find((p) => p.personidentifikator === one),
    );
    // informasjonsbehov narrows the groups.
    const narrowed = await client.lookup([one], { informasjonsbehov: ['Person'] });
    assert.equal(narrowed.personer[0]!.kontaktinformasjon, undefined);
    assert.equal(narrowed.personer[0]!.varslingsstatus, undefined);
    assert.deepEqual(await client.lookup([]), { personer: [], signedAnswers: [] });
  });

  it("a 422 names the position in the caller's list and no identifier", async () => {
    const client = createKrrClient({ baseUrl: base, auth: () => lookupToken });
    const asked = registered.slice(0, 1500).map((p) => p.personidentifikator);
    // A registered identifier with another last digit: its check digit is wrong.
    const good = asked[700]!;
    const bad = `${good.slice(0, 10)}${(Number(good[10]) + 1) % 10}`;
    asked.splice(1234, 0, bad);
    const err = await client.lookup(asked).then(
      () => assert.fail('a bad identifier is refused'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof KrrHttpError);
    assert.equal(err.status, 422);
    assert.equal(err.errors.length, 1);
    assert.equal(err.errors[0]!.source?.pointer, '/personidentifikatorer/1234');
    assert.ok(!err.message.includes(bad), err.message);
    assert.match(err.message, /HTTP 422 to POST \/rest\/v2\/personer/);
  });

  it('follows the change feed from 0 until it has caught up, and from a kept position', async () => {
    const client = createKrrClient({ baseUrl: base, auth: () => lookupToken });
    const pages: ChangePage[] = [];
    for await (const page of client.changes({ from: 0 })) pages.push(page);
    assert.ok(pages.length >= 3, `${pages.length} pages for 2,500 persons`);
    const last = pages.at(-1)!;
    assert.equal(last.tilEndringsId, last.sisteEndringsId, 'caught up');
    let from = 0;
    const seen = new Map<string, FeedPerson>();
    for (const page of pages) {
      assert.equal(page.fraEndringsId, from, 'each page asks from where the last one ended');
      for (const p of page.list) seen.set(p.personidentifikator, p);
      from = page.tilEndringsId;
    }
    assert.deepEqual(
      [...seen.keys()].sort(),
      registered.map((p) => p.personidentifikator),
    );
    const withMail = [...seen.values()].find((p) => p.kontaktinformasjon?.epostadresse);
    assert.ok(withMail?.kontaktinformasjon?.epostadresse_duplisert, 'the feed carries the duplicate flags');

    // From the position kept: one page, empty, caught up.
    const again: ChangePage[] = [];
    for await (const page of client.changes({ from: last.tilEndringsId })) again.push(page);
    assert.equal(again.length, 1);
    assert.deepEqual(again[0]!.list, []);
    assert.equal(again[0]!.tilEndringsId, again[0]!.sisteEndringsId);
  });

  it('verifies signed answers against the trusted certificate, and refuses others', async () => {
    const kept: string[] = [];
    const trusting = createKrrClient({
      baseUrl: base,
      auth: () => lookupToken,
      signedAnswers: { trust: trustedCertificate, onVerified: (a) => kept.push(a.jws) },
    });
    const asked = registered.slice(0, 1100).map((p) => p.personidentifikator);
    const signed = await trusting.lookup(asked);
    assert.equal(signed.personer.length, 1100);
    assert.equal(signed.signedAnswers.length, 2, 'one signed answer per batch');
    // onVerified hears each answer as it arrives (batches run at once); the result is in identifier order.
    const inResult = new Set(signed.signedAnswers.map((a) => a.jws));
    assert.ok(
      kept.length === 2 && kept.every((jws) => inResult.has(jws)),
      'onVerified heard each signed answer',
    );
    for (const a of signed.signedAnswers) assert.equal(a.certificate, trustedCertificate);
    const plain = await createKrrClient({ baseUrl: base, auth: () => lookupToken }).lookup(asked);
    assert.deepEqual(signed.personer, plain.personer, 'the signed payload is the answer');

    // PEM text is trusted as well as base64 DER.
    const pem = `-----BEGIN CERTIFICATE-----\n${trustedCertificate.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
    await createKrrClient({ baseUrl: base, auth: () => lookupToken, signedAnswers: { trust: [pem] } }).lookup(
      asked.slice(0, 3),
    );

    // A certificate the caller does not trust: refused, though the answer verifies with its own x5c.
    const stranger = await makeBusinessCertificate({ commonName: 'Someone else' });
    const wary = createKrrClient({
      baseUrl: base,
      auth: () => lookupToken,
      signedAnswers: { trust: stranger.pem },
    });
    const refused = await wary.lookup(asked.slice(0, 5)).then(
      () => assert.fail('an untrusted signer is refused'),
      (e: unknown) => e,
    );
    assert.ok(refused instanceof KrrSignatureError, String(refused));
    assert.match(refused.message, /not trusted/);

    // Someone between client and server re-signs a changed answer with their own certificate in x5c.
    proxy.reset();
    proxy.rule = (seen) =>
      seen.path === LOOKUP
        ? {
            replace: async (f) => {
              const payload = JSON.stringify({
                personer: [{ personidentifikator: asked[0], reservasjon: 'JA', status: 'AKTIV' }],
              });
              const jws = await new CompactSign(new TextEncoder().encode(payload))
                .setProtectedHeader({ alg: 'RS256', x5c: [stranger.der] })
                .sign(stranger.key);
              return { ...f, body: jws };
            },
          }
        : undefined;
    const forged = await createKrrClient({
      baseUrl: proxy.base,
      auth: () => lookupToken,
      signedAnswers: { trust: trustedCertificate },
    })
      .lookup(asked.slice(0, 5))
      .then(
        () => assert.fail('a re-signed answer is refused'),
        (e: unknown) => e,
      );
    assert.ok(forged instanceof KrrSignatureError, String(forged));
    assert.equal(proxy.to(LOOKUP)[0]!.accept, 'application/jose');

    // A server that answers plain JSON when a signed answer was asked for.
    proxy.rule = (seen) =>
      seen.path === LOOKUP
        ? {
            replace: (f) => ({
              ...f,
              headers: { 'content-type': 'application/json' },
              body: '{"personer":[]}',
            }),
          }
        : undefined;
    const unsigned = await createKrrClient({
      baseUrl: proxy.base,
      auth: () => lookupToken,
      signedAnswers: { trust: trustedCertificate },
    })
      .lookup(asked.slice(0, 1))
      .then(
        () => assert.fail('an unsigned answer is refused'),
        (e: unknown) => e,
      );
    assert.ok(unsigned instanceof KrrSignatureError);
    assert.match(unsigned.message, /is not signed/);
  });

  it('person() with an ID-porten token, signed and verified; printCertificate() without a token', async () => {
    const me = registered.find((p) => p.status === 'AKTIV')!;
    const minted = await krr([
      'token',
      '--data-dir',
      dataDir,
      '--pid',
      me.personidentifikator,
      '--scope',
      'krr:user/kontaktinformasjon.read',
    ]);
    assertOk(minted, 'krr token --pid');
    const idportenToken = minted.stdout.trimEnd().split('\n').at(-1)!;
    const citizen = createKrrClient({
      baseUrl: base,
      auth: () => idportenToken,
      signedAnswers: { trust: trustedCertificate },
    });
    const person = await citizen.person();
    assert.equal(person.personidentifikator, me.personidentifikator);
    assert.equal(person.status, 'AKTIV');
    // A Maskinporten client has no person: it must be given the person's token.
    const system = createKrrClient({ baseUrl: base, auth: jwkAuth({ tokenEndpoint: undefined }) });
    await assert.rejects(system.person(), KrrConfigError);
    assert.equal((await system.person({ token: idportenToken })).personidentifikator, me.personidentifikator);

    assert.deepEqual(await system.printCertificate(), {
      postkasseleverandoerAdresse: PRINT_ORGNO,
      x509Sertifikat: DEMO_DIGIPOST_CERTIFICATE,
    });
  });

  it('retries 503 and 429 (waiting as Retry-After says) and broken connections; not other 4xx', async () => {
    const one = [registered[0]!.personidentifikator];
    const client = viaProxy({ auth: () => lookupToken });

    proxy.reset();
    proxy.rule = (_s, i) => (i < 2 ? { answer: 503, body: '{"errors":[]}' } : undefined);
    assert.equal((await client.lookup(one)).personer.length, 1);
    assert.equal(proxy.to(LOOKUP).length, 3, 'two 503s, then the answer');

    proxy.reset();
    const at: number[] = [];
    proxy.rule = (_s, i) => {
      at.push(Date.now());
      return i === 0 ? { answer: 429, headers: { 'retry-after': '1' } } : undefined;
    };
    assert.equal((await client.lookup(one)).personer.length, 1);
    assert.equal(proxy.to(LOOKUP).length, 2);
    assert.ok(at[1]! - at[0]! >= 950, 'the retry waited the second Retry-After asked for');

    proxy.reset();
    proxy.rule = (_s, i) => (i === 0 ? { destroy: true } : undefined);
    assert.equal((await client.lookup(one)).personer.length, 1);
    assert.equal(proxy.to(LOOKUP).length, 2, 'a broken connection is tried again');

    // Past the retries: the last answer, typed, with the contract's error body.
    proxy.reset();
    const body = {
      errors: [
        { id: 'e1', status: '503', title: 'Service Unavailable', detail: 'the store cannot be reached' },
      ],
    };
    proxy.rule = () => ({ answer: 503, body: JSON.stringify(body) });
    const gaveUp = await client.lookup(one).then(
      () => assert.fail('503 for ever'),
      (e: unknown) => e,
    );
    assert.ok(gaveUp instanceof KrrHttpError);
    assert.equal(gaveUp.status, 503);
    assert.deepEqual(gaveUp.body, body);
    assert.equal(proxy.to(LOOKUP).length, 3, 'the first attempt and 2 retries');

    proxy.reset();
    proxy.rule = () => ({ destroy: true });
    await assert.rejects(client.lookup(one), KrrNetworkError);

    for (const status of [400, 403, 404]) {
      proxy.reset();
      proxy.rule = () => ({
        answer: status,
        body: JSON.stringify({ errors: [{ status: String(status), detail: 'no' }] }),
      });
      await assert.rejects(
        client.lookup(one),
        (e: unknown) => e instanceof KrrHttpError && e.status === status,
      );
      assert.equal(proxy.to(LOOKUP).length, 1, `${status} is not tried again`);
    }
  });

  it('times out an attempt that gets no answer in time, and the caller can abort', async () => {
    const one = [registered[0]!.personidentifikator];
    proxy.reset();
    proxy.rule = () => ({ delayMs: 3_000 });
    const slow = viaProxy({ auth: () => lookupToken, timeoutMs: 150, retries: 0 });
    const err = await slow.lookup(one).then(
      () => assert.fail('no answer in time'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof KrrTimeoutError, String(err));
    assert.equal(err.timeoutMs, 150);

    // Timed out once, answered the second time.
    proxy.reset();
    proxy.rule = (_s, i) => (i === 0 ? { delayMs: 3_000 } : undefined);
    const retrying = viaProxy({ auth: () => lookupToken, timeoutMs: 1_000, retries: 1 });
    assert.equal((await retrying.lookup(one)).personer.length, 1);

    proxy.reset();
    proxy.rule = () => ({ delayMs: 3_000 });
    const controller = new AbortController();
    const pending = viaProxy({ auth: () => lookupToken }).lookup(one, { signal: controller.signal });
    controller.abort(new Error('the caller gave up'));
    await assert.rejects(pending, /the caller gave up/);
  });

  it('gets Maskinporten tokens (JWK, PEM with kid, certificate chain), renews them before expiry and on a 401', async () => {
    const one = [registered[0]!.personidentifikator];
    proxy.reset();
    const client = viaProxy();
    await client.lookup(one);
    const firstToken = proxy.to(LOOKUP)[0]!.authorization!;
    const claims = decodeJwt(firstToken.replace(/^Bearer /, ''));
    assert.equal(claims.client_id, 'client-jwk');
    assert.equal(claims.scope, SCOPES.join(' '));
    await client.lookup(one);
    assert.equal(proxy.to('/token').length, 1, 'the token is kept while it is fresh');

    // The client renews the token once half its life is gone.
    await sleep(TOKEN_LIFETIME_SECONDS * 500 + 100);
    await client.lookup(one);
    assert.equal(proxy.to('/token').length, 2, 'renewed before it expired');
    assert.notEqual(proxy.to(LOOKUP)[2]!.authorization, firstToken);

    // A 401 gets one new token and one more try.
    proxy.reset();
    proxy.rule = (s) =>
      s.path === LOOKUP && proxy.to(LOOKUP).length === 1
        ? { answer: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } }
        : undefined;
    const renewing = viaProxy();
    assert.equal((await renewing.lookup(one)).personer.length, 1);
    const lookups = proxy.to(LOOKUP);
    assert.equal(lookups.length, 2);
    assert.notEqual(lookups[0]!.authorization, lookups[1]!.authorization, 'the retry carries a new token');
    assert.equal(proxy.to('/token').length, 2);

    // A token function that gives the same token again: no second try.
    proxy.reset();
    proxy.rule = (s) => (s.path === LOOKUP ? { answer: 401 } : undefined);
    await assert.rejects(
      viaProxy({ auth: () => lookupToken }).lookup(one),
      (e: unknown) => e instanceof KrrHttpError && e.status === 401,
    );
    assert.equal(proxy.to(LOOKUP).length, 1);

    // The same key as PEM with its kid, through metadata discovery at the issuer.
    const pem = clientKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    const pemClient = createKrrClient({
      baseUrl: base,
      auth: jwkAuth({ key: pem, kid: 'client-jwk-kid', tokenEndpoint: undefined }),
    });
    assert.equal((await pemClient.lookup(one)).personer.length, 1);

    // A business certificate in x5c.
    const x5cClient = createKrrClient({
      baseUrl: base,
      auth: {
        issuer: `${base}/`,
        clientId: 'client-x5c',
        scopes: SCOPES.join(' '),
        key: certificateClient.key,
        certificateChain: certificateClient.pem,
      },
    });
    assert.equal((await x5cClient.lookup(one)).personer.length, 1);

    // A key the client is not registered with: the token service's refusal, typed, without the assertion.
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    proxy.reset();
    const refused = await viaProxy({ auth: jwkAuth({ key: stranger, kid: 'client-jwk-kid' }) })
      .lookup(one)
      .then(
        () => assert.fail('a wrong key gets no token'),
        (e: unknown) => e,
      );
    assert.ok(refused instanceof KrrTokenError, String(refused));
    assert.equal(refused.status, 400);
    assert.equal(refused.error, 'invalid_grant');
    const assertion = new URLSearchParams(proxy.to('/token')[0]!.body).get('assertion')!;
    assert.ok(!refused.message.includes(assertion.split('.')[2]!));
    assert.equal(proxy.to(LOOKUP).length, 0);
  });

  it('refuses options it cannot use at once', () => {
    assert.throws(() => createKrrClient({ baseUrl: 'ftp://x', auth: () => 't' }), KrrConfigError);
    assert.throws(() => createKrrClient({ baseUrl: base, auth: () => 't', concurrency: 0 }), KrrConfigError);
    assert.throws(
      () => createKrrClient({ baseUrl: base, auth: jwkAuth({ kid: undefined, key: clientKey }) }),
      /auth\.kid/,
    );
    assert.throws(
      () =>
        createKrrClient({
          baseUrl: base,
          auth: jwkAuth({ key: clientKey, certificateChain: certificateClient.pem }),
        }),
      /not auth\.key's/,
    );
    assert.throws(
      () =>
        createKrrClient({ baseUrl: base, auth: () => 't', signedAnswers: { trust: 'not a certificate' } }),
      KrrConfigError,
    );
  });
});

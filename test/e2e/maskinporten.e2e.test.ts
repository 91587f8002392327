// The token service end to end, as processes: `krr clients add` registers a client (a private JWK
// file: only its public part is kept), a real `krr serve --dev --demo` listens, and Maskinporten
// clients get tokens and look persons up with only the base URL given: the repo's own Node client
// (src/sync/maskinporten.client.ts: metadata discovery, kid), and a plain fetch client that signs
// with a business certificate (x5c): registered with --pem CERT while the server runs, or issued by
// a CA the server trusts for a client without a key; a self-signed one naming the organisation is
// refused. A bare `krr token` on the same store mints a token the server on its non-default port
// accepts.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, exportJWK, SignJWT } from 'jose';
import { demoPersons } from '../../src/demo/demo-data.js';
import { freePort } from '../../src/maskinporten/free-port.js';
import { loadSigningKey, MaskinportenClient } from '../../src/sync/maskinporten.client.js';
import { assertOk, exited, krr, sleep, startKrr } from '../support/processes.js';
import { copyEmptyEmbeddedStore, freshDatabase, skipReason, STORE_KINDS } from '../support/stores.js';
import { makeBusinessCertificate, makeCa } from '../support/test-certificates.js';
import type { TestCertificate } from '../support/test-certificates.js';

const SCOPES = 'krr:global/kontaktinformasjon.read krr:global/digitalpost.read';
const ORGNO = '991825827';
/** An organisation that delegated to e2e-client (docs/tokens.md#delegations). */
const CUSTOMER = '974760673';

for (const kind of STORE_KINDS) {
  describe(`Maskinporten clients against krr serve --dev (${kind})`, { skip: await skipReason(kind) }, () => {
    let scratch = '';
    let storeArgs: string[] = [];
    let cleanupStore = async () => {};
    let server: ChildProcess | undefined;

    before(async () => {
      scratch = await mkdtemp(join(tmpdir(), 'krr-mp-e2e-'));
      if (kind === 'embedded') {
        // An empty store, copied rather than made by the first command (see copyEmptyEmbeddedStore).
        await copyEmptyEmbeddedStore(join(scratch, 'data'));
        storeArgs = ['--data-dir', join(scratch, 'data')];
      } else {
        const db = await freshDatabase('krr_mp_e2e');
        storeArgs = ['--database', db.url];
        cleanupStore = db.cleanup;
      }
    });

    after(async () => {
      if (server && server.exitCode === null && server.signalCode === null) {
        server.kill('SIGKILL');
        await exited(server);
      }
      await cleanupStore();
      await rm(scratch, { recursive: true, force: true });
    });

    it('clients add, serve, the Node client and a fetch client with x5c get tokens and look up', async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const keyFile = join(scratch, 'client-key.json');
      await writeFile(
        keyFile,
        JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'e2e-kid', alg: 'RS256' }),
      );
      const added = await krr([
        'clients',
        'add',
        ...storeArgs,
        '--client-id',
        'e2e-client',
        '--orgno',
        ORGNO,
        '--scopes',
        SCOPES,
        '--jwk',
        keyFile,
        '--delegated-by',
        CUSTOMER,
      ]);
      assertOk(added, 'clients add');
      assert.match(added.stdout, /registered client e2e-client .*delegated by 974760673/);
      if (kind === 'embedded') {
        const kept = await readFile(join(scratch, 'data', 'maskinporten-clients.json'), 'utf8');
        assert.ok(!kept.includes('"d"'), 'only the public key is kept');
      }

      const port = await freePort('127.0.0.1');
      const base = `http://127.0.0.1:${port}`;
      // The CA the operator trusts for client certificates (trustedClientCas).
      const ca = await makeCa('E2E Business CA');
      const caIssued = await makeBusinessCertificate({ commonName: 'Virksomhet AS', orgno: ORGNO }, ca);
      const caFile = join(scratch, 'client-ca.pem');
      await writeFile(caFile, ca.pem);
      server = startKrr(['serve', '--dev', '--demo', ...storeArgs, '--port', String(port)], {
        KRR_TRUSTED_CLIENT_CAS: caFile,
      });
      let serverOut = '';
      server.stdout!.setEncoding('utf8').on('data', (s: string) => (serverOut += s));
      server.stderr!.setEncoding('utf8').on('data', (s: string) => (serverOut += s));
      const deadline = Date.now() + 60_000;
      for (;;) {
        assert.ok(server.exitCode === null, `serve exited early: ${serverOut}`);
        const status = await fetch(`${base}/health/ready`).then(
          (r) => r.status,
          () => 0,
        );
        if (status === 200) break;
        assert.ok(Date.now() < deadline, `not ready within 60 s: ${serverOut}`);
        await sleep(200);
      }
      assert.match(serverOut, new RegExp(`issuer ${base}/`));
      const person = demoPersons(Date.now())[0]!.person.personidentifikator;
      const lookup = async (token: string) => {
        const res = await fetch(`${base}/rest/v2/personer`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ personidentifikatorer: [person] }),
        });
        const text = await res.text();
        assert.equal(res.status, 200, text);
        const body = JSON.parse(text) as {
          personer: { personidentifikator: string; kontaktinformasjon?: unknown }[];
        };
        assert.equal(body.personer[0]!.personidentifikator, person);
        assert.ok(body.personer[0]!.kontaktinformasjon, 'the scope grants contact data');
      };

      // The repo's own Maskinporten client (krr sync's): discovers the metadata under the issuer.
      const client = new MaskinportenClient({
        issuer: `${base}/`,
        clientId: 'e2e-client',
        signingKey: await loadSigningKey(keyFile),
        scopes: SCOPES.split(' '),
      });
      await lookup(await client.token());
      assert.equal(client.lastToken?.expiresIn, 120);
      assert.equal(client.lastToken?.scope, SCOPES);

      // consumer_org: the organisation registered with --delegated-by, and no other.
      const delegated = async (consumerOrg: string) => {
        const res = await fetch(`${base}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
            assertion: await new SignJWT({ scope: SCOPES, consumer_org: consumerOrg })
              .setProtectedHeader({ alg: 'RS256', kid: 'e2e-kid' })
              .setAudience(`${base}/`)
              .setIssuer('e2e-client')
              .setIssuedAt()
              .setExpirationTime('60s')
              .setJti(randomUUID())
              .sign(privateKey),
          }),
        });
        return { status: res.status, body: (await res.json()) as { access_token?: string; error?: string } };
      };
      const asCustomer = await delegated(CUSTOMER);
      assert.equal(asCustomer.status, 200, JSON.stringify(asCustomer.body));
      assert.deepEqual(decodeJwt(asCustomer.body.access_token!).consumer, {
        authority: 'iso6523-actorid-upis',
        ID: `0192:${CUSTOMER}`,
      });
      await lookup(asCustomer.body.access_token!);
      assert.deepEqual(await delegated('984661185'), {
        status: 400,
        body: {
          error: 'invalid_grant',
          error_description: 'consumer_org names an organisation that has not delegated to the client',
        },
      });

      const metadata = (await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json()) as {
        issuer: string;
        token_endpoint: string;
      };
      assert.equal(metadata.issuer, `${base}/`);
      const x5cGrant = async (clientId: string, signer: TestCertificate, chain: TestCertificate[]) => {
        const iat = Math.floor(Date.now() / 1000);
        const assertion = await new SignJWT({ scope: SCOPES })
          .setProtectedHeader({ alg: 'RS256', x5c: chain.map((c) => c.der) })
          .setAudience(metadata.issuer)
          .setIssuer(clientId)
          .setIssuedAt(iat)
          .setExpirationTime(iat + 120)
          .setJti(randomUUID())
          .sign(signer.key);
        const res = await fetch(metadata.token_endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
          body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
        });
        return { status: res.status, body: (await res.json()) as { access_token: string; error?: string } };
      };

      // Certificate clients registered while the server runs (the embedded store is held by it):
      // one with its certificate (--pem CERT --kid), one without a key (x5c from a trusted CA only).
      const pemCert = await makeBusinessCertificate({ commonName: 'Sertifikat AS', orgno: ORGNO });
      const pemFile = join(scratch, 'client-cert.pem');
      await writeFile(pemFile, pemCert.pem);
      for (const args of [
        ['--client-id', 'e2e-pem-client', '--pem', pemFile, '--kid', 'e2e-pem-kid'],
        ['--client-id', 'e2e-cert-client'],
      ]) {
        assertOk(
          await krr(['clients', 'add', ...storeArgs, ...args, '--orgno', ORGNO, '--scopes', SCOPES]),
          'clients add while serving',
        );
      }
      const fromPem = await x5cGrant('e2e-pem-client', pemCert, [pemCert]);
      assert.equal(fromPem.status, 200, JSON.stringify(fromPem.body));
      await lookup(fromPem.body.access_token);
      const fromCa = await x5cGrant('e2e-cert-client', caIssued, [caIssued, ca]);
      assert.equal(fromCa.status, 200, JSON.stringify(fromCa.body));
      await lookup(fromCa.body.access_token);
      // A self-signed certificate naming the organisation is no business certificate, also in dev mode.
      const forged = await makeBusinessCertificate({ commonName: 'Sertifikat AS', orgno: ORGNO });
      for (const clientId of ['e2e-cert-client', 'e2e-pem-client', 'e2e-client']) {
        const refused = await x5cGrant(clientId, forged, [forged]);
        assert.equal(refused.status, 400, JSON.stringify(refused.body));
        assert.equal(refused.body.error, 'invalid_grant');
      }

      // A bare `krr token` mints for the issuer the server recorded (its port is not the default).
      const bare = await krr(['token', ...storeArgs, '--scope', SCOPES]);
      assertOk(bare, 'krr token');
      await lookup(bare.stdout.trimEnd().split('\n').at(-1)!);

      const listed = await krr(['clients', 'list', ...storeArgs]);
      assertOk(listed, 'clients list');
      assert.match(listed.stdout, /^e2e-cert-client {2}991825827 {2}\(x5c only\)/m);
      assert.match(listed.stdout, /^e2e-pem-client {2}991825827 {2}e2e-pem-kid {2}krr:global/m);
      assert.match(
        listed.stdout,
        /^e2e-client {2}991825827 {2}e2e-kid {2}krr:global\S+ \S+ {2}delegated-by 974760673$/m,
      );

      const bad = await krr([
        'clients',
        'add',
        ...storeArgs,
        '--client-id',
        'x',
        '--orgno',
        '991825828',
        '--scopes',
        'a:b',
      ]);
      assert.notEqual(bad.code, 0, 'a bad organisation number is refused');
      assert.match(bad.stderr, /check digit/);
      assert.doesNotMatch(bad.stderr, /^\s+at /m, 'a message, not a stack trace');
      assertOk(
        await krr(['clients', 'remove', ...storeArgs, '--client-id', 'e2e-cert-client']),
        'clients remove',
      );
      const removed = await x5cGrant('e2e-cert-client', caIssued, [caIssued]);
      assert.equal(removed.status, 400, 'a removed client gets no token');
      assert.equal(removed.body.error, 'invalid_grant');

      server.kill('SIGTERM');
      assert.equal((await exited(server)).code, 0, serverOut);
    });
  });
}

// Clients of the token service: reading keys (JWK, JWK Set, PEM key or certificate; only public
// parts kept), and the service on both stores (PostgreSQL tables; the embedded store's file).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportJWK } from 'jose';
import { ConflictError, InvalidValueError, NotFoundError } from '../errors/errors.js';
import { makeBusinessCertificate } from '../../test/support/test-certificates.js';
import { openTestStore, skipReason, STORE_KINDS } from '../../test/support/stores.js';
import type { TestStore } from '../../test/support/stores.js';
import { parseClientKeys } from './client-key.js';
import { clientRepositoryFor, ClientService } from './client.service.js';

let rsa: { publicKey: KeyObject; privateKey: KeyObject };

before(() => {
  rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
});

describe('parseClientKeys', () => {
  it('keeps only the public part of a private JWK, with its kid', async () => {
    const jwk = { ...(await exportJWK(rsa.privateKey)), kid: 'k1', alg: 'RS256' };
    const [key] = parseClientKeys(JSON.stringify(jwk), 'key.json');
    assert.equal(key!.kid, 'k1');
    assert.deepEqual(Object.keys(key!.publicJwk).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
    assert.equal(key!.publicJwk.n, jwk.n);
  });

  it('reads every key of a JWK Set, and --kid overrides the kid of one key', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const set = {
      keys: [
        { ...(await exportJWK(rsa.publicKey)), kid: 'a' },
        { ...(await exportJWK(other.publicKey)), kid: 'b' },
      ],
    };
    assert.deepEqual(
      parseClientKeys(JSON.stringify(set), 'set.json').map((k) => k.kid),
      ['a', 'b'],
    );
    assert.equal(parseClientKeys(JSON.stringify(set.keys[0]), 'k.json', 'renamed')[0]!.kid, 'renamed');
    assert.throws(() => parseClientKeys(JSON.stringify(set), 'set.json', 'x'), InvalidValueError);
  });

  it('reads PEM public keys, private keys (public part) and certificates, with --kid', async () => {
    const pub = rsa.publicKey.export({ format: 'pem', type: 'spki' }) as string;
    const priv = rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    const fromPub = parseClientKeys(pub, 'pub.pem', 'p')[0]!;
    const fromPriv = parseClientKeys(priv, 'priv.pem', 'p')[0]!;
    assert.deepEqual(fromPub, fromPriv);
    assert.equal(fromPub.publicJwk.d, undefined);
    const cert = await makeBusinessCertificate({ commonName: 'AS', orgno: '991825827' });
    const fromCert = parseClientKeys(cert.pem, 'cert.pem', 'c')[0]!;
    assert.equal(fromCert.certificate, cert.der);
    assert.equal(fromCert.kid, 'c');
  });

  it('refuses a PEM without --kid, a JWK without kid, EC keys, short RSA keys, and junk', async () => {
    const pub = rsa.publicKey.export({ format: 'pem', type: 'spki' }) as string;
    assert.throws(() => parseClientKeys(pub, 'pub.pem'), /--kid/);
    const noKid = JSON.stringify(await exportJWK(rsa.publicKey));
    assert.throws(() => parseClientKeys(noKid, 'k.json'), /no kid/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    assert.throws(
      () => parseClientKeys(ec.publicKey.export({ format: 'pem', type: 'spki' }) as string, 'ec.pem', 'e'),
      /RSA/,
    );
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 });
    assert.throws(
      () => parseClientKeys(short.publicKey.export({ format: 'pem', type: 'spki' }) as string, 's.pem', 's'),
      /2048/,
    );
    assert.throws(() => parseClientKeys('hello', 'x.txt', 'k'), InvalidValueError);
    assert.throws(() => parseClientKeys('{"kty":', 'x.json'), /JSON/);
  });
});

for (const kind of STORE_KINDS) {
  describe(`ClientService (${kind})`, { skip: await skipReason(kind) }, () => {
    let store: TestStore;
    let service: ClientService;

    before(async () => {
      store = await openTestStore(kind);
      service = new ClientService(clientRepositoryFor(store.config, store.db));
    });

    after(async () => {
      await store?.dispose();
    });

    it('adds, lists, adds keys, removes keys and clients', async () => {
      const jwk = { ...(await exportJWK(rsa.publicKey)), kid: 'k1' };
      const [k1] = parseClientKeys(JSON.stringify(jwk), 'k.json');
      await service.add({ clientId: 'b-client', orgno: '991825827', scopes: 'a:b  c:d a:b', keys: [k1!] });
      await service.add({ clientId: 'a-client', orgno: '974760673', scopes: 'x:y', keys: [] });
      const list = await service.list();
      assert.deepEqual(
        list.map((c) => [c.clientId, c.orgno, c.scopes, c.keys.map((k) => k.kid)]),
        [
          ['a-client', '974760673', ['x:y'], []],
          ['b-client', '991825827', ['a:b', 'c:d'], ['k1']],
        ],
      );
      assert.deepEqual(list[1]!.keys[0]!.publicJwk, k1!.publicJwk);

      await assert.rejects(
        service.add({ clientId: 'b-client', orgno: '991825827', scopes: 'a:b', keys: [] }),
        ConflictError,
      );
      const k2 = parseClientKeys(JSON.stringify({ ...jwk, kid: 'k2' }), 'k.json');
      await service.addKeys('b-client', k2);
      await assert.rejects(service.addKeys('b-client', k2), ConflictError);
      await assert.rejects(service.addKeys('nobody', k2), NotFoundError);
      assert.deepEqual(
        (await service.list())[1]!.keys.map((k) => k.kid),
        ['k1', 'k2'],
      );
      await service.removeKey('b-client', 'k1');
      await assert.rejects(service.removeKey('b-client', 'k1'), NotFoundError);
      assert.deepEqual(
        (await service.list())[1]!.keys.map((k) => k.kid),
        ['k2'],
      );
      await service.remove('a-client');
      await assert.rejects(service.remove('a-client'), NotFoundError);
      assert.deepEqual(
        (await service.list()).map((c) => c.clientId),
        ['b-client'],
      );
    });

    it('keeps the organisations that delegated to a client (--delegated-by), checked, once each', async () => {
      await service.add({
        clientId: 'delegated-client',
        orgno: '991825827',
        scopes: 'a:b',
        keys: [],
        delegatedBy: ['984661185', '974760673', '984661185', '991825827'],
      });
      const found = (await service.list()).find((c) => c.clientId === 'delegated-client');
      // Its own organisation needs no delegation; each other one is kept once.
      assert.deepEqual(found?.delegatedBy, ['974760673', '984661185']);
      await assert.rejects(
        service.add({
          clientId: 'bad-delegation',
          orgno: '991825827',
          scopes: 'a:b',
          keys: [],
          delegatedBy: ['984661186'],
        }),
        /delegated-by.*check digit/,
      );
      assert.ok(!(await service.list()).some((c) => c.clientId === 'bad-delegation'));
      await service.remove('delegated-client');
    });

    it('checks the organisation number (mod 11), the client id and the scopes', async () => {
      await assert.rejects(
        service.add({ clientId: 'c', orgno: '991825828', scopes: 'a:b', keys: [] }),
        /check digit/,
      );
      await assert.rejects(
        service.add({ clientId: 'c', orgno: '991825827', scopes: '  ', keys: [] }),
        /scope/,
      );
      await assert.rejects(
        service.add({ clientId: 'with space', orgno: '991825827', scopes: 'a:b', keys: [] }),
        /client id/,
      );
    });

    it('reads clients kept before delegations were (no delegatedBy) as having none', async () => {
      if (store.config.kind !== 'embedded') return;
      const path = join(store.config.dataDir, 'maskinporten-clients.json');
      await writeFile(
        path,
        JSON.stringify({ clients: [{ clientId: 'old', orgno: '991825827', scopes: ['a:b'], keys: [] }] }),
      );
      assert.deepEqual(
        (await service.list()).map((c) => [c.clientId, c.delegatedBy]),
        [['old', []]],
      );
      await service.remove('old');
    });

    it('loses no client when several are added at once', async () => {
      const ids = Array.from({ length: 8 }, (_, i) => `parallel-${i}`);
      await Promise.all(
        ids.map((clientId) => service.add({ clientId, orgno: '991825827', scopes: 'a:b', keys: [] })),
      );
      const listed = (await service.list()).map((c) => c.clientId);
      for (const id of ids) assert.ok(listed.includes(id), `${id} is kept`);
    });
  });
}

// Several nodes on one PostgreSQL database (docs/operations.md#several-nodes): two `krr serve`
// processes with the same public URL. A write through node 1 shows in a lookup on node 2 within a
// second, although node 2 had the person in its lookup cache; a token from node 1's dev token
// service is accepted by node 2; an assertion used at node 1 is refused when replayed at node 2.

import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { exportJWK, SignJWT } from 'jose';
import { demoPersons } from '../../src/demo/demo-data.js';
import { startNode } from '../support/nodes.js';
import type { Node } from '../support/nodes.js';
import { assertOk, devToken, freePort, killHard, krr } from '../support/processes.js';
import { freshDatabase, skipReason } from '../support/stores.js';

const SCOPES = 'krr:global/kontaktinformasjon.read';

describe('several nodes on one PostgreSQL', { skip: await skipReason('postgres') }, () => {
  let scratch: string;
  let database: { url: string; cleanup: () => Promise<void> };
  const nodes: Node[] = [];
  let publicUrl: string;

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'krr-nodes-'));
    database = await freshDatabase('krr_nodes');
    // The URL a load balancer would have: both nodes' dev issuer and token endpoint.
    publicUrl = `http://127.0.0.1:${await freePort()}`;
    nodes.push(
      await startNode('n1', await freePort(), { database: database.url, publicUrl, extraArgs: ['--demo'] }),
    );
    nodes.push(
      await startNode('n2', await freePort(), {
        database: database.url,
        publicUrl,
        extraArgs: ['--no-jobs'],
      }),
    );
  });
  after(async () => {
    for (const node of nodes) await killHard(node.child);
    await database?.cleanup();
    await rm(scratch, { recursive: true, force: true });
  });

  const lookup = async (node: Node, token: string, pid: string) => {
    const res = await fetch(`${node.base}/rest/v2/personer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ personidentifikatorer: [pid] }),
    });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    return (JSON.parse(text) as { personer: { kontaktinformasjon?: { epostadresse?: string } }[] })
      .personer[0]!;
  };

  it('a write through node 1 is seen by a lookup on node 2 within 1 s, its cache included', async () => {
    const [n1, n2] = nodes as [Node, Node];
    const token = await devToken(['--database', database.url], `${SCOPES} krr:testdata.write`);
    const pid = demoPersons(Date.now())[0]!.person.personidentifikator;
    // Node 2 has the person in its cache now.
    const before = await lookup(n2, token, pid);
    const address = `nodes-${randomUUID().slice(0, 8)}@example.test`;
    assert.notEqual(before.kontaktinformasjon?.epostadresse, address);
    const put = await fetch(`${n1.base}/testdata/personer/${pid}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        status: 'AKTIV',
        reservasjon: 'NEI',
        kontaktinformasjon: { epostadresse: address, epostadresse_oppdatert: '-P1D' },
      }),
    });
    assert.equal(put.status, 200, await put.text());
    const deadline = Date.now() + 1000;
    for (;;) {
      const seen = (await lookup(n2, token, pid)).kontaktinformasjon?.epostadresse;
      if (seen === address) break;
      assert.ok(Date.now() < deadline, `node 2 still answers ${seen} a second after the write`);
      await sleep(20);
    }
  });

  it("node 1's token service issues a token node 2 accepts; its assertion replayed at node 2 is refused", async () => {
    const [n1, n2] = nodes as [Node, Node];
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyFile = join(scratch, 'client-key.json');
    await writeFile(
      keyFile,
      JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'nodes-kid', alg: 'RS256' }),
    );
    assertOk(
      await krr([
        'clients',
        'add',
        '--database',
        database.url,
        '--client-id',
        'nodes-client',
        '--orgno',
        '991825827',
        '--scopes',
        SCOPES,
        '--jwk',
        keyFile,
      ]),
      'clients add',
    );
    const assertion = await new SignJWT({ scope: SCOPES })
      .setProtectedHeader({ alg: 'RS256', kid: 'nodes-kid' })
      .setAudience(`${publicUrl}/`)
      .setIssuer('nodes-client')
      .setIssuedAt()
      .setExpirationTime('60s')
      .setJti(randomUUID())
      .sign(privateKey);
    const grant = (node: Node) =>
      fetch(`${node.base}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
      }).then(async (res) => ({
        status: res.status,
        body: (await res.json()) as { access_token?: string; error?: string },
      }));
    const issued = await grant(n1);
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    const pid = demoPersons(Date.now())[1]!.person.personidentifikator;
    await lookup(n2, issued.body.access_token!, pid);
    const replayed = await grant(n2);
    assert.equal(replayed.status, 400, JSON.stringify(replayed.body));
    assert.equal(replayed.body.error, 'invalid_grant');
    assert.equal(replayed.body.access_token, undefined);
  });
});

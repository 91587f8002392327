// `krr folkeregister sync` and `krr folkeregister status` as real processes (docs/folkeregister.md#commands),
// on both stores, against Folkeregisteret's event list over loopback (test/support/fake-folkeregister.ts):
// --once with a token and with a Maskinporten client, the summary and the status, a bad event's exit
// code and message, and bad use.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, exportJWK, exportPKCS8, generateKeyPair, jwtVerify } from 'jose';
import { renderExportLine, renderPerson } from '../answer/answer.render.js';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import type { Person } from '../person/person.js';
import { DEFAULT_FOLKEREGISTER_SCOPES } from '../sync/folkeregister.client.js';
import { exportLines, persons } from '../../test/support/fake-feed.js';
import { FakeFolkeregister, FREG_TOKEN } from '../../test/support/fake-folkeregister.js';
import { closed, krr, sleep, startKrr } from '../../test/support/processes.js';
import { copyEmptyEmbeddedStore, freshDatabase, skipReason, STORE_KINDS } from '../../test/support/stores.js';

const D_NUMMER = makeIdentifier({ day: 12, month: 6, year: 95, dNumber: true });
const FOEDSELSNUMMER = makeIdentifier({ day: 12, month: 6, year: 95 });

const lines = (list: readonly Person[]) => list.map((p) => `${renderExportLine(renderPerson(p))}\n`).join('');

for (const kind of STORE_KINDS) {
  describe(`krr folkeregister as a process (${kind} store)`, { skip: await skipReason(kind) }, () => {
    const freg = new FakeFolkeregister();
    let scratch: string;
    const cleanups: (() => Promise<void>)[] = [];
    const store = async (): Promise<string[]> => {
      if (kind === 'embedded') {
        const dir = await mkdtemp(join(scratch, 'store-'));
        await rm(dir, { recursive: true });
        await copyEmptyEmbeddedStore(dir);
        return ['--data-dir', dir];
      }
      const db = await freshDatabase('krr_freg');
      cleanups.push(db.cleanup);
      return ['--database', db.url];
    };

    before(async () => {
      await freg.start();
      scratch = await mkdtemp(join(tmpdir(), 'krr-freg-cli-'));
    });
    after(async () => {
      await freg.stop();
      for (const c of cleanups) await c();
      await rm(scratch, { recursive: true, force: true });
    });

    it('sync --once with --token applies deaths and new identifiers, prints a summary; status shows position, counts and conflicts', async () => {
      freg.reset();
      const [a, b, c, d] = persons(20, 7).filter((p) => p.status === 'AKTIV');
      const moved = { ...b!, personidentifikator: D_NUMMER };
      const args = await store();
      const imported = await krr(['import', ...args], lines([a!, moved, c!, d!]));
      assert.equal(imported.code, 0, imported.stderr);

      freg.other(a!.personidentifikator, 'utflytting');
      freg.death(a!.personidentifikator);
      freg.newIdentifier(D_NUMMER, FOEDSELSNUMMER);
      const conflict = freg.newIdentifier(c!.personidentifikator, d!.personidentifikator);
      const last = freg.other(d!.personidentifikator, 'flyttingTilAnnenKommune');

      const run = await krr([
        'folkeregister',
        'sync',
        '--from',
        freg.url,
        '--token',
        FREG_TOKEN,
        '--once',
        ...args,
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(
        run.stdout,
        new RegExp(
          `^read 5 events in 3 pages from ${freg.url} in [0-9.]+ s: sequence number 0 → ${last}, up to date\n`,
        ),
      );
      assert.match(run.stdout, /\n {2}doedsfall:slettet: 1\n/);
      assert.match(run.stdout, new RegExp(`conflicts for the operator .*: sekvensnummer ${conflict};`));
      for (const id of [a!, b!, c!, d!].map((p) => p.personidentifikator).concat(D_NUMMER, FOEDSELSNUMMER)) {
        assert.doesNotMatch(run.stdout + run.stderr, new RegExp(id), 'no identifier in the output');
      }

      const exported = await krr(['export', ...args]);
      assert.equal(
        exported.stdout,
        exportLines([
          { personidentifikator: a!.personidentifikator, status: 'SLETTET', reservasjon: 'NEI' },
          { personidentifikator: D_NUMMER, status: 'SLETTET', reservasjon: 'NEI' },
          { ...b!, personidentifikator: FOEDSELSNUMMER },
          c!,
          d!,
        ]),
      );

      const status = await krr(['folkeregister', 'status', ...args]);
      assert.equal(status.code, 0, status.stderr);
      assert.match(
        status.stdout,
        new RegExp(`^position: sequence number ${last} \\(committed [0-9-]+T[0-9:]+Z\\)\n`),
      );
      assert.match(status.stdout, /\n {2}endringIIdentifikasjonsnummer:konflikt: 1\n/);
      assert.match(status.stdout, /\n {2}utflytting: 1\n/);
      assert.match(
        status.stdout,
        new RegExp(
          `\n {2}sekvensnummer ${conflict} {2}endringIIdentifikasjonsnummer: the new identifier already has an entry`,
        ),
      );

      // Again: nothing new, nothing applied twice.
      const again = await krr([
        'folkeregister',
        'sync',
        '--from',
        freg.url,
        '--token',
        FREG_TOKEN,
        '--once',
        ...args,
      ]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(
        again.stdout,
        new RegExp(`^read 0 events in 1 page .*sequence number ${last} → ${last}, up to date\n$`),
      );
      assert.equal((await krr(['export', ...args])).stdout, exported.stdout);
    });

    it('following (no --once): SIGTERM stops it cleanly with its summary; the next run resumes', async () => {
      freg.reset();
      const [a, b] = persons(5, 9).filter((p) => p.status === 'AKTIV');
      const args = await store();
      const imp = await krr(['import', ...args], lines([a!, b!]));
      assert.equal(imp.code, 0, imp.stderr);
      freg.death(a!.personidentifikator);
      freg.other(a!.personidentifikator, 'utflytting');
      const child = startKrr([
        'folkeregister',
        'sync',
        '--from',
        freg.url,
        '--token',
        FREG_TOKEN,
        '--interval',
        '1',
        ...args,
      ]);
      let stdout = '';
      let stderr = '';
      child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
      child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      const done = closed(child);
      // The second request is the empty page: caught up, now waiting to ask again.
      while (freg.requests.length < 2) {
        if (child.exitCode !== null) throw new Error(`the sync ended early: ${stderr}`);
        await sleep(20);
      }
      child.kill('SIGTERM');
      const { code } = await done;
      assert.equal(code, 0, stderr);
      assert.match(stderr, /stopping after the current page/);
      assert.match(stdout, /^read 2 events in 2 pages .*sequence number 0 → 2, up to date\n/);

      freg.death(b!.personidentifikator);
      const next = await krr([
        'folkeregister',
        'sync',
        '--from',
        freg.url,
        '--token',
        FREG_TOKEN,
        '--once',
        ...args,
      ]);
      assert.equal(next.code, 0, next.stderr);
      assert.match(next.stdout, /sequence number 2 → 3, up to date/);
    });

    it('a bad event: exit code 1, a message naming its sequence number and not the identifier; the events before it committed', async () => {
      freg.reset();
      const [a] = persons(5, 8).filter((p) => p.status === 'AKTIV');
      const args = await store();
      assert.equal((await krr(['import', ...args], lines([a!]))).code, 0);
      freg.death(a!.personidentifikator);
      const bad = freg.raw((seq) => ({ sekvensnummer: seq, hendelse: { hendelsestype: 'doedsfall' } }));

      const run = await krr([
        'folkeregister',
        'sync',
        '--from',
        freg.url,
        '--token',
        FREG_TOKEN,
        '--once',
        ...args,
      ]);
      assert.equal(run.code, 1);
      assert.equal(
        run.stderr,
        `krr: Folkeregisteret's event at sequence number ${bad} cannot be applied: hendelse.folkeregisteridentifikator is missing; ` +
          `nothing of it was applied, and the position stays at ${bad - 1}\n`,
      );
      const status = await krr(['folkeregister', 'status', ...args]);
      assert.match(status.stdout, new RegExp(`^position: sequence number ${bad - 1} `));
    });
  });
}

describe('krr folkeregister sync: Maskinporten and bad use', () => {
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'krr-freg-mp-'));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  it("with a Maskinporten client: one token with Folkeregisteret's scope for every request", async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = 'freg-client-key';
    const pemPath = join(scratch, 'client.pem');
    await writeFile(pemPath, await exportPKCS8(privateKey));
    const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256' }] });
    const scopes: string[] = [];
    let issuer = '';
    const answer = async (req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      res.setHeader('content-type', 'application/json');
      if (req.url === '/.well-known/oauth-authorization-server') {
        return res.end(JSON.stringify({ issuer, token_endpoint: `${issuer}token` }));
      }
      try {
        const { payload } = await jwtVerify(new URLSearchParams(body).get('assertion') ?? '', jwks, {
          audience: issuer,
          issuer: 'krr-freg',
        });
        scopes.push(String(payload.scope));
        res.end(JSON.stringify({ access_token: 'mp-freg-token', token_type: 'Bearer', expires_in: 120 }));
      } catch {
        res.statusCode = 400;
        res.end(JSON.stringify({ error: 'invalid_grant' }));
      }
    };
    const maskinporten: Server = createServer((req, res) => void answer(req, res));
    await new Promise<void>((r) => maskinporten.listen(0, '127.0.0.1', r));
    issuer = `http://127.0.0.1:${(maskinporten.address() as AddressInfo).port}/`;
    const freg = new FakeFolkeregister('mp-freg-token');
    await freg.start();
    try {
      for (let i = 0; i < 7; i++)
        freg.other(makeIdentifier({ day: 1 + i, month: 3, year: 80 }), 'utflytting');
      const dir = join(scratch, 'store');
      await copyEmptyEmbeddedStore(dir);
      const run = await krr([
        'folkeregister',
        'sync',
        '--from',
        freg.url,
        '--maskinporten-issuer',
        issuer,
        '--client-id',
        'krr-freg',
        '--key',
        pemPath,
        '--kid',
        kid,
        '--once',
        '--data-dir',
        dir,
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^read 7 events in 4 pages /);
      assert.deepEqual(scopes, [DEFAULT_FOLKEREGISTER_SCOPES.join(' ')]);
    } finally {
      await freg.stop();
      maskinporten.closeAllConnections();
      await new Promise<void>((r) => maskinporten.close(() => r()));
    }
  });

  it('bad use is a configuration error (exit code 2)', async () => {
    const dir = join(scratch, 'unused');
    for (const [args, message] of [
      [['--from', 'http://127.0.0.1:9'], /the source needs a token/],
      [
        ['--from', 'http://127.0.0.1:9', '--token', 't', '--interval', '0'],
        /--interval must be a positive number/,
      ],
      [['--from', 'not a url', '--token', 't'], /--from must be a URL/],
    ] as const) {
      const run = await krr(['folkeregister', 'sync', ...args, '--once', '--data-dir', dir]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, message);
    }
  });
});

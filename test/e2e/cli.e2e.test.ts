// The CLI as real processes: `krr import` / `krr export` on a
// fresh store, all-or-nothing import with the line number, stdin, the export round trip, and then
// exactly the checker's sequence: `serve --dev ... --clock 2018-06-01T12:00:00+02:00`, ready on
// GET /health/ready, `token ...` whose last line is a token the running server accepts, and the
// 18-month example (docs/freshness.md#example) over real HTTP.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_DIGIPOST_CERTIFICATE } from '../../src/demo/demo-certificates.js';
import { makeIdentifier } from '../../src/identifier/identifier.generate.js';
import type { StoreKind } from '../../src/store/database.js';
import { assertOk, exited, freePort, krr, sleep, startKrr } from '../support/processes.js';
import { copyEmptyEmbeddedStore, freshDatabase, skipReason, STORE_KINDS } from '../support/stores.js';

const CERT = DEMO_DIGIPOST_CERTIFICATE;

// The 18-month example (docs/freshness.md#example): now 2018-06-01T12:00:00+02:00 gives the boundary
// 2016-12-01T12:00:00+01:00; a channel verified at that instant is fresh, one second earlier stale.
const CLOCK = '2018-06-01T12:00:00+02:00';
const FRESH = makeIdentifier({ day: 1, month: 1, year: 90 });
const STALE = makeIdentifier({ day: 2, month: 1, year: 90 });
const RESERVED = makeIdentifier({ day: 3, month: 1, year: 90 });
const DELETED = makeIdentifier({ day: 4, month: 1, year: 90 });
const D_NUMBER = makeIdentifier({ day: 5, month: 1, year: 90, dNumber: true });
const UNKNOWN = makeIdentifier({ day: 6, month: 1, year: 90 });

const INPUT = [
  {
    personidentifikator: FRESH,
    status: 'AKTIV',
    kontaktinformasjon: {
      epostadresse: 'frisk@example.no',
      epostadresse_oppdatert: '2015-03-11T18:57:52Z',
      epostadresse_sist_verifisert: '2016-12-01T12:00:00+01:00',
    },
    digital_post: { postkasseadresse: 'frisk.person#9YDT', postkasseleverandoeradresse: '984661185' },
    sertifikat: CERT,
    spraak: 'nb',
    spraak_oppdatert: '2020-11-12T10:00:58.250Z',
  },
  {
    personidentifikator: STALE,
    status: 'AKTIV',
    kontaktinformasjon: {
      mobiltelefonnummer: '+4799999999',
      mobiltelefonnummer_oppdatert: '2015-03-11T18:57:52Z',
      mobiltelefonnummer_sist_verifisert: '2016-12-01T11:59:59+01:00',
    },
  },
  {
    personidentifikator: RESERVED,
    reservasjon: 'JA',
    reservasjonstidspunkt: '2017-11-07T08:48:38Z',
    reservasjon_oppdatert: '2017-11-07T09:48:38+01:00',
    status: 'AKTIV',
    kontaktinformasjon: {
      epostadresse: 'reservert@example.no',
      epostadresse_sist_verifisert: '2018-05-01T00:00:00Z',
    },
  },
  {
    personidentifikator: DELETED,
    status: 'SLETTET',
    kontaktinformasjon: { epostadresse: 'borte@example.no' },
  },
  { personidentifikator: D_NUMBER, status: 'AKTIV', spraak: 'se' },
]
  .map((p) => `${JSON.stringify(p)}\n`)
  .join('');

// Written by hand from docs/register.md#the-person-record, docs/lookup.md#field-order and
// docs/import-export.md#export.
const EXPECTED_EXPORT = [
  `{"personidentifikator":"${FRESH}","reservasjon":"NEI","status":"AKTIV","kontaktinformasjon":{"epostadresse":"frisk@example.no",` +
    `"epostadresse_oppdatert":"2015-03-11T19:57:52+01","epostadresse_sist_verifisert":"2016-12-01T12:00:00+01"},` +
    `"digital_post":{"postkasseadresse":"frisk.person#9YDT","postkasseleverandoeradresse":"984661185"},` +
    `"sertifikat":"${CERT}","spraak":"nb","spraak_oppdatert":"2020-11-12T11:00:58+01"}`,
  `{"personidentifikator":"${STALE}","reservasjon":"NEI","status":"AKTIV","kontaktinformasjon":{"mobiltelefonnummer":"+4799999999",` +
    `"mobiltelefonnummer_oppdatert":"2015-03-11T19:57:52+01","mobiltelefonnummer_sist_verifisert":"2016-12-01T11:59:59+01"}}`,
  `{"personidentifikator":"${RESERVED}","reservasjon":"JA","reservasjonstidspunkt":"2017-11-07T09:48:38+01",` +
    `"reservasjon_oppdatert":"2017-11-07T09:48:38+01","status":"AKTIV",` +
    `"kontaktinformasjon":{"epostadresse":"reservert@example.no","epostadresse_sist_verifisert":"2018-05-01T02:00:00+02"}}`,
  `{"personidentifikator":"${DELETED}","status":"SLETTET"}`,
  `{"personidentifikator":"${D_NUMBER}","reservasjon":"NEI","status":"AKTIV","spraak":"se"}`,
]
  .map((l) => `${l}\n`)
  .join('');

// Line 3 has a bad check digit; lines 1 and 2 are good and must not be written either.
const BAD_AT_LINE_3 = [
  JSON.stringify({ personidentifikator: FRESH, status: 'AKTIV' }),
  JSON.stringify({ personidentifikator: STALE, status: 'AKTIV' }),
  JSON.stringify({
    personidentifikator: `${RESERVED.slice(0, 10)}${(Number(RESERVED[10]) + 1) % 10}`,
    status: 'AKTIV',
  }),
  JSON.stringify({ personidentifikator: D_NUMBER, status: 'AKTIV' }),
].join('\n');

/** A fresh, empty store as command-line arguments, and how to remove it. */
interface CliStore {
  readonly args: readonly string[];
  readonly dataDir?: string;
  cleanup: () => Promise<void>;
}

/**
 * `created`: the data directory holds an empty store already (copied; see copyEmptyEmbeddedStore),
 * as the first command on a new directory leaves it; otherwise the first command creates it.
 */
async function freshCliStore(kind: StoreKind, scratch: string, created = false): Promise<CliStore> {
  if (kind === 'embedded') {
    const dataDir = await mkdtemp(join(scratch, 'data-'));
    if (created) await copyEmptyEmbeddedStore(dataDir);
    return {
      args: ['--data-dir', dataDir],
      dataDir,
      cleanup: () => rm(dataDir, { recursive: true, force: true }),
    };
  }
  // The CLI has no schema option, so each PostgreSQL store is a database of its own.
  const database = await freshDatabase('krr_e2e');
  return { args: ['--database', database.url], cleanup: database.cleanup };
}

for (const kind of STORE_KINDS) {
  describe(`krr CLI as processes (${kind})`, { skip: await skipReason(kind) }, () => {
    let scratch = '';
    const stores: CliStore[] = [];
    const servers: ChildProcess[] = [];
    const fresh = async (created = false) => {
      const store = await freshCliStore(kind, scratch, created);
      stores.push(store);
      return store;
    };

    // Filled in by the first test: the checker's store and its export.
    let main: CliStore;
    let exported = '';
    let inputFile = '';

    before(async () => {
      scratch = await mkdtemp(join(tmpdir(), 'krr-e2e-'));
      inputFile = join(scratch, 'persons.jsonl');
      await writeFile(inputFile, INPUT);
    });

    after(async () => {
      for (const server of servers) {
        if (server.exitCode === null && server.signalCode === null) {
          server.kill('SIGKILL');
          await exited(server);
        }
      }
      await Promise.all(stores.map((s) => s.cleanup()));
      await rm(scratch, { recursive: true, force: true });
    });

    // Three chains run side by side: the checker's store, whose first command creates it (which
    // takes seconds on the embedded store), a store fed through `import -`, and the round trip. The
    // last two start with the empty store already made: the first chain shows the creation.
    it('import: a bad line 3 writes nothing, then FILE, `-` and bare stdin; export round-trips', async () => {
      const [mainStore, dashStore, copyStore] = await Promise.all([fresh(), fresh(true), fresh(true)]);
      main = mainStore;

      const checkerChain = async () => {
        const badFile = join(scratch, 'bad.jsonl');
        await writeFile(badFile, BAD_AT_LINE_3);
        const bad = await krr(['import', badFile, ...main.args]);
        assert.notEqual(bad.code, 0, 'a bad line must give a non-zero exit');
        assert.match(bad.stderr, /line 3\b/);
        assert.match(bad.stderr, /check digit/);
        assert.doesNotMatch(bad.stderr, /^\s+at /m, 'a message, not a stack trace');
        assert.doesNotMatch(bad.stdout, /imported/);
        const empty = await krr(['export', ...main.args]);
        assertOk(empty, 'export after the failed import');
        assert.equal(empty.stdout, '', 'nothing was written by the failed import');

        const good = await krr(['import', inputFile, ...main.args]);
        assertOk(good, 'import FILE');
        assert.match(
          good.stdout,
          /^imported 5 persons from 5 lines in \d+(\.\d+)? s\b[^\n]*\n$/,
          'one summary line',
        );
        assert.equal(good.stderr, '', 'no progress output when stderr is not a terminal');
        const out = await krr(['export', ...main.args]);
        assertOk(out, 'export');
        assert.equal(out.stdout, EXPECTED_EXPORT);
        exported = out.stdout;
      };

      const dashChain = async () => {
        const withExtra = INPUT.replace('"status":"SLETTET"', '"status":"SLETTET","fornavn":"Ola"');
        const dash = await krr(['import', '-', ...dashStore.args], withExtra);
        assertOk(dash, 'import -');
        assert.match(dash.stdout, /^imported 5 persons from 5 lines/);
        assert.match(dash.stderr, /fornavn/, 'unknown fields are named');
        assert.doesNotMatch(dash.stderr, /Ola/, 'but their values are not shown');
        const out = await krr(['export', '-', ...dashStore.args]);
        assertOk(out, 'export -');
        assert.equal(out.stdout, EXPECTED_EXPORT);
      };

      // EXPECTED_EXPORT is what the checker's store exports (asserted above), so importing it into
      // an empty store is the round trip: import (bare stdin) and export again (to a file).
      const roundTrip = async () => {
        const imported = await krr(['import', ...copyStore.args], EXPECTED_EXPORT);
        assertOk(imported, 'import (stdin) of the export');
        assert.match(imported.stdout, /^imported 5 persons from 5 lines/);
        assert.equal(imported.stderr, '', 'an export holds only fields the register knows');
        const againFile = join(scratch, 'again.jsonl');
        const again = await krr(['export', againFile, ...copyStore.args]);
        assertOk(again, 'export FILE');
        assert.equal(again.stdout, '');
        assert.equal(await readFile(againFile, 'utf8'), EXPECTED_EXPORT);
      };

      await Promise.all([checkerChain(), dashChain(), roundTrip()]);
    });

    it("the checker's sequence: serve --dev, ready, token (last line), lookups with the 18-month rule, SIGTERM", async () => {
      assert.ok(exported, 'needs the first test');
      const port = await freePort();
      const server = startKrr([
        'serve',
        '--dev',
        ...main.args,
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--clock',
        CLOCK,
      ]);
      servers.push(server);
      let serverOut = '';
      server.stdout!.setEncoding('utf8').on('data', (s: string) => (serverOut += s));
      server.stderr!.setEncoding('utf8').on('data', (s: string) => (serverOut += s));
      const base = `http://127.0.0.1:${port}`;

      const deadline = Date.now() + 20_000;
      for (;;) {
        assert.ok(server.exitCode === null && server.signalCode === null, `serve exited early: ${serverOut}`);
        const status = await fetch(`${base}/health/ready`).then(
          (r) => r.status,
          () => 0,
        );
        if (status === 200) break;
        assert.ok(Date.now() < deadline, `GET /health/ready did not answer 200 within 20 s: ${serverOut}`);
        await sleep(200);
      }

      const tokenRun = await krr([
        'token',
        ...main.args,
        '--consumer',
        '0192:991825827',
        '--scope',
        'krr:global/kontaktinformasjon.read krr:global/digitalpost.read',
      ]);
      assertOk(tokenRun, 'token');
      const token = tokenRun.stdout.trimEnd().split('\n').at(-1)!;
      assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'the last line is a JWT');

      const lookup = (authorization: string | undefined) =>
        fetch(`${base}/rest/v2/personer`, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            ...(authorization ? { Authorization: authorization } : {}),
          },
          body: JSON.stringify({ personidentifikatorer: [STALE, UNKNOWN, FRESH, DELETED, RESERVED] }),
        });

      const noToken = await lookup(undefined);
      assert.equal(noToken.status, 401);
      await noToken.arrayBuffer();

      const res = await lookup(`Bearer ${token}`);
      const text = await res.text();
      assert.equal(res.status, 200, text);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const body = JSON.parse(text) as { personer: Record<string, unknown>[] };
      // Ascending identifier order; the unknown one left out (v2, inkluderIkkeRegistrerte false).
      assert.deepEqual(
        body.personer.map((p) => p.personidentifikator),
        [FRESH, STALE, RESERVED, DELETED],
      );
      const byId = new Map(body.personer.map((p) => [p.personidentifikator, p]));
      // Compared as text, so the field order is checked too.
      assert.equal(
        JSON.stringify(byId.get(FRESH)),
        `{"personidentifikator":"${FRESH}","reservasjon":"NEI","status":"AKTIV","varslingsstatus":"KAN_VARSLES",` +
          `"kontaktinformasjon":{"epostadresse":"frisk@example.no","epostadresse_oppdatert":"2015-03-11T19:57:52+01",` +
          `"epostadresse_sist_verifisert":"2016-12-01T12:00:00+01"},` +
          `"digital_post":{"postkasseadresse":"frisk.person#9YDT","postkasseleverandoeradresse":"984661185"},` +
          `"sertifikat":"${CERT}","spraak":"nb","spraak_oppdatert":"2020-11-12T11:00:58+01"}`,
      );
      assert.equal(
        JSON.stringify(byId.get(STALE)),
        `{"personidentifikator":"${STALE}","reservasjon":"NEI","status":"AKTIV","varslingsstatus":"KAN_IKKE_VARSLES",` +
          `"kontaktinformasjon":{"mobiltelefonnummer":"+4799999999","mobiltelefonnummer_oppdatert":"2015-03-11T19:57:52+01",` +
          `"mobiltelefonnummer_sist_verifisert":"2016-12-01T11:59:59+01"}}`,
      );
      assert.equal(byId.get(RESERVED)!.varslingsstatus, 'KAN_IKKE_VARSLES');
      assert.equal(byId.get(DELETED)!.varslingsstatus, 'KAN_IKKE_VARSLES');

      if (kind === 'embedded') {
        // The embedded store is one process's: a second import on the same directory must refuse.
        const locked = await krr(['import', inputFile, ...main.args]);
        assert.notEqual(locked.code, 0, 'import while a server holds the data directory must fail');
        assert.match(locked.stderr, /in use by another krr process/);
        assert.doesNotMatch(locked.stderr, /^\s+at /m, 'a clear message, not a stack trace');
      }

      server.kill('SIGTERM');
      const end = await Promise.race([exited(server), sleep(10_000).then(() => undefined)]);
      assert.ok(end, 'serve did not exit within 10 s of SIGTERM');
      assert.equal(end.code, 0, `serve exited with ${end.code} (${end.signal ?? 'no signal'}): ${serverOut}`);

      // The store is released and unchanged by serving.
      const afterServe = await krr(['export', ...main.args]);
      assertOk(afterServe, 'export after serve');
      assert.equal(afterServe.stdout, exported);
    });
  });
}

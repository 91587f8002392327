// `krr folkeregister sync` killed mid-run (docs/folkeregister.md#position), on both stores: a register of
// 40 persons, an event list of 60 events (deaths, new identifiers among them D-nummer → fødselsnummer,
// conflicts, emigrations, other types) served in pages of 4 by test/support/fake-folkeregister.ts. The
// source hangs after five pages; the process is SIGKILLed while it waits, and run again with --once. The
// register must then equal one synced from the same list without a break: the same export, the same
// counts and conflicts, the same identifier links in the audit trail (no event lost or applied twice).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderExportLine, renderPerson } from '../../src/answer/answer.render.js';
import { AuditRepository } from '../../src/audit/audit.repository.js';
import { makeIdentifier } from '../../src/identifier/identifier.generate.js';
import type { Person } from '../../src/person/person.js';
import { openStore } from '../../src/register/open-store.js';
import { PersonWriter } from '../../src/register/person.writer.js';
import type { Database, StoreConfig } from '../../src/store/database.js';
import { FolkeregisterClient } from '../../src/sync/folkeregister.client.js';
import {
  AUDIT_ENDPOINT,
  folkeregisterSyncOnce,
  readFolkeregisterStatus,
} from '../../src/sync/folkeregister.service.js';
import { staticToken } from '../../src/sync/maskinporten.client.js';
import { exportOf, persons } from '../support/fake-feed.js';
import { FakeFolkeregister, FREG_TOKEN } from '../support/fake-folkeregister.js';
import { exited, krr, sleep, startKrr } from '../support/processes.js';
import {
  copyEmptyEmbeddedStore,
  freshDatabase,
  openTestStore,
  skipReason,
  STORE_KINDS,
} from '../support/stores.js';

const PAGE = 4;
const HOLD_AFTER = 5;

/** The register before the events: 40 persons, the first ten of them under D-numbers. */
function register(): { list: Person[]; dnr: string[]; fnr: string[] } {
  const list = persons(40, 21);
  const dnr: string[] = [];
  const fnr: string[] = [];
  for (let i = 0; i < 10; i++) {
    dnr.push(makeIdentifier({ day: 10 + i, month: 7, year: 93, dNumber: true }));
    fnr.push(makeIdentifier({ day: 10 + i, month: 7, year: 93 }));
    list[i] = { ...list[i]!, personidentifikator: dnr[i]! };
  }
  return { list, dnr, fnr };
}

function events(freg: FakeFolkeregister, list: readonly Person[], dnr: string[], fnr: string[]): void {
  for (let i = 0; i < 10; i++) freg.newIdentifier(dnr[i]!, fnr[i]!); // 10 moves
  for (let i = 10; i < 25; i++) freg.death(list[i]!.personidentifikator); // 15 deaths
  freg.death(makeIdentifier({ day: 1, month: 1, year: 60 })); // not in the register
  freg.death(fnr[0]!); // a moved person dies: under the new identifier
  freg.newIdentifier(list[25]!.personidentifikator, list[26]!.personidentifikator); // a conflict
  freg.newIdentifier(list[27]!.personidentifikator, list[28]!.personidentifikator); // another
  for (let i = 29; i < 40; i++) freg.other(list[i]!.personidentifikator, 'utflytting'); // 11
  for (let i = 29; i < 40; i++) freg.other(list[i]!.personidentifikator, 'flyttingInnenKommune'); // 11
  for (let i = 0; i < 9; i++) freg.other(list[30 + i]!.personidentifikator, 'endringINavn'); // 9
  assert.equal(freg.lastSequence, 60);
}

async function seed(db: Database, list: readonly Person[]): Promise<void> {
  await new PersonWriter(db).write(list);
}

async function facts(db: Database) {
  const status = await readFolkeregisterStatus(db);
  const links = (await new AuditRepository(db).latest(1000))
    .filter((e) => e.endpoint === AUDIT_ENDPOINT)
    .map((e) => `${e.status} ${e.identifiers.join('>')} ${e.detail}`)
    .sort();
  return {
    export: await exportOf(db),
    position: status.position,
    counts: status.counts,
    conflicts: status.conflicts.map((c) => [c.sequence, c.type, c.reason]),
    links,
  };
}

for (const kind of STORE_KINDS) {
  describe(`krr folkeregister sync killed mid-run (${kind} store)`, { skip: await skipReason(kind) }, () => {
    const freg = new FakeFolkeregister();
    let scratch: string;
    let cleanup: (() => Promise<void>) | undefined;

    before(async () => {
      await freg.start();
      scratch = await mkdtemp(join(tmpdir(), 'krr-freg-e2e-'));
    });
    after(async () => {
      freg.release();
      await freg.stop();
      await cleanup?.();
      await rm(scratch, { recursive: true, force: true });
    });

    it('SIGKILLed while the source hangs, then run again: the register equals one synced without a break', async () => {
      const { list, dnr, fnr } = register();
      events(freg, list, dnr, fnr);
      freg.pageSize = PAGE;

      // The expected register: the same persons and events, synced without a break.
      const reference = await openTestStore(kind);
      let expected: Awaited<ReturnType<typeof facts>>;
      try {
        await seed(reference.db, list);
        await folkeregisterSyncOnce({
          db: reference.db,
          source: new FolkeregisterClient({ from: freg.url, auth: staticToken(FREG_TOKEN) }),
          rules: { allowSynthetic: true },
        });
        expected = await facts(reference.db);
      } finally {
        await reference.dispose();
      }
      assert.equal(expected.position, 60);
      assert.equal(expected.links.filter((l) => l.startsWith('200 ')).length, 10);
      assert.equal(expected.conflicts.length, 2);

      // The register under test, written to by processes only.
      let config: StoreConfig;
      let args: string[];
      if (kind === 'embedded') {
        const dir = join(scratch, 'store');
        await copyEmptyEmbeddedStore(dir);
        config = { kind, dataDir: dir };
        args = ['--data-dir', dir];
      } else {
        const db = await freshDatabase('krr_freg_e2e');
        cleanup = db.cleanup;
        config = { kind, url: db.url };
        args = ['--database', db.url];
      }
      const imported = await krr(
        ['import', ...args],
        list.map((p) => `${renderExportLine(renderPerson(p))}\n`).join(''),
      );
      assert.equal(imported.code, 0, imported.stderr);

      freg.requests = [];
      freg.holdAfter = HOLD_AFTER;
      const child = startKrr([
        'folkeregister',
        'sync',
        '--from',
        freg.url,
        '--token',
        FREG_TOKEN,
        '--once',
        ...args,
      ]);
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      // The request after the fifth page comes only once that page has committed; it is held.
      while (freg.requests.length <= HOLD_AFTER) {
        if (child.exitCode !== null) throw new Error(`the sync ended early: ${stderr}`);
        await sleep(20);
      }
      child.kill('SIGKILL');
      assert.equal((await exited(child)).signal, 'SIGKILL');
      freg.release();

      const midway = await krr(['folkeregister', 'status', ...args]);
      assert.match(
        midway.stdout,
        new RegExp(`^position: sequence number ${HOLD_AFTER * PAGE} `),
        midway.stdout,
      );

      freg.requests = [];
      const resumed = await krr([
        'folkeregister',
        'sync',
        '--from',
        freg.url,
        '--token',
        FREG_TOKEN,
        '--once',
        ...args,
      ]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.equal(freg.requests[0], HOLD_AFTER * PAGE + 1, 'resumes after the last committed event');
      assert.match(resumed.stdout, new RegExp(`sequence number ${HOLD_AFTER * PAGE} → 60, up to date`));

      const db = await openStore(config);
      try {
        const actual = await facts(db);
        assert.equal(actual.export, expected.export, 'the same persons, in the same state');
        assert.deepEqual(actual.counts, expected.counts, 'every event counted once');
        assert.deepEqual(actual.conflicts, expected.conflicts);
        assert.deepEqual(actual.links, expected.links, 'every identifier link recorded once');
        assert.equal(actual.position, 60);
      } finally {
        await db.close();
      }
    });
  });
}

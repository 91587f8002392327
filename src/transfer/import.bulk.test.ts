// The import's bulk path (for import speed) on both stores: blocks of bytes checked on worker
// threads and loaded with COPY, keeping every property of the line-by-line import: the first bad
// line named by its number, nothing written when it fails (also after blocks were already copied),
// unchanged persons keeping their change ids, providers' certificates recognised as inherited,
// and (PostgreSQL) readers not blocked while an import runs.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isDerCertificate } from '../certificate/certificate.js';
import { DEMO_DIGIPOST_CERTIFICATE } from '../demo/demo-certificates.js';
import { syntheticPersons } from '../demo/synthetic-persons.js';
import { ImportError } from '../errors/errors.js';
import type { PersonRules } from '../person/person.js';
import { renderExportLine, renderPerson } from '../answer/answer.render.js';
import { PersonRepository } from '../register/person.repository.js';
import { PersonWriter } from '../register/person.writer.js';
import { ProviderRepository } from '../provider/provider.repository.js';
import type { Database } from '../store/database.js';
import { openTestStore, skipReason, STORE_KINDS } from '../../test/support/stores.js';
import type { TestStore } from '../../test/support/stores.js';
import { exportPersons } from './export.service.js';
import { importPersonsFromBytes } from './import.service.js';
import type { ImportOptions, ImportSummary } from './import.service.js';

const RULES: PersonRules = { allowSynthetic: true, isCertificate: isDerCertificate };
const NOW = Date.parse('2026-01-15T12:00:00Z');
const DIGIPOST = '984661185';

/** `count` synthetic persons as export lines (identifier order), from `seed`. */
function syntheticLines(count: number, seed = 1): string[] {
  return [...syntheticPersons(count, { seed, now: NOW })].map((p) => renderExportLine(renderPerson(p)));
}

/** The text as chunks of `size` bytes, cut anywhere (also inside lines and characters). */
// eslint-disable-next-line @typescript-eslint/require-await -- an AsyncIterable, as the import takes; nothing to await
async function* chunksOf(text: string, size = 4096): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

function runImport(db: Database, text: string, options: Partial<ImportOptions> = {}): Promise<ImportSummary> {
  return importPersonsFromBytes(new PersonWriter(db), chunksOf(text), {
    rules: RULES,
    workers: 2,
    blockBytes: 16 * 1024,
    ...options,
  });
}

async function exportText(db: Database): Promise<string> {
  let out = '';
  for await (const chunk of exportPersons(db)) out += chunk;
  return out;
}

const changeIds = async (db: Database) =>
  new Map(
    (
      await db.query<{ personidentifikator: string; change_id: number }>(
        'select personidentifikator, change_id from person',
      )
    ).map((r) => [r.personidentifikator, r.change_id]),
  );

/** The person table's indexes and constraints: name, definition, valid and ready. */
const indexesOf = (db: Database) =>
  db.query<{ name: string; definition: string; valid: boolean; ready: boolean; constraint: string | null }>(
    `select c.relname as name, pg_get_indexdef(i.indexrelid) as definition, i.indisvalid as valid,
            i.indisready as ready, k.conname as constraint
     from pg_index i join pg_class c on c.oid = i.indexrelid
     left join pg_constraint k on k.conindid = i.indexrelid and k.conrelid = i.indrelid
     where i.indrelid = 'person'::regclass order by c.relname`,
  );

async function rejectsWithImportError(promise: Promise<unknown>, pattern: RegExp): Promise<ImportError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ImportError, `expected an ImportError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return err;
  }
  assert.fail('the import should have failed');
}

const LINES = syntheticLines(3000);
const TEXT = `${LINES.join('\n')}\n`;

for (const kind of STORE_KINDS) {
  describe(`import, bulk path (${kind})`, { skip: await skipReason(kind) }, () => {
    let store: TestStore;
    before(async () => {
      store = await openTestStore(kind);
    });
    after(async () => {
      await store.dispose();
    });
    const fresh = async (): Promise<Database> => {
      await store.db.query('delete from person');
      await store.db.query('delete from mailbox_provider');
      return store.db;
    };

    for (const workers of [0, 2]) {
      it(`imports thousands of persons in many blocks and exports them unchanged (${workers} workers)`, async () => {
        const db = await fresh();
        const summary = await runImport(db, TEXT, { workers });
        assert.equal(summary.persons, 3000);
        assert.equal(summary.lines, 3000);
        assert.equal(await new PersonRepository(db).count(), 3000);
        assert.equal(await exportText(db), TEXT);
      });

      it(`names the right line of a bad line deep in the file, and writes nothing (${workers} workers)`, async () => {
        const db = await fresh();
        const lines = [...LINES];
        const bad = JSON.parse(lines[2344]!) as Record<string, unknown>;
        bad.spraak = 'de';
        lines[2344] = JSON.stringify(bad);
        // Blocks before line 2345 are already copied into the register when the bad one is found.
        const err = await rejectsWithImportError(
          runImport(db, `${lines.join('\n')}\n`, { workers }),
          /^line 2345: spraak must be one of/,
        );
        assert.ok(!err.message.includes(bad.personidentifikator as string));
        assert.equal(await new PersonRepository(db).count(), 0);
        assert.equal(await exportText(db), '');
      });
    }

    it('an import into an empty register leaves every index and the primary key as they were, valid', async () => {
      const db = await fresh();
      const before = await indexesOf(db);
      assert.equal(before.length, 5); // with the reminder job's person_reminder_idx (migration 14)
      assert.ok(before.some((i) => i.constraint === 'person_pkey'));
      await runImport(db, TEXT);
      const after = await indexesOf(db);
      assert.deepEqual(after, before);
      assert.ok(after.every((i) => i.valid && i.ready));
      // The primary key refuses a duplicate again, and the lookups' queries find persons by index.
      const pid = (JSON.parse(LINES[5]!) as { personidentifikator: string }).personidentifikator;
      await assert.rejects(
        db.query(
          `insert into person (personidentifikator, status, reserved, lookup) select $1, 'AKTIV', false, 'N|||2|2|2|{}'`,
          [pid],
        ),
        /duplicate key|unique/,
      );
      assert.equal((await new PersonRepository(db).findMany([pid]))[0]?.personidentifikator, pid);
    });

    it('a failing import into an empty register leaves it empty with all its indexes', async () => {
      const db = await fresh();
      const before = await indexesOf(db);
      const lines = [...LINES.slice(0, 2500), '{"status":"AKTIV"}'];
      await rejectsWithImportError(
        runImport(db, lines.join('\n')),
        /^line 2501: personidentifikator is required/,
      );
      assert.deepEqual(await indexesOf(db), before);
      assert.equal(await new PersonRepository(db).count(), 0);
      // The register takes the same file, fixed, afterwards.
      await runImport(db, TEXT);
      assert.deepEqual(await indexesOf(db), before);
      assert.equal(await exportText(db), TEXT);
    });

    it('keeps person rows whole up to a page (no TOAST for a certificate of their own)', async () => {
      const db = await fresh();
      const [table] = await db.query<{ options: string[] | null }>(
        `select reloptions as options from pg_class where oid = 'person'::regclass`,
      );
      assert.ok(table!.options?.includes('toast_tuple_target=8160'), String(table!.options));
      await runImport(db, TEXT);
      const [own] = await db.query<{ n: number; external: number }>(
        `select count(*)::int8 as n,
                count(*) filter (where pg_column_size(sertifikat) < length(sertifikat))::int8 as external
         from person where sertifikat is not null`,
      );
      assert.ok(own!.n > 500);
      assert.equal(own!.external, 0, 'a certificate moved out of its row (or compressed)');
    });

    it('a duplicate in a later block names both lines; a bad line after it is not the one reported', async () => {
      const db = await fresh();
      const lines = [...LINES.slice(0, 2000), LINES[10]!, 'not json'];
      await rejectsWithImportError(
        runImport(db, lines.join('\n')),
        /^line 2001: the same personidentifikator as line 11; a person may appear once$/,
      );
      assert.equal(await new PersonRepository(db).count(), 0);
    });

    it('duplicates across blocks into a register that has persons: the first one in the file is named, nothing changes', async () => {
      const db = await fresh();
      await runImport(db, `${LINES.slice(0, 500).join('\n')}\n`);
      const before = await exportText(db);
      const idsBefore = await changeIds(db);
      const changed = syntheticLines(500, 2);
      // Line 1201 repeats line 3 (a registered person, in an earlier block); line 1203 repeats
      // line 1202 (next to it, so most likely in the same block): the earlier offence is named,
      // and nothing is written.
      const lines = [...changed.slice(0, 400), ...LINES.slice(500, 1300)];
      lines.push(changed[2]!, LINES[1400]!, LINES[1400]!, ...LINES.slice(1500, 1600));
      await rejectsWithImportError(
        runImport(db, lines.join('\n')),
        /^line 1201: the same personidentifikator as line 3; a person may appear once$/,
      );
      // Without the cross-block one, the repeat inside the block is named with both lines.
      lines[1200] = LINES[1450]!;
      await rejectsWithImportError(
        runImport(db, lines.join('\n')),
        /^line 1203: the same personidentifikator as line 1202; a person may appear once$/,
      );
      // A repeat only at the very end, across blocks, after every block was written.
      await rejectsWithImportError(
        runImport(db, [...LINES.slice(500, 1600), LINES[600]!].join('\n')),
        /^line 1101: the same personidentifikator as line 101; a person may appear once$/,
      );
      assert.equal(await exportText(db), before);
      assert.deepEqual(await changeIds(db), idsBefore);
    });

    it('a bad line in a register that had persons leaves it exactly as it was, change ids too', async () => {
      const db = await fresh();
      await runImport(db, `${LINES.slice(0, 1500).join('\n')}\n`);
      const before = await exportText(db);
      const idsBefore = await changeIds(db);
      // Changes of registered persons (staged) and new persons (copied), then a bad line.
      const changed = syntheticLines(1500, 2);
      const lines = [...changed.slice(0, 1000), ...LINES.slice(1500, 2500), '{"status":"AKTIV"}'];
      await rejectsWithImportError(
        runImport(db, lines.join('\n')),
        /^line 2001: personidentifikator is required/,
      );
      assert.equal(await exportText(db), before);
      assert.deepEqual(await changeIds(db), idsBefore);
    });

    it('re-importing keeps the change ids of unchanged persons; changed and new persons get new ones', async () => {
      const db = await fresh();
      await runImport(db, `${LINES.slice(0, 2000).join('\n')}\n`);
      const idsBefore = await changeIds(db);
      const highest = Math.max(...idsBefore.values());

      // The same persons: nothing changes.
      await runImport(db, `${LINES.slice(0, 2000).join('\n')}\n`);
      assert.deepEqual(await changeIds(db), idsBefore, 'an unchanged person keeps its change id');

      // Persons 0..499 changed (another seed), 500..1999 the same, 2000..2999 new.
      const changed = syntheticLines(500, 7);
      const lines = [...changed, ...LINES.slice(500)];
      await runImport(db, `${lines.join('\n')}\n`);
      const idsAfter = await changeIds(db);
      assert.equal(idsAfter.size, 3000);
      const pid = (line: string) => (JSON.parse(line) as { personidentifikator: string }).personidentifikator;
      let changedCount = 0;
      for (const [i, line] of changed.entries()) {
        const id = pid(line);
        assert.equal(id, pid(LINES[i]!), 'the same identifiers, whatever the seed');
        if (line !== LINES[i]) {
          changedCount++;
          assert.ok(idsAfter.get(id)! > highest, 'a changed person gets a new change id');
        }
      }
      assert.ok(changedCount > 400, 'another seed changes most persons');
      for (const line of LINES.slice(500, 2000))
        assert.equal(idsAfter.get(pid(line)), idsBefore.get(pid(line)));
      for (const line of LINES.slice(2000)) assert.ok(idsAfter.get(pid(line))! > highest);
      assert.equal(new Set(idsAfter.values()).size, 3000, 'change ids are never shared');
      assert.equal(await exportText(db), `${lines.join('\n')}\n`);
    });

    it("stores a provider's current certificate as inherited, not as the person's own", async () => {
      const db = await fresh();
      await new ProviderRepository(db).save({
        orgno: DIGIPOST,
        name: 'Digipost',
        certificate: DEMO_DIGIPOST_CERTIFICATE,
      });
      const summary = await runImport(db, TEXT);
      assert.equal(summary.persons, 3000);
      const [own] = await db.query<{ n: number }>(
        'select count(*)::int8 as n from person where mailbox_provider = $1 and sertifikat is not null',
        [DIGIPOST],
      );
      const [all] = await db.query<{ n: number }>(
        'select count(*)::int8 as n from person where mailbox_provider = $1',
        [DIGIPOST],
      );
      assert.equal(own!.n, 0);
      assert.ok(all!.n > 500);
      // Answers still show the provider's certificate: the export is the input.
      assert.equal(await exportText(db), TEXT);
    });

    it('reads CRLF line ends, a last line without a newline, blank lines, and escapes what COPY must', async () => {
      const db = await fresh();
      const odd = JSON.stringify({
        personidentifikator: (JSON.parse(LINES[0]!) as { personidentifikator: string }).personidentifikator,
        status: 'AKTIV',
        kontaktinformasjon: { epostadresse: 'a\\b"c@example.no' },
      });
      const text = ['', odd, '   ', LINES[1], LINES[2]].join('\r\n');
      const summary = await runImport(db, text, { workers: 2 });
      assert.equal(summary.persons, 3);
      assert.equal(summary.lines, 5);
      // COPY's text format takes a backslash as an escape: it must arrive as it was sent.
      const exported = await exportText(db);
      assert.ok(exported.includes('"epostadresse":"a\\\\b\\"c@example.no"'));
      assert.equal(exported.split('\n').length, 4);
    });

    it('counts ignored fields by name across blocks and workers', async () => {
      const db = await fresh();
      const lines = LINES.slice(0, 1000).map((l, i) =>
        i % 10 === 0 ? l.replace('{', '{"fornavn":"X",') : l,
      );
      const summary = await runImport(db, lines.join('\n'));
      assert.deepEqual([...summary.ignoredFields], [['/fornavn', 100]]);
    });

    it(
      'readers are not blocked while an import runs',
      {
        skip:
          kind === 'embedded' ? 'PGlite is one connection: its queries wait for the open transaction' : false,
      },
      async () => {
        const db = await fresh();
        await runImport(db, `${LINES.slice(0, 1000).join('\n')}\n`);
        const repo = new PersonRepository(db);
        const first = (JSON.parse(LINES[0]!) as { personidentifikator: string }).personidentifikator;
        const later = (JSON.parse(LINES[2000]!) as { personidentifikator: string }).personidentifikator;
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let reached!: () => void;
        const halfway = new Promise<void>((resolve) => (reached = resolve));
        // The import holds its transaction open, part of the file written, until the gate opens.
        async function* slow(): AsyncGenerator<Uint8Array> {
          yield Buffer.from(`${LINES.slice(1000, 2500).join('\n')}\n`);
          reached();
          await gate;
          yield Buffer.from(`${LINES.slice(2500).join('\n')}\n`);
        }
        const running = importPersonsFromBytes(new PersonWriter(db), slow(), {
          rules: RULES,
          workers: 2,
          blockBytes: 16 * 1024,
        });
        try {
          await halfway;
          await new Promise((r) => setTimeout(r, 300)); // let the first blocks reach the store
          // Lookups answer during the import, from the state before it (a blocked reader hangs here).
          const found = await repo.findMany([first, later]);
          assert.deepEqual(
            found.map((p) => p.personidentifikator),
            [first],
          );
          assert.equal(await repo.count(), 1000);
        } finally {
          release();
        }
        await running;
        // Once committed, everything is there.
        assert.equal(await repo.count(), 3000);
        assert.equal(await exportText(db), TEXT);
      },
    );
  });
}

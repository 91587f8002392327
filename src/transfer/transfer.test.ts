// Import and export, JSON Lines (docs/import-export.md#format), on both stores, through the services the
// CLI uses: all-or-nothing import with line numbers, export in identifier order, and the round trip
// (docs/import-export.md#round-trip) export -> import into an empty store -> export giving the same
// text. Expected lines are written by hand from docs/register.md#the-person-record and
// docs/lookup.md#field-order (field order, Oslo `+HH` timestamps, no derived fields).

import { after, before, describe, it } from 'node:test';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import assert from 'node:assert/strict';
import { isDerCertificate } from '../certificate/certificate.js';
import { DEMO_DIGIPOST_CERTIFICATE } from '../demo/demo-certificates.js';
import { ImportError } from '../errors/errors.js';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import type { PersonRules } from '../person/person.js';
import { PersonRepository } from '../register/person.repository.js';
import { PersonWriter } from '../register/person.writer.js';
import type { Database } from '../store/database.js';
import { openTestStore, skipReason, STORE_KINDS } from '../../test/support/stores.js';
import type { TestStore } from '../../test/support/stores.js';
import { exportPersons } from './export.service.js';
import { importPersons, importPersonsFromBytes } from './import.service.js';
import { NOTE_CHANNEL_WITHOUT_TIME, NOTE_UNREGISTERED_PROVIDER } from './import.block.js';
import type { ImportOptions, ImportSummary } from './import.service.js';

const RULES: PersonRules = { allowSynthetic: true, isCertificate: isDerCertificate };
const CERT = DEMO_DIGIPOST_CERTIFICATE;

// Identifiers sort by their first digits (the day), so the export order is known by hand:
// P_A (day 03) < P_B (day 05) < P_C (day 12) < P_E (day 28, Tenor) < P_D (D-nummer, day 17 + 40 = 57).
const P_A = makeIdentifier({ day: 3, month: 2, year: 71 });
const P_B = makeIdentifier({ day: 5, month: 6, year: 85 });
const P_C = makeIdentifier({ day: 12, month: 10, year: 90 });
const P_D = makeIdentifier({ day: 17, month: 4, year: 64, dNumber: true });
const P_E = makeIdentifier({ day: 28, month: 3, year: 99, synthetic: 'tenor' });

/** A valid identifier with its last check digit changed. */
function badCheckDigit(pid: string): string {
  return `${pid.slice(0, 10)}${(Number(pid[10]) + 1) % 10}`;
}

const line = (value: unknown) => JSON.stringify(value);

// The input: every field, fields in a scrambled order, timestamps in several ISO-8601 forms.
const FULL_INPUT = line({
  status: 'AKTIV',
  spraak_oppdatert: '2020-11-12T05:00:58-05:00',
  spraak: 'nn',
  sertifikat: CERT,
  digital_post: { postkasseleverandoeradresse: '984661185', postkasseadresse: 'ola.nordmann#9YDT' },
  kontaktinformasjon: {
    mobiltelefonnummer_sist_verifisert: '2018-07-31T23:19:02+0200',
    mobiltelefonnummer_oppdatert: '2018-07-31T21:19:02.999Z',
    mobiltelefonnummer: '+4799999999',
    epostadresse_sist_verifisert: '2017-11-07T09:48:38+01',
    epostadresse_oppdatert: '2015-03-11T18:57:52Z',
    epostadresse: 'ola.nordmann@example.no',
  },
  reservasjon_oppdatert: '2017-11-07T09:48:38.123+01:00',
  reservasjonstidspunkt: '2017-11-07T08:48:38Z',
  reservasjon: 'JA',
  personidentifikator: P_B,
});
const FULL_EXPORT =
  `{"personidentifikator":"${P_B}","reservasjon":"JA","reservasjonstidspunkt":"2017-11-07T09:48:38+01",` +
  `"reservasjon_oppdatert":"2017-11-07T09:48:38+01","status":"AKTIV",` +
  `"kontaktinformasjon":{"epostadresse":"ola.nordmann@example.no","epostadresse_oppdatert":"2015-03-11T19:57:52+01",` +
  `"epostadresse_sist_verifisert":"2017-11-07T09:48:38+01","mobiltelefonnummer":"+4799999999",` +
  `"mobiltelefonnummer_oppdatert":"2018-07-31T23:19:02+02","mobiltelefonnummer_sist_verifisert":"2018-07-31T23:19:02+02"},` +
  `"digital_post":{"postkasseadresse":"ola.nordmann#9YDT","postkasseleverandoeradresse":"984661185"},` +
  `"sertifikat":"${CERT}","spraak":"nn","spraak_oppdatert":"2020-11-12T11:00:58+01"}`;

// Around the changes of summer time (2016: 27 March 01:00 UTC, 30 October 01:00 UTC); a
// reservation time without `reservasjon: JA` is not kept (docs/register.md#the-person-record).
const DST_INPUT = line({
  personidentifikator: P_A,
  reservasjon: 'NEI',
  reservasjonstidspunkt: '2016-01-01T00:00:00Z',
  reservasjon_oppdatert: '2016-03-27T01:30:00Z',
  status: 'AKTIV',
  kontaktinformasjon: {
    mobiltelefonnummer: '41234567',
    mobiltelefonnummer_oppdatert: '2016-10-30T00:30:00Z',
    mobiltelefonnummer_sist_verifisert: '2016-10-30T01:30:00+00:00',
  },
  digital_post: { postkasseadresse: 'kari.nordmann#1234', postkasseleverandoeradresse: '996460320' },
  spraak: 'se',
});
const DST_EXPORT =
  `{"personidentifikator":"${P_A}","reservasjon":"NEI","reservasjon_oppdatert":"2016-03-27T03:30:00+02","status":"AKTIV",` +
  `"kontaktinformasjon":{"mobiltelefonnummer":"41234567","mobiltelefonnummer_oppdatert":"2016-10-30T02:30:00+02",` +
  `"mobiltelefonnummer_sist_verifisert":"2016-10-30T02:30:00+01"},` +
  `"digital_post":{"postkasseadresse":"kari.nordmann#1234","postkasseleverandoeradresse":"996460320"},"spraak":"se"}`;

// SLETTET keeps no contact data, mailbox or certificate, and has no reservasjon (docs/register.md#slettet,
// docs/lookup.md#slettet-and-ikke_registrert).
const DELETED_INPUT = line({
  personidentifikator: P_C,
  status: 'SLETTET',
  reservasjon: 'JA',
  reservasjonstidspunkt: '2017-11-07T09:48:38+01',
  kontaktinformasjon: {
    epostadresse: 'slettet@example.no',
    epostadresse_oppdatert: '2017-11-07T09:48:38+01',
  },
  digital_post: { postkasseadresse: 'slettet#ABCD', postkasseleverandoeradresse: '984661185' },
  sertifikat: CERT,
  spraak: 'en',
  spraak_oppdatert: '2017-11-07T09:48:38+01',
});
const DELETED_EXPORT = `{"personidentifikator":"${P_C}","status":"SLETTET"}`;

// The least a person can be: reservasjon defaults to NEI; an empty kontaktinformasjon is left out.
const MINIMAL_INPUT = line({ personidentifikator: P_D, status: 'AKTIV', kontaktinformasjon: {} });
const MINIMAL_EXPORT = `{"personidentifikator":"${P_D}","reservasjon":"NEI","status":"AKTIV"}`;

// A synthetic (Tenor) identifier, email only, timestamps with lower-case `t` and a `,` fraction.
const SYNTHETIC_INPUT = line({
  personidentifikator: P_E,
  status: 'AKTIV',
  kontaktinformasjon: {
    epostadresse: 'test.person@example.com',
    epostadresse_oppdatert: '2019-12-31t23:59:59,5Z',
    epostadresse_sist_verifisert: '2020-06-30T22:00:00.000000+00:00',
  },
  spraak: 'en',
  spraak_oppdatert: '2020-01-01T00:00:00+01:00',
});
const SYNTHETIC_EXPORT =
  `{"personidentifikator":"${P_E}","reservasjon":"NEI","status":"AKTIV",` +
  `"kontaktinformasjon":{"epostadresse":"test.person@example.com","epostadresse_oppdatert":"2020-01-01T00:59:59+01",` +
  `"epostadresse_sist_verifisert":"2020-07-01T00:00:00+02"},"spraak":"en","spraak_oppdatert":"2020-01-01T00:00:00+01"}`;

// Deliberately not in identifier order.
const ALL_INPUT = [SYNTHETIC_INPUT, FULL_INPUT, MINIMAL_INPUT, DELETED_INPUT, DST_INPUT];
const ALL_EXPORT = [DST_EXPORT, FULL_EXPORT, DELETED_EXPORT, SYNTHETIC_EXPORT, MINIMAL_EXPORT]
  .map((l) => `${l}\n`)
  .join('');

// eslint-disable-next-line @typescript-eslint/require-await -- an AsyncIterable, as the import takes; nothing to await
async function* linesOf(lines: readonly string[]): AsyncGenerator<string> {
  for (const l of lines) yield l;
}

function runImport(
  db: Database,
  lines: readonly string[],
  options: Partial<ImportOptions> = {},
): Promise<ImportSummary> {
  return importPersons(new PersonWriter(db), linesOf(lines), { rules: RULES, ...options });
}

async function exportText(db: Database): Promise<string> {
  let out = '';
  for await (const chunk of exportPersons(db)) out += chunk;
  return out;
}

const count = (db: Database) => new PersonRepository(db).count();

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

for (const kind of STORE_KINDS) {
  describe(`import and export (${kind})`, { skip: await skipReason(kind) }, () => {
    // Opening an embedded store takes seconds, so the suite keeps two and empties one per test
    // (an emptied register is what `krr import` meets in a fresh data directory).
    const stores: TestStore[] = [];
    before(async () => {
      stores.push(await openTestStore(kind), await openTestStore(kind));
    });
    after(async () => {
      await Promise.all(stores.map((s) => s.dispose()));
    });
    const fresh = async (which: 0 | 1 = 0): Promise<Database> => {
      const db = stores[which]!.db;
      await db.query('delete from person');
      assert.equal(await count(db), 0);
      return db;
    };

    it('exports every field in the documented order with Oslo +HH timestamps, in identifier order', async () => {
      const db = await fresh();
      const summary = await runImport(db, ALL_INPUT);
      assert.equal(summary.persons, 5);
      assert.equal(summary.lines, 5);
      assert.equal(summary.ignoredFields.size, 0);
      assert.equal(await count(db), 5);
      assert.equal(await exportText(db), ALL_EXPORT);
    });

    it('round-trips: export, import into an empty store, export again gives the same text', async () => {
      const first = await fresh();
      await runImport(first, ALL_INPUT);
      const exported = await exportText(first);
      const second = await fresh(1);
      const summary = await runImport(second, exported.split('\n'));
      assert.equal(summary.persons, 5);
      assert.equal(summary.ignoredFields.size, 0, 'an export carries only fields the register knows');
      assert.equal(await exportText(second), exported);
      assert.equal(exported, ALL_EXPORT);
    });

    it('exports in identifier order across pages and batches', async () => {
      const db = await fresh();
      const ids: string[] = [];
      for (let i = 0; i < 120; i++)
        ids.push(makeIdentifier({ day: 1 + (i % 28), month: 1 + (i % 12), year: 50 + (i % 40) }, i * 7));
      const unique = [...new Set(ids)];
      const shuffled = [...unique].reverse();
      await runImport(
        db,
        shuffled.map((pid) => line({ personidentifikator: pid, status: 'AKTIV' })),
        { batchSize: 7 },
      );
      const exported = (await exportText(db)).trimEnd().split('\n');
      const order = exported.map(
        (l) => (JSON.parse(l) as { personidentifikator: string }).personidentifikator,
      );
      assert.deepEqual(order, [...unique].sort());
      // scan() pages through the register; a small page size must give the same order.
      const paged: string[] = [];
      for await (const page of new PersonRepository(db).scan(11))
        paged.push(...page.map((p) => p.personidentifikator));
      assert.deepEqual(paged, order);
    });

    it('an empty register exports nothing; blank lines are skipped but counted', async () => {
      const db = await fresh();
      assert.equal(await exportText(db), '');
      const summary = await runImport(db, ['', MINIMAL_INPUT, '   ', '']);
      assert.equal(summary.persons, 1);
      assert.equal(summary.lines, 4);
      assert.equal(await exportText(db), `${MINIMAL_EXPORT}\n`);
    });

    describe('a bad line aborts the whole import, naming its line number and the reason', () => {
      const good = [FULL_INPUT, DST_INPUT];
      const after3 = [MINIMAL_INPUT, SYNTHETIC_INPUT];
      const cases: { name: string; bad: string; reason: RegExp }[] = [
        { name: 'not JSON', bad: '{"personidentifikator": "123', reason: /not valid JSON/ },
        {
          name: 'a bad check digit',
          bad: line({ personidentifikator: badCheckDigit(P_C), status: 'AKTIV' }),
          reason: /check digit/,
        },
        {
          name: 'a bad email',
          bad: line({
            personidentifikator: P_C,
            status: 'AKTIV',
            kontaktinformasjon: { epostadresse: 'ikke en adresse' },
          }),
          reason: /epostadresse/,
        },
        {
          name: 'an unknown status',
          bad: line({ personidentifikator: P_C, status: 'IKKE_REGISTRERT' }),
          reason: /status/,
        },
        { name: 'a missing status', bad: line({ personidentifikator: P_C }), reason: /status/ },
        {
          name: 'an unknown spraak',
          bad: line({ personidentifikator: P_C, status: 'AKTIV', spraak: 'de' }),
          reason: /spraak/,
        },
        {
          name: 'a timestamp without an offset',
          bad: line({
            personidentifikator: P_C,
            status: 'AKTIV',
            spraak: 'nb',
            spraak_oppdatert: '2020-11-12T11:00:58',
          }),
          reason: /spraak_oppdatert/,
        },
        {
          name: 'a bad mobile number',
          bad: line({
            personidentifikator: P_C,
            status: 'AKTIV',
            kontaktinformasjon: { mobiltelefonnummer: '12345678' },
          }),
          reason: /mobiltelefonnummer/,
        },
        {
          name: 'a sertifikat that is not an X.509 certificate',
          bad: line({ personidentifikator: P_C, status: 'AKTIV', sertifikat: 'aGVsbG8gd29ybGQ=' }),
          reason: /sertifikat/,
        },
        { name: 'a JSON value that is not an object', bad: '[1,2,3]', reason: /object/ },
      ];

      for (const c of cases) {
        it(`${c.name}: nothing is written to an empty store`, async () => {
          const db = await fresh();
          // batchSize 1: the good lines before the bad one are already sent to the store, in the transaction.
          const err = await rejectsWithImportError(
            runImport(db, [...good, c.bad, ...after3], { batchSize: 1 }),
            /^line 3: /,
          );
          assert.match(err.message, c.reason);
          assert.equal(await count(db), 0);
          assert.equal(await exportText(db), '');
        });
      }

      it('a bad line leaves a store that already had persons exactly as it was', async () => {
        const db = await fresh();
        await runImport(db, [DELETED_INPUT, MINIMAL_INPUT]);
        const before = await exportText(db);
        // The lines before the bad one would change a person and add two.
        const changeD = line({ personidentifikator: P_D, status: 'AKTIV', reservasjon: 'JA' });
        const bad = line({ personidentifikator: badCheckDigit(P_E), status: 'AKTIV' });
        await rejectsWithImportError(
          runImport(db, [FULL_INPUT, changeD, DST_INPUT, bad, SYNTHETIC_INPUT], { batchSize: 2 }),
          /^line 4: .*check digit/,
        );
        assert.equal(await count(db), 2);
        assert.equal(await exportText(db), before);
      });

      it('line numbers count blank lines', async () => {
        const db = await fresh();
        await rejectsWithImportError(
          runImport(db, [FULL_INPUT, '', '', 'not json']),
          /^line 4: not valid JSON/,
        );
        assert.equal(await count(db), 0);
      });

      it('the message never carries the identifier or the contact data', async () => {
        const db = await fresh();
        const pid = badCheckDigit(P_C);
        const err = await rejectsWithImportError(
          runImport(db, [
            line({ personidentifikator: pid, status: 'AKTIV', kontaktinformasjon: { epostadresse: 'x@y' } }),
          ]),
          /^line 1: /,
        );
        assert.ok(!err.message.includes(pid));
        assert.ok(!err.message.includes('x@y'));
      });
    });

    it('a duplicated identifier fails, naming both lines, and writes nothing', async () => {
      const db = await fresh();
      const again = line({ personidentifikator: P_B, status: 'SLETTET' });
      const err = await rejectsWithImportError(
        runImport(db, [FULL_INPUT, DST_INPUT, MINIMAL_INPUT, again], { batchSize: 1 }),
        /line 4/,
      );
      assert.match(err.message, /line 1\b/);
      assert.equal(await count(db), 0);
    });

    it('a SLETTET person loses its contact data, mailbox, certificate and language', async () => {
      const db = await fresh();
      await runImport(db, [DELETED_INPUT]);
      assert.equal(await exportText(db), `${DELETED_EXPORT}\n`);
    });

    it('importing a person again replaces the whole record (here: AKTIV, then SLETTET)', async () => {
      const db = await fresh();
      await runImport(db, [FULL_INPUT, MINIMAL_INPUT]);
      await runImport(db, [line({ personidentifikator: P_B, status: 'SLETTET' })]);
      assert.equal(await count(db), 2);
      assert.equal(
        await exportText(db),
        `{"personidentifikator":"${P_B}","status":"SLETTET"}\n${MINIMAL_EXPORT}\n`,
      );
      // ... and back to a minimal AKTIV person: nothing of the old record comes back.
      await runImport(db, [line({ personidentifikator: P_B, status: 'AKTIV' })]);
      assert.equal(
        await exportText(db),
        `{"personidentifikator":"${P_B}","reservasjon":"NEI","status":"AKTIV"}\n${MINIMAL_EXPORT}\n`,
      );
    });

    it('re-importing the same file does not change the export', async () => {
      const db = await fresh();
      await runImport(db, ALL_INPUT);
      const first = await exportText(db);
      const changeIds = () =>
        db.query<{ personidentifikator: string; change_id: number }>(
          'select personidentifikator, change_id from person order by personidentifikator',
        );
      const idsBefore = await changeIds();
      const summary = await runImport(db, ALL_INPUT);
      assert.equal(summary.persons, 5);
      assert.equal(await count(db), 5);
      assert.equal(await exportText(db), first);
      assert.deepEqual(await changeIds(), idsBefore, 'an unchanged person keeps its change id');
      // Nor does importing the export.
      await runImport(db, first.split('\n'));
      assert.equal(await exportText(db), first);
    });

    it('reports unknown fields by name and line count, never by value, and imports the rest', async () => {
      const db = await fresh();
      const summary = await runImport(db, [
        line({
          personidentifikator: P_A,
          status: 'AKTIV',
          varslingsstatus: 'KAN_VARSLES', // derived: recomputed, not reported
          fornavn: 'Ola',
          kontaktinformasjon: {
            epostadresse: 'ola@example.no',
            epostadresse_duplisert: 'NEI',
            telefaks: '22222222',
          },
          digital_post: {
            postkasseadresse: 'ola.nordmann#9YDT',
            postkasseleverandoeradresse: '984661185',
            extra: 1,
          },
        }),
        line({ personidentifikator: P_D, status: 'AKTIV', fornavn: 'Kari' }),
      ]);
      assert.deepEqual(
        new Map(summary.ignoredFields),
        new Map([
          ['/fornavn', 2],
          ['/kontaktinformasjon/telefaks', 1],
          ['/digital_post/extra', 1],
        ]),
      );
      assert.equal(summary.persons, 2);
      assert.equal(
        await exportText(db),
        `{"personidentifikator":"${P_A}","reservasjon":"NEI","status":"AKTIV","kontaktinformasjon":{"epostadresse":"ola@example.no"},` +
          `"digital_post":{"postkasseadresse":"ola.nordmann#9YDT","postkasseleverandoeradresse":"984661185"}}\n${MINIMAL_EXPORT}\n`,
      );
    });

    it(
      'reads every line of a readline interface over a stream, also those read while the transaction begins',
      { timeout: 10_000 },
      async () => {
        const db = await fresh();
        const rl = createInterface({
          input: Readable.from([`${ALL_INPUT.join('\n')}\n`]),
          crlfDelay: Infinity,
        });
        const summary = await importPersons(new PersonWriter(db), rl, { rules: RULES });
        assert.equal(summary.persons, 5);
        assert.equal(await exportText(db), ALL_EXPORT);
      },
    );

    it('notes, not errors, a channel without timestamps and a mailbox at an unregistered provider, by line in the whole input (also from a worker thread)', async () => {
      const db = await fresh();
      const input = [
        line({
          personidentifikator: P_A,
          status: 'AKTIV',
          kontaktinformasjon: {
            epostadresse: 'a@example.no',
            mobiltelefonnummer: '+4791234567',
            mobiltelefonnummer_sist_verifisert: '2020-01-01T00:00:00Z',
          },
        }),
        '',
        line({
          personidentifikator: P_C,
          status: 'SLETTET',
          kontaktinformasjon: { epostadresse: 'c@example.no' },
        }),
        line({
          personidentifikator: P_B,
          status: 'AKTIV',
          digital_post: { postkasseadresse: 'ola.nordmann#9YDT', postkasseleverandoeradresse: '984661185' },
        }),
      ].join('\n');
      // Blocks of about 64 bytes: the last line is a block of its own.
      const summary = await importPersonsFromBytes(
        new PersonWriter(db),
        Readable.from([Buffer.from(input)]),
        {
          rules: RULES,
          workers: 1,
          blockBytes: 64,
        },
      );
      assert.equal(summary.persons, 3);
      assert.equal(summary.noteCount, 2);
      assert.deepEqual(summary.notes, [
        { line: 1, pointer: '/kontaktinformasjon/epostadresse', detail: NOTE_CHANNEL_WITHOUT_TIME },
        { line: 4, pointer: '/digital_post/postkasseleverandoeradresse', detail: NOTE_UNREGISTERED_PROVIDER },
      ]);
    });

    it('reports progress with the lines and persons read so far', async () => {
      const db = await fresh();
      const seen: { lines: number; persons: number }[] = [];
      await runImport(db, ['', ...ALL_INPUT], { batchSize: 2, onProgress: (p) => seen.push({ ...p }) });
      assert.deepEqual(seen.at(-1), { lines: 6, persons: 5 });
      assert.ok(seen.length >= 2);
    });
  });
}

describe('identifiers used here', () => {
  it('sort as the expected export order assumes', () => {
    assert.deepEqual([P_E, P_D, P_C, P_B, P_A].sort(), [P_A, P_B, P_C, P_E, P_D]);
    assert.notEqual(badCheckDigit(P_C), P_C);
  });
});

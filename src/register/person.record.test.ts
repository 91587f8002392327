// Lookup records in the store: written with every person, rendered for persons of a register from
// before they existed when it opens (without new change ids), the only copy of the answer's
// fragments, and the flip column is the inverse of the boundary.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { syntheticPersons } from '../demo/synthetic-persons.js';
import { PersonRepository } from './person.repository.js';
import { kontaktinformasjonMember, renderPerson } from '../answer/answer.render.js';
import { PersonWriter, renderFlipsForThePeriod } from './person.writer.js';
import { openStore, REGISTER_DATA_MIGRATIONS } from './open-store.js';
import { skipReason, STORE_KINDS, openTestStore } from '../../test/support/stores.js';
import type { TestStore } from '../../test/support/stores.js';
import { flipOf, FRESHNESS_MONTHS, freshnessEnd } from '../freshness/freshness.js';
import { openEmbedded } from '../store/embedded.database.js';
import { migrate } from '../store/migrations.js';
import { openPostgres } from '../store/postgres.database.js';
import type { Database, StoreConfig } from '../store/database.js';
import { freshStoreConfig } from '../../test/support/stores.js';
import {
  decodeLookupRecord,
  digitalPostOf,
  encodeLookupRecord,
  headOf,
  kontaktOf,
  lookupRecordMaxBytes,
  partsOfLookupRecord,
  spraakOf,
  tailOf,
  writeLookupRecord,
} from '../answer/answer.record.js';

const NOW = Date.UTC(2024, 5, 1, 10);
const PERSONS = [...syntheticPersons(200, { seed: 3, now: NOW })];

describe('encodeLookupRecord / decodeLookupRecord', () => {
  it('cuts each rendered fragment back out, byte for byte, also with non-ASCII text', () => {
    const persons = [
      ...PERSONS,
      {
        ...PERSONS[5]!,
        status: 'AKTIV' as const,
        reservasjon: 'NEI' as const,
        digital_post: { postkasseadresse: 'åse.ørn#ÆØÅ1', postkasseleverandoeradresse: '984661185' },
      },
      // Bars inside the body (the header's separator), and each channel alone.
      {
        ...PERSONS[6]!,
        status: 'AKTIV' as const,
        reservasjon: 'NEI' as const,
        kontaktinformasjon: { epostadresse: 'a|b@example.no' },
        digital_post: { postkasseadresse: '|x|#|', postkasseleverandoeradresse: '984661185' },
      },
      {
        ...PERSONS[7]!,
        status: 'AKTIV' as const,
        reservasjon: 'NEI' as const,
        kontaktinformasjon: { mobiltelefonnummer: '+4791234567' },
      },
    ];
    for (const p of persons) {
      const r = renderPerson(p);
      const d = decodeLookupRecord(Buffer.from(encodeLookupRecord(r)), null);
      assert.equal(d.personidentifikator, r.personidentifikator);
      assert.equal(headOf(d).toString(), `{${r.base}`);
      const kontakt = kontaktOf(d).toString();
      assert.ok(kontakt === '' || kontakt.startsWith(',"kontaktinformasjon":{'), kontakt);
      assert.equal(digitalPostOf(d).toString(), r.digitalPost === null ? '' : `,${r.digitalPost}`);
      assert.equal(spraakOf(d).toString(), r.spraak === null ? '' : `,${r.spraak}`);
      assert.equal(tailOf(d).toString(), `${r.spraak === null ? '' : `,${r.spraak}`}}`);
      assert.equal(kontakt, r.epost === null && r.mobil === null ? '' : `,${kontaktinformasjonMember(r)}`);
      // Written straight into a buffer (the import's COPY): within the room asked, nothing around it
      // touched.
      const room = lookupRecordMaxBytes(r);
      const out = Buffer.alloc(room + 6, 0xee);
      const written = writeLookupRecord(out, 3, r, flipOf(r));
      assert.ok(written <= room, `${written} > ${room}`);
      assert.equal(out.subarray(3, 3 + written).toString(), encodeLookupRecord(r));
      assert.ok(out.subarray(0, 3).every((b) => b === 0xee));
      assert.ok(out.subarray(3 + room).every((b) => b === 0xee));
      assert.deepEqual(partsOfLookupRecord(encodeLookupRecord(r)), {
        base: r.base,
        epost: r.epost,
        mobil: r.mobil,
        digitalPost: r.digitalPost,
        spraak: r.spraak,
      });
      const clock = r.status === 'AKTIV' && !r.reserved && r.varslingBasis !== null;
      assert.equal(d.dependsOnClock, clock);
      if (clock) {
        assert.equal(d.basis, r.varslingBasis);
        assert.equal(d.flip, freshnessEnd(r.varslingBasis));
      }
    }
  });
});

for (const kind of STORE_KINDS) {
  describe(`lookup records in the store (${kind})`, { skip: await skipReason(kind) }, () => {
    let store: TestStore;
    before(async () => {
      store = await openTestStore(kind);
      await new PersonWriter(store.db).write(PERSONS);
    });
    after(async () => store?.dispose());

    it('writes the record and the flip instant with every person', async () => {
      const rows = await store.db.query<{
        lookup: string;
        varsling_flip: number | null;
        varsling_basis: number | null;
      }>('select lookup, varsling_flip, varsling_basis from person');
      assert.equal(rows.length, PERSONS.length);
      for (const row of rows) {
        assert.ok(row.lookup.startsWith('V|') || row.lookup.startsWith('N|'));
        if (row.lookup.startsWith('V|')) assert.equal(row.varsling_flip, freshnessEnd(row.varsling_basis!));
        else assert.equal(row.varsling_flip, null);
      }
    });
  });

  describe(
    `a register whose records were rendered with another period (${kind})`,
    { skip: await skipReason(kind) },
    () => {
      it('renders every flip instant again when it opens, without new change ids, and only once', async () => {
        const { config, cleanup } = await freshStoreConfig(kind);
        try {
          const first = await openStore(config);
          let before: { personidentifikator: string; change_id: number; lookup: string }[];
          try {
            await new PersonWriter(first).write(PERSONS);
            before = await first.query(
              'select personidentifikator, change_id, lookup from person order by 1',
            );
            // As if written by a build with another period: every flip elsewhere, and that period recorded.
            await first.query(
              `update person set varsling_flip = 1,
               lookup = regexp_replace(lookup, '^V\\|([0-9]+)\\|[0-9]+\\|', 'V|\\1|1|')
               where varsling_flip is not null`,
            );
            await first.query(`update register_rule set value = '12' where name = 'freshness_months'`);
          } finally {
            await first.close();
          }
          const db = await openStore(config);
          try {
            const rows = await db.query<{
              personidentifikator: string;
              change_id: number;
              lookup: string;
              varsling_flip: number | null;
              varsling_basis: number | null;
            }>(
              'select personidentifikator, change_id, lookup, varsling_flip, varsling_basis from person order by 1',
            );
            assert.equal(rows.length, PERSONS.length);
            assert.ok(
              rows.some((r) => r.varsling_flip !== null),
              'some persons depend on the clock',
            );
            rows.forEach((row, i) => {
              assert.equal(row.personidentifikator, before[i]!.personidentifikator);
              assert.equal(row.change_id, before[i]!.change_id);
              // The record as a fresh write renders it, byte for byte; its flip in both places.
              assert.equal(row.lookup, before[i]!.lookup);
              if (row.varsling_flip !== null) {
                assert.equal(row.varsling_flip, freshnessEnd(row.varsling_basis!));
                assert.equal(decodeLookupRecord(Buffer.from(row.lookup), null).flip, row.varsling_flip);
              }
            });
            const [rule] = await db.query<{ value: string }>(
              `select value from register_rule where name = 'freshness_months'`,
            );
            assert.equal(rule?.value, String(FRESHNESS_MONTHS));
            assert.equal(await renderFlipsForThePeriod(db), 0);
          } finally {
            await db.close();
          }
        } finally {
          await cleanup();
        }
      });
    },
  );
}

/** A store's database opened without bringing its schema up to date. */
function openUnmigrated(config: StoreConfig): Promise<Database> {
  return config.kind === 'embedded'
    ? openEmbedded(config.dataDir)
    : openPostgres({ url: config.url, ...(config.schema ? { schema: config.schema } : {}) });
}

for (const kind of STORE_KINDS) {
  describe(`a register from before schema version 7 (${kind})`, { skip: await skipReason(kind) }, () => {
    it('opens with every record rendered from the dropped columns, the same change ids and answers', async () => {
      const { config, cleanup } = await freshStoreConfig(kind);
      try {
        const old = await openUnmigrated(config);
        try {
          await migrate(old, REGISTER_DATA_MIGRATIONS, { upTo: 6 });
          // Half the persons as written by versions 4 to 6 (with a record), half as before 4.
          const rows = PERSONS.map((p, i) => {
            const r = renderPerson(p);
            return {
              personidentifikator: r.personidentifikator,
              status: r.status,
              reserved: r.reserved,
              varsling_basis: r.varslingBasis,
              base: r.base,
              epost: r.epost,
              mobil: r.mobil,
              epost_key: r.epostKey,
              mobil_key: r.mobilKey,
              digital_post: r.digitalPost,
              sertifikat: r.sertifikat,
              spraak: r.spraak,
              mailbox_provider: r.mailboxProvider,
              lookup: i % 2 === 0 ? null : encodeLookupRecord(r),
              varsling_flip: i % 2 === 0 ? null : flipOf(r),
            };
          });
          await old.query(
            `insert into person (${Object.keys(rows[0]!).join(', ')})
             select * from json_to_recordset(($1::text)::json) as t(personidentifikator text, status text,
               reserved boolean, varsling_basis bigint, base text, epost text, mobil text, epost_key text,
               mobil_key text, digital_post text, sertifikat text, spraak text, mailbox_provider text,
               lookup text, varsling_flip bigint)`,
            [JSON.stringify(rows)],
          );
        } finally {
          await old.close();
        }
        const before = await changeIds(config);
        const db = await openStore(config);
        try {
          const after = await db.query<{
            personidentifikator: string;
            change_id: number;
            lookup: string;
            varsling_flip: number | null;
          }>(
            'select personidentifikator, change_id, lookup, varsling_flip from person order by personidentifikator',
          );
          const expected = new Map(PERSONS.map((p) => [p.personidentifikator, renderPerson(p)]));
          assert.equal(after.length, PERSONS.length);
          for (const row of after) {
            const r = expected.get(row.personidentifikator)!;
            assert.equal(row.lookup, encodeLookupRecord(r));
            assert.equal(row.varsling_flip, flipOf(r));
            assert.equal(row.change_id, before.get(row.personidentifikator));
          }
          const found = await new PersonRepository(db).findMany([...expected.keys()].sort());
          assert.deepEqual(
            found,
            [...expected.keys()].sort().map((id) => expected.get(id)),
          );
          const columns = await db.query<{ name: string }>(
            `select column_name as name from information_schema.columns
             where table_schema = current_schema() and table_name = 'person'`,
          );
          for (const gone of ['base', 'epost', 'mobil', 'digital_post', 'spraak'])
            assert.ok(!columns.some((c) => c.name === gone), gone);
        } finally {
          await db.close();
        }
      } finally {
        await cleanup();
      }
    });
  });
}

async function changeIds(config: StoreConfig): Promise<Map<string, number>> {
  const db = await openUnmigrated(config);
  try {
    const rows = await db.query<{ personidentifikator: string; change_id: number }>(
      'select personidentifikator, change_id from person',
    );
    return new Map(rows.map((r) => [r.personidentifikator, r.change_id]));
  } finally {
    await db.close();
  }
}

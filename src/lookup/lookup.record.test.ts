// Lookup records in the store: written with every person, filled in for persons written before
// they existed (without new change ids), and the flip column is the inverse of the boundary.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { syntheticPersons } from '../demo/synthetic-persons.js';
import { PersonRepository } from '../person/person.repository.js';
import { renderPerson } from '../person/person.render.js';
import { PersonWriter } from '../person/person.writer.js';
import { openStore } from '../store/open-store.js';
import { skipReason, STORE_KINDS, openTestStore } from '../test-support/stores.js';
import type { TestStore } from '../test-support/stores.js';
import { varslingFlip } from '../time/varsling-flip.js';
import {
  decodeLookupRecord,
  digitalPostOf,
  encodeLookupRecord,
  kontaktOf,
  spraakOf,
} from './lookup.record.js';

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
    ];
    for (const p of persons) {
      const r = renderPerson(p);
      const d = decodeLookupRecord(Buffer.from(encodeLookupRecord(r)), null);
      assert.equal(d.personidentifikator, r.personidentifikator);
      assert.equal(d.head.toString(), `{${r.base}`);
      const kontakt = kontaktOf(d).toString();
      assert.ok(kontakt === '' || kontakt.startsWith(',"kontaktinformasjon":{'), kontakt);
      assert.equal(digitalPostOf(d).toString(), r.digitalPost === null ? '' : `,${r.digitalPost}`);
      assert.equal(spraakOf(d).toString(), r.spraak === null ? '' : `,${r.spraak}`);
      assert.equal(d.tail.toString(), `${r.spraak === null ? '' : `,${r.spraak}`}}`);
      const clock = r.status === 'AKTIV' && !r.reserved && r.varslingBasis !== null;
      assert.equal(d.dependsOnClock, clock);
      if (clock) {
        assert.equal(d.basis, r.varslingBasis);
        assert.equal(d.flip, varslingFlip(r.varslingBasis!));
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
        if (row.lookup.startsWith('V|')) assert.equal(row.varsling_flip, varslingFlip(row.varsling_basis!));
        else assert.equal(row.varsling_flip, null);
      }
    });

    it('fills in missing records without new change ids (persons written before version 5)', async () => {
      const before = await store.db.query<{ personidentifikator: string; change_id: number; lookup: string }>(
        'select personidentifikator, change_id, lookup from person order by personidentifikator',
      );
      await store.db.query('update person set lookup = null, varsling_flip = null');
      const filled = await new PersonRepository(store.db).backfillLookupRecords(64);
      assert.equal(filled, PERSONS.length);
      const afterFill = await store.db.query<{
        personidentifikator: string;
        change_id: number;
        lookup: string;
      }>('select personidentifikator, change_id, lookup from person order by personidentifikator');
      assert.deepEqual(afterFill, before);
      assert.equal(await new PersonRepository(store.db).backfillLookupRecords(), 0);
    });

    if (kind === 'postgres') {
      it('opening the store fills them in', async () => {
        await store.db.query('update person set lookup = null where personidentifikator = $1', [
          PERSONS[0]!.personidentifikator,
        ]);
        const other = await openStore(store.config);
        await other.close();
        const [row] = await store.db.query<{ n: number }>(
          'select count(*)::int8 as n from person where lookup is null',
        );
        assert.equal(row!.n, 0);
      });
    }
  });
}

// Persons as stores before schema version 7 kept them: the answer's fragments in columns of their
// own (base, epost, mobil, digital_post, spraak), and, for persons written before version 4, no
// lookup record. Version 7 keeps the fragments only in the lookup record, so before it drops those
// columns the records still missing are rendered from them (migrations.ts). Nothing else reads
// this layout.

import { encodeLookupRecord } from '../answer/answer.record.js';
import type { Queryable } from '../store/database.js';
import type { PersonStatus } from '../person/person.js';
import { flipOf } from '../freshness/freshness.js';

interface LegacyRow {
  personidentifikator: string;
  status: PersonStatus;
  reserved: boolean;
  varsling_basis: number | null;
  base: string;
  epost: string | null;
  mobil: string | null;
  epost_key: string | null;
  mobil_key: string | null;
  digital_post: string | null;
  spraak: string | null;
}

/**
 * Renders the lookup record (and flip instant) of every person who has none, in the caller's
 * transaction, without new change ids (their answers do not change). Returns how many.
 */
export async function renderMissingLookupRecords(tx: Queryable, pageSize = 5000): Promise<number> {
  let done = 0;
  for (;;) {
    const rows = await tx.query<LegacyRow>(
      `select personidentifikator, status, reserved, varsling_basis, base, epost, mobil, epost_key,
              mobil_key, digital_post, spraak
       from person where lookup is null limit $1`,
      [pageSize],
    );
    if (rows.length === 0) return done;
    const batch = rows.map((row) => {
      const p = {
        status: row.status,
        reserved: row.reserved,
        varslingBasis: row.varsling_basis,
        base: row.base,
        epost: row.epost,
        mobil: row.mobil,
        epostKey: row.epost_key,
        mobilKey: row.mobil_key,
        digitalPost: row.digital_post,
        spraak: row.spraak,
      };
      const flip = flipOf(p);
      return { p: row.personidentifikator, l: encodeLookupRecord(p, flip), f: flip };
    });
    await tx.query(
      `update person set lookup = t.l, varsling_flip = t.f
       from json_to_recordset(($1::text)::json) as t(p text, l text, f bigint)
       where person.personidentifikator = t.p`,
      [JSON.stringify(batch)],
    );
    done += rows.length;
  }
}

import type { Database, Queryable } from '../store/database.js';
import type { RenderedPerson } from './person.render.js';

export interface PersonRow {
  personidentifikator: string;
  status: 'AKTIV' | 'SLETTET';
  reserved: boolean;
  varsling_basis: number | null;
  base: string;
  epost: string | null;
  mobil: string | null;
  epost_key: string | null;
  mobil_key: string | null;
  digital_post: string | null;
  sertifikat: string | null;
  spraak: string | null;
  mailbox_provider: string | null;
}

const COLUMNS =
  'personidentifikator, status, reserved, varsling_basis, base, epost, mobil, epost_key, mobil_key, digital_post, sertifikat, spraak, mailbox_provider';

/**
 * A person as answers show it, from PERSON_FROM: the person's own certificate, else the one of the
 * provider of its mailbox.
 */
export const PERSON_SELECT = `p.personidentifikator, p.status, p.reserved, p.varsling_basis, p.base, p.epost, p.mobil,
  p.epost_key, p.mobil_key, p.digital_post, coalesce(p.sertifikat, mp.sertifikat_fragment) as sertifikat, p.spraak,
  p.mailbox_provider`;
export const PERSON_FROM = 'person p left join mailbox_provider mp on mp.orgno = p.mailbox_provider';

export function personFromRow(row: PersonRow): RenderedPerson {
  return {
    personidentifikator: row.personidentifikator,
    status: row.status,
    reserved: row.reserved,
    varslingBasis: row.varsling_basis,
    base: row.base,
    epost: row.epost,
    mobil: row.mobil,
    epostKey: row.epost_key,
    mobilKey: row.mobil_key,
    digitalPost: row.digital_post,
    sertifikat: row.sertifikat,
    spraak: row.spraak,
    mailboxProvider: row.mailbox_provider,
  };
}

// A whole batch travels as one JSON text parameter: the same SQL on both drivers, one round trip.
// A person whose rendering did not change keeps its change id, so re-importing is not a change.
const UPSERT = `
  insert into person (${COLUMNS})
  select p, s, r, v, b, e, m, ek, mk, d, c, l, mp
  from json_to_recordset(($1::text)::json)
    as t(p text, s text, r boolean, v bigint, b text, e text, m text, ek text, mk text, d text, c text, l text, mp text)
  on conflict (personidentifikator) do update set
    status = excluded.status, reserved = excluded.reserved, varsling_basis = excluded.varsling_basis,
    base = excluded.base, epost = excluded.epost, mobil = excluded.mobil, epost_key = excluded.epost_key,
    mobil_key = excluded.mobil_key, digital_post = excluded.digital_post, sertifikat = excluded.sertifikat,
    spraak = excluded.spraak, mailbox_provider = excluded.mailbox_provider,
    change_id = nextval('person_change_id'), updated_at = now()
  where (person.status, person.reserved, person.varsling_basis, person.base, person.epost, person.mobil,
         person.digital_post, person.sertifikat, person.spraak, person.mailbox_provider)
    is distinct from
        (excluded.status, excluded.reserved, excluded.varsling_basis, excluded.base, excluded.epost, excluded.mobil,
         excluded.digital_post, excluded.sertifikat, excluded.spraak, excluded.mailbox_provider)`;

export class PersonRepository {
  constructor(private readonly db: Database) {}

  /** The registered persons among `identifiers`, in ascending identifier order. */
  async findMany(identifiers: readonly string[], q: Queryable = this.db): Promise<RenderedPerson[]> {
    if (identifiers.length === 0) return [];
    const rows = await q.query<PersonRow>(
      `select ${PERSON_SELECT} from ${PERSON_FROM}
       where p.personidentifikator = any($1::text[]) order by p.personidentifikator`,
      [identifiers],
    );
    return rows.map(personFromRow);
  }

  async count(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>('select count(*)::int8 as n from person');
    return row?.n ?? 0;
  }

  /** Every person in identifier order, a page at a time (keyset paging: no cursor, same SQL on both stores). */
  async *scan(pageSize = 5000): AsyncGenerator<RenderedPerson[]> {
    let after = '';
    for (;;) {
      const rows = await this.db.query<PersonRow>(
        `select ${PERSON_SELECT} from ${PERSON_FROM}
         where p.personidentifikator > $1 order by p.personidentifikator limit $2`,
        [after, pageSize],
      );
      if (rows.length === 0) return;
      yield rows.map(personFromRow);
      after = rows[rows.length - 1]!.personidentifikator;
      if (rows.length < pageSize) return;
    }
  }

  /**
   * Writes persons (insert or replace) inside the caller's transaction; every person whose answer
   * changes gets a new change id. Callers go through PersonWriter, the register's one write path.
   */
  async upsert(tx: Queryable, persons: readonly RenderedPerson[]): Promise<void> {
    if (persons.length === 0) return;
    const batch = persons.map((p) => ({
      p: p.personidentifikator,
      s: p.status,
      r: p.reserved,
      v: p.varslingBasis,
      b: p.base,
      e: p.epost,
      m: p.mobil,
      ek: p.epostKey,
      mk: p.mobilKey,
      d: p.digitalPost,
      c: p.sertifikat,
      l: p.spraak,
      mp: p.mailboxProvider,
    }));
    await tx.query(UPSERT, [JSON.stringify(batch)]);
  }

  /** New change ids for the persons who show the provider's certificate; their rows are not rewritten. */
  async touchInheritingPersons(tx: Queryable, orgno: string): Promise<number> {
    const rows = await tx.query(
      `update person set change_id = nextval('person_change_id'), updated_at = now()
       where mailbox_provider = $1 and sertifikat is null and status = 'AKTIV'
       returning personidentifikator`,
      [orgno],
    );
    return rows.length;
  }
}

import { PERSON_FROM, PERSON_SELECT, personFromRow } from '../register/person.repository.js';
import type { PersonRow } from '../register/person.repository.js';
import type { RenderedPerson } from '../answer/answer.render.js';
import type { Database } from '../store/database.js';

/** Before the first change: change ids start above 200 000 000 (docs/change-feed.md#change-ids). */
export const NO_CHANGE_ID = 200_000_000;

export interface ChangedPerson {
  readonly changeId: number;
  readonly removed?: false;
  readonly person: RenderedPerson;
  /** Another AKTIV person has the same e-mail address / mobile number. */
  readonly duplicates: { readonly epost: boolean; readonly mobil: boolean };
}

/** A person removed from the register (docs/change-feed.md#removed-persons). */
export interface RemovedPerson {
  readonly changeId: number;
  readonly removed: true;
  readonly personidentifikator: string;
}

export interface ChangePage {
  readonly persons: readonly (ChangedPerson | RemovedPerson)[];
  /** The highest change id a reader can see, read in the same snapshot as the page. */
  readonly latestChangeId: number;
}

type PageRow =
  | (PersonRow & { change_id: number; removed: boolean })
  | { change_id: null; removed: null; personidentifikator: null };

// The columns of PERSON_SELECT for a removal: only the identifier.
const REMOVED_SELECT = `r.personidentifikator, null::text as status, null::boolean as reserved,
  null::int8 as varsling_basis, null::text as epost_key, null::text as mobil_key, null::text as sertifikat,
  null::text as mailbox_provider, null::text as lookup`;

/**
 * One page of the feed: the persons whose latest change id is greater than $1, ascending, at most
 * $2, and the highest change id a reader can see. Removals of identifiers registered again are
 * left out: the person's own change id is later than the removal's, and the feed shows each
 * identifier once, in its current state. The same statement is the benchmark's feed ceiling.
 */
export const CHANGE_PAGE_SQL = `select s.latest, p.*
   from (select coalesce(greatest((select max(change_id) from person),
                                  (select max(change_id) from person_removed)), ${NO_CHANGE_ID}) as latest) s
   left join lateral (
     select * from (
       (select p.change_id, false as removed, ${PERSON_SELECT} from ${PERSON_FROM}
        where p.change_id > $1 order by p.change_id limit $2)
       union all
       (select r.change_id, true as removed, ${REMOVED_SELECT} from person_removed r
        where r.change_id > $1
          and not exists (select 1 from person x where x.personidentifikator = r.personidentifikator)
        order by r.change_id limit $2)
     ) u order by change_id limit $2
   ) p on true
   order by p.change_id`;

export class ChangesRepository {
  constructor(private readonly db: Database) {}

  /**
   * Persons whose latest change id is greater than `after`, ascending, at most `limit`, in their
   * current state. One statement, so the page and the highest visible id share one snapshot.
   * Change ids are commit-ordered (see PersonWriter), so paging never skips a change.
   */
  async page(after: number, limit: number): Promise<ChangePage> {
    const rows = await this.db.query<PageRow & { latest: number }>(CHANGE_PAGE_SQL, [after, limit]);
    const latestChangeId = rows[0]?.latest ?? NO_CHANGE_ID;
    const found = rows.filter(
      (r): r is PersonRow & { change_id: number; removed: boolean; latest: number } => r.change_id !== null,
    );
    const present = found.filter((r) => !r.removed);
    const [epostDuplicates, mobilDuplicates] = await Promise.all([
      this.duplicated(
        'epost_key',
        present.map((r) => r.epost_key),
      ),
      this.duplicated(
        'mobil_key',
        present.map((r) => r.mobil_key),
      ),
    ]);
    return {
      latestChangeId,
      persons: found.map((row): ChangedPerson | RemovedPerson =>
        row.removed
          ? { changeId: row.change_id, removed: true, personidentifikator: row.personidentifikator }
          : {
              changeId: row.change_id,
              person: personFromRow(row),
              duplicates: {
                epost: row.epost_key !== null && epostDuplicates.has(row.epost_key),
                mobil: row.mobil_key !== null && mobilDuplicates.has(row.mobil_key),
              },
            },
      ),
    };
  }

  /** Of `keys`, those that more than one AKTIV person has. */
  private async duplicated(
    column: 'epost_key' | 'mobil_key',
    keys: readonly (string | null)[],
  ): Promise<Set<string>> {
    const wanted = [...new Set(keys.filter((k): k is string => k !== null))];
    if (wanted.length === 0) return new Set();
    // One index probe per key: a plain `= any(...)` with `group by` was planned as a bitmap scan of
    // most of the table (about 80 ms a page on 100 000 persons; this is about 3 ms).
    const rows = await this.db.query<{ key: string }>(
      `select k.key from unnest($1::text[]) as k(key)
       where exists (select 1 from person where status = 'AKTIV' and ${column} = k.key offset 1)`,
      [wanted],
    );
    return new Set(rows.map((r) => r.key));
  }
}

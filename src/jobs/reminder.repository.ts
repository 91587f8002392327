// The reminder job's reads and writes (docs/jobs.md#reminders): one page of the persons due for a
// reminder, each marked as reminded for their current confirmation in the same statement that
// finds them. Rows stay here: the job gets the channels and language of each person to remind.

import type { Queryable } from '../store/database.js';
import { partsOfLookupRecord } from '../answer/answer.record.js';
import { isLanguage } from '../person/person.js';
import type { Language } from '../person/person.js';
import type { EpochMs } from '../time/oslo-time.js';

/** One person to remind: where to and in which language; nothing else about them. */
export interface DueReminder {
  readonly epostadresse: string | undefined;
  readonly mobiltelefonnummer: string | undefined;
  readonly spraak: Language | undefined;
}

export interface ReminderPage {
  /** How many persons due and not yet reminded for their confirmation the page looked at. */
  readonly scanned: number;
  /** The page's last identifier: where the next page starts; undefined after the last page. */
  readonly next: string | undefined;
  /** The persons this page marked as reminded: exactly these get a reminder (in this transaction). */
  readonly marked: readonly DueReminder[];
}

interface PageRow {
  personidentifikator: string;
  lookup: string;
  marked: boolean;
}

// Finds the next page of persons due (AKTIV, not reserved, a channel confirmed at or before the
// cutoff) that no reminder was sent for at their current confirmation, in identifier order, and
// marks them in reminder_sent. ON CONFLICT makes the mark exactly-once with concurrent runs: a
// second run's insert of the same person waits for the first run's transaction, then finds the row
// with the same basis and neither updates nor returns it, so only the first run sends
// (docs/jobs.md#reminders). Inserted in identifier order, so two runs lock rows in the same order.
//
// The page is found from the index person_reminder_idx alone (identifier and basis of the persons
// who can be notified; migration 14), and only its persons' rows are read for their channels: a
// run that finds everyone due already reminded reads the index, not the register
// (docs/jobs.md#reminders has the measurements).
const PAGE_SQL = `
  with due as (
    select p.personidentifikator, p.varsling_basis
    from person p
    where p.personidentifikator > $1
      and p.status = 'AKTIV' and not p.reserved and p.varsling_basis <= $2
      and not exists (
        select 1 from reminder_sent r
        where r.personidentifikator = p.personidentifikator and r.basis = p.varsling_basis)
    order by p.personidentifikator
    limit $3
  ), candidate as (
    select d.personidentifikator, d.varsling_basis, p.lookup
    from due d join person p on p.personidentifikator = d.personidentifikator
  ), marked as (
    insert into reminder_sent (personidentifikator, basis, sent_at)
    select personidentifikator, varsling_basis, $4::text::timestamptz from candidate
    order by personidentifikator
    on conflict (personidentifikator) do update set basis = excluded.basis, sent_at = excluded.sent_at
      where reminder_sent.basis <> excluded.basis
    returning personidentifikator
  )
  select c.personidentifikator, c.lookup, (m.personidentifikator is not null) as marked
  from candidate c left join marked m on m.personidentifikator = c.personidentifikator
  order by c.personidentifikator`;

/** The value of `"name":value` members (a rendered fragment, without braces), or an empty object. */
function members(fragment: string | null): Record<string, unknown> {
  return fragment === null ? {} : (JSON.parse(`{${fragment}}`) as Record<string, unknown>);
}

function dueReminder(lookup: string): DueReminder {
  const parts = partsOfLookupRecord(lookup);
  const epost = members(parts.epost).epostadresse;
  const mobil = members(parts.mobil).mobiltelefonnummer;
  const spraak = members(parts.spraak).spraak;
  return {
    epostadresse: typeof epost === 'string' && epost !== '' ? epost : undefined,
    mobiltelefonnummer: typeof mobil === 'string' && mobil !== '' ? mobil : undefined,
    spraak: isLanguage(spraak) ? spraak : undefined,
  };
}

export class ReminderRepository {
  /**
   * In `tx`: the next page (at most `limit` persons after identifier `after`) of persons whose
   * latest confirmation is at or before `cutoff` and who were not reminded for it, each marked as
   * reminded at `sentAt`. The caller writes their reminders in the same transaction.
   */
  async markPage(
    tx: Queryable,
    page: { readonly after: string; readonly cutoff: EpochMs; readonly limit: number; readonly sentAt: Date },
  ): Promise<ReminderPage> {
    const rows = await tx.query<PageRow>(PAGE_SQL, [
      page.after,
      page.cutoff,
      page.limit,
      page.sentAt.toISOString(),
    ]);
    return {
      scanned: rows.length,
      next: rows.length < page.limit ? undefined : rows[rows.length - 1]!.personidentifikator,
      marked: rows.filter((r) => r.marked).map((r) => dueReminder(r.lookup)),
    };
  }
}

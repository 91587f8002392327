// `krr folkeregister sync`: follows Folkeregisteret's event list (docs/folkeregister.md) and applies what
// the register must know of it: a death makes the entry SLETTET, a new identifier moves the entry to it
// (docs/folkeregister.md#rules). Each page's events are checked, the person documents they need are
// fetched, and then their effects, their counts and the new position are written through the register's
// one write path in ONE transaction: a run stopped or killed at any point resumes after the last event it
// committed, with nothing lost and nothing applied twice. A bad event stops the run after the events
// before it are committed, with nothing of it applied (docs/folkeregister.md#bad-events).

import { AuditRepository } from '../audit/audit.repository.js';
import { checkPersonIdentifier, IDENTIFIER_PROBLEM_TEXT } from '../identifier/identifier.js';
import type { IdentifierRules } from '../identifier/identifier.js';
import type { Person } from '../person/person.js';
import { PersonWriter } from '../register/person.writer.js';
import type { PersonWriteSession } from '../register/person.writer.js';
import type { Database, Queryable } from '../store/database.js';
import type { FolkeregisterSource } from './folkeregister.client.js';
import { abortableSleep } from './sync.service.js';
import { isRetryable, SourceAnswerError, SyncConflictError, SyncDataError } from './sync.errors.js';

/** The hendelsestype of a death (docs/folkeregister.md#event-types). */
export const DEATH = 'doedsfall';
/**
 * The names Folkeregisteret's own lists give a death's events (its published types are
 * lower-camel-case: `endringIDoedsfall`, `personErDoed`), handled as `DEATH`: the rule reads the
 * person document, so an event that turns out to be no death changes nothing.
 */
const DEATH_TYPES: ReadonlySet<string> = new Set([DEATH, 'endringIDoedsfall', 'personErDoed', 'personErDod']);
const isDeath = (type: string) => DEATH_TYPES.has(type);
/** The hendelsestype of a change of the person's identifier (docs/folkeregister.md#event-types). */
export const NEW_IDENTIFIER = 'endringIIdentifikasjonsnummer';
/** The audit trail's `endpoint` for an identifier change applied or refused (docs/folkeregister.md#audit). */
export const AUDIT_ENDPOINT = 'folkeregister ny identifikator';

/** What an event did here; counted as `<hendelsestype>:<outcome>` beside `<hendelsestype>`. */
export type Outcome =
  | 'slettet'
  | 'allerede-slettet'
  | 'ikke-i-registeret'
  | 'ikke-doed'
  | 'ingen-persondokument'
  | 'flyttet'
  | 'konflikt'
  | 'gammel-uten-oppfoering'
  | 'uten-tidligere-identifikator';

/** One event of the list, checked (docs/folkeregister.md#the-event-list). */
export interface FolkeregisterEvent {
  readonly sekvensnummer: number;
  readonly folkeregisteridentifikator: string;
  readonly hendelsestype: string;
}

/** What the service needs of a person's document (docs/folkeregister.md#person-document). */
interface PersonFacts {
  readonly current: string;
  readonly former: readonly string[];
  readonly dead: boolean;
}

export interface FolkeregisterProgress {
  readonly pages: number;
  readonly events: number;
  /** The committed position: the last sequence number applied. */
  readonly position: number;
  readonly caughtUp: boolean;
}

export interface FolkeregisterConflict {
  readonly sequence: number;
  readonly type: string;
  readonly reason: string;
}

export interface FolkeregisterSummary extends FolkeregisterProgress {
  readonly source: string;
  readonly startPosition: number;
  readonly seconds: number;
  readonly stopped: boolean;
  /** This run's counts: by hendelsestype, and by `<hendelsestype>:<outcome>`. */
  readonly counts: ReadonlyMap<string, number>;
  /** This run's conflicts, for the operator. */
  readonly conflicts: readonly FolkeregisterConflict[];
}

export interface FolkeregisterSyncOptions {
  readonly db: Database;
  readonly source: FolkeregisterSource;
  readonly rules: IdentifierRules;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: FolkeregisterProgress) => void;
  readonly onRetry?: (error: Error, delayMs: number) => void;
  /** Retry back-off: from `initialMs` doubling to `maxMs` (default 1 s to 60 s). */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** When caught up and following: how long before asking again (default 10 s). */
  readonly pollMs?: number;
  /** syncOnce: how many times a retryable failure is retried before giving up (default 5). */
  readonly retries?: number;
  readonly sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  /** The audit entries' time (the system clock by default). */
  readonly now?: () => Date;
}

export interface FolkeregisterStatus {
  readonly position: number | undefined;
  readonly updatedAt: string | undefined;
  readonly counts: readonly { readonly type: string; readonly count: number }[];
  readonly conflicts: readonly (FolkeregisterConflict & { readonly recordedAt: string })[];
}

/** The stored position, counts and conflicts (`krr folkeregister status`). */
export async function readFolkeregisterStatus(db: Queryable): Promise<FolkeregisterStatus> {
  const [position] = await db.query<{ last_sequence: string; updated_at: string }>(
    `select last_sequence::text as last_sequence,
            to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as updated_at
     from folkeregister_position`,
  );
  const counts = await db.query<{ type: string; count: string }>(
    'select type, count::text as count from folkeregister_event_count order by type',
  );
  const conflicts = await db.query<{ sequence: string; type: string; reason: string; recorded_at: string }>(
    `select sequence::text as sequence, type, reason,
            to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as recorded_at
     from folkeregister_conflict order by sequence`,
  );
  return {
    position: position ? Number(position.last_sequence) : undefined,
    updatedAt: position?.updated_at,
    counts: counts.map((r) => ({ type: r.type, count: Number(r.count) })),
    conflicts: conflicts.map((r) => ({
      sequence: Number(r.sequence),
      type: r.type,
      reason: r.reason,
      recordedAt: r.recorded_at,
    })),
  };
}

async function readPosition(db: Queryable, lock = false): Promise<number | undefined> {
  const [row] = await db.query<{ last_sequence: string }>(
    `select last_sequence::text as last_sequence from folkeregister_position${lock ? ' for update' : ''}`,
  );
  return row ? Number(row.last_sequence) : undefined;
}

/** Follows the event list until it answers no more events, then returns. */
export function folkeregisterSyncOnce(options: FolkeregisterSyncOptions): Promise<FolkeregisterSummary> {
  return new FolkeregisterRun(options).run(false);
}

/** Follows the event list until `signal` aborts, asking again every `pollMs` once caught up. */
export function followFolkeregister(options: FolkeregisterSyncOptions): Promise<FolkeregisterSummary> {
  return new FolkeregisterRun(options).run(true);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why a raw event is not an event this register can apply (never naming its identifier), or the event. */
function checkEvent(
  raw: unknown,
  rules: IdentifierRules,
): FolkeregisterEvent | { problem: string; seq?: number } {
  if (!isPlainObject(raw)) return { problem: 'an event must be a JSON object' };
  const seq = raw.sekvensnummer;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) {
    return { problem: 'sekvensnummer must be a positive whole number' };
  }
  const h = raw.hendelse;
  if (!isPlainObject(h)) return { problem: 'hendelse is missing or not an object', seq };
  const id = h.folkeregisteridentifikator;
  if (typeof id !== 'string') return { problem: 'hendelse.folkeregisteridentifikator is missing', seq };
  const check = checkPersonIdentifier(id, rules);
  if (!check.valid) {
    return { problem: `hendelse.folkeregisteridentifikator: ${IDENTIFIER_PROBLEM_TEXT[check.problem]}`, seq };
  }
  const type = h.hendelsestype;
  if (typeof type !== 'string' || !/^[A-Za-z][A-Za-z0-9]{0,99}$/.test(type)) {
    return { problem: 'hendelse.hendelsestype is missing or not a type name', seq };
  }
  return { sekvensnummer: seq, folkeregisteridentifikator: id, hendelsestype: type };
}

/** The facts of a person's document, or why it cannot be used (never naming an identifier). */
function checkPersonDocument(raw: unknown, rules: IdentifierRules): PersonFacts | { problem: string } {
  if (!isPlainObject(raw)) return { problem: 'the person document is not a JSON object' };
  const ids = raw.identifikasjonsnummer;
  if (!Array.isArray(ids) || ids.length === 0) {
    return { problem: 'the person document has no identifikasjonsnummer' };
  }
  let current: string | undefined;
  const former: string[] = [];
  for (const [i, entry] of ids.entries()) {
    if (!isPlainObject(entry)) return { problem: `identifikasjonsnummer[${i}] is not an object` };
    const value = entry.foedselsEllerDNummer;
    if (typeof value !== 'string')
      return { problem: `identifikasjonsnummer[${i}].foedselsEllerDNummer is missing` };
    const check = checkPersonIdentifier(value, rules);
    if (!check.valid) {
      return {
        problem: `identifikasjonsnummer[${i}].foedselsEllerDNummer: ${IDENTIFIER_PROBLEM_TEXT[check.problem]}`,
      };
    }
    if (entry.status === 'iBruk') {
      if (current !== undefined) return { problem: 'the person document has more than one identifier iBruk' };
      current = value;
    } else if (entry.status === 'opphoert') former.push(value);
    else return { problem: `identifikasjonsnummer[${i}].status must be iBruk or opphoert` };
  }
  if (current === undefined) return { problem: 'the person document has no identifier iBruk' };
  const deaths = raw.doedsfall;
  if (deaths !== undefined && deaths !== null && !Array.isArray(deaths)) {
    return { problem: 'doedsfall must be an array' };
  }
  return {
    current,
    former: former.filter((f) => f !== current),
    dead: Array.isArray(deaths) && deaths.length > 0,
  };
}

/** An event ready to apply: checked, with the facts of its person's document when its type needs them. */
interface Prepared {
  readonly event: FolkeregisterEvent;
  /** null: Folkeregisteret has no document for the person. */
  readonly facts?: PersonFacts | null;
}

class FolkeregisterRun {
  private readonly writer: PersonWriter;
  private readonly audit: AuditRepository;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly sleep: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  private readonly counts = new Map<string, number>();
  private readonly conflicts: FolkeregisterConflict[] = [];
  private stored: number | undefined;
  private position = 0;
  private pages = 0;
  private events = 0;
  private caughtUp = false;

  constructor(private readonly o: FolkeregisterSyncOptions) {
    this.writer = new PersonWriter(o.db);
    this.audit = new AuditRepository(o.db);
    this.initialMs = o.backoff?.initialMs ?? 1000;
    this.maxMs = o.backoff?.maxMs ?? 60_000;
    this.sleep = o.sleep ?? abortableSleep;
  }

  private get aborted(): boolean {
    return this.o.signal?.aborted ?? false;
  }

  async run(keepFollowing: boolean): Promise<FolkeregisterSummary> {
    const started = performance.now();
    this.stored = await readPosition(this.o.db);
    this.position = this.stored ?? 0;
    const startPosition = this.position;
    while (!this.aborted) {
      const raw = await this.withRetry(keepFollowing, () => this.o.source.fetchEvents(this.position + 1));
      if (raw === undefined) break; // stopped while waiting to retry
      const stopped = await this.applyPage(raw, keepFollowing);
      if (stopped) break;
      if (!this.caughtUp) continue;
      if (!keepFollowing) break;
      await this.sleep(this.o.pollMs ?? 10_000, this.o.signal);
    }
    return {
      source: this.o.source.url,
      startPosition,
      position: this.position,
      pages: this.pages,
      events: this.events,
      caughtUp: this.caughtUp,
      stopped: this.aborted,
      seconds: (performance.now() - started) / 1000,
      counts: this.counts,
      conflicts: this.conflicts,
    };
  }

  private async withRetry<T>(forever: boolean, fn: () => Promise<T>): Promise<T | undefined> {
    const retries = this.o.retries ?? 5;
    let delayMs = this.initialMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!isRetryable(err) || (!forever && attempt > retries)) throw err;
        this.o.onRetry?.(err as Error, delayMs);
        await this.sleep(delayMs, this.o.signal);
        if (this.aborted) return undefined;
        delayMs = Math.min(delayMs * 2, this.maxMs);
      }
    }
  }

  /** A bad event's error; made once the events before it are committed, so it names the position they left. */
  private bad(seq: number | undefined, index: number, problem: string, asked: number): () => SyncDataError {
    const which =
      seq === undefined
        ? `event ${index + 1} of the page after sequence number ${asked}`
        : `sequence number ${seq}`;
    return () =>
      new SyncDataError(
        `Folkeregisteret's event at ${which} cannot be applied: ${problem}; nothing of it was applied, ` +
          `and the position stays at ${this.position}`,
      );
  }

  /** Checks, prepares and applies one page; true when the run was stopped while preparing it. */
  private async applyPage(raw: readonly unknown[], forever: boolean): Promise<boolean> {
    if (raw.length === 0) {
      this.pages++;
      this.caughtUp = true;
      this.progress();
      return false;
    }
    const prepared: Prepared[] = [];
    let failure: (() => Error) | undefined;
    let last = this.position;
    for (const [i, item] of raw.entries()) {
      const checked = checkEvent(item, this.o.rules);
      if ('problem' in checked) {
        failure = this.bad(checked.seq, i, checked.problem, this.position);
        break;
      }
      if (checked.sekvensnummer <= last) {
        const asked = this.position + 1;
        const after = last;
        failure = () =>
          new SourceAnswerError(
            `Folkeregisteret answered sequence number ${checked.sekvensnummer} after ${after} when asked for those from ${asked}`,
          );
        break;
      }
      last = checked.sekvensnummer;
      if (!isDeath(checked.hendelsestype) && checked.hendelsestype !== NEW_IDENTIFIER) {
        prepared.push({ event: checked });
        continue;
      }
      // The document as it is now: a death since annulled, or a later identifier, is seen as it stands.
      const doc = await this.withRetry(forever, () =>
        this.o.source.fetchPerson(checked.folkeregisteridentifikator),
      );
      if (this.aborted) return true;
      if (doc === undefined) {
        prepared.push({ event: checked, facts: null });
        continue;
      }
      const facts = checkPersonDocument(doc, this.o.rules);
      if ('problem' in facts) {
        failure = this.bad(checked.sekvensnummer, i, facts.problem, this.position);
        break;
      }
      prepared.push({ event: checked, facts });
    }

    if (prepared.length > 0) await this.commit(prepared);
    this.pages++;
    this.caughtUp = false;
    this.progress();
    if (failure) throw failure();
    return false;
  }

  private progress(): void {
    this.o.onProgress?.({
      pages: this.pages,
      events: this.events,
      position: this.position,
      caughtUp: this.caughtUp,
    });
  }

  private async commit(prepared: readonly Prepared[]): Promise<void> {
    const counts = new Map<string, number>();
    const conflicts: FolkeregisterConflict[] = [];
    const count = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
    const next = prepared[prepared.length - 1]!.event.sekvensnummer;
    await this.writer.session(async (s) => {
      const locked = await readPosition(s.tx, true);
      if (locked !== this.stored) {
        throw new SyncConflictError(
          'the Folkeregisteret position changed under this process: is another krr folkeregister sync running on the same store?',
        );
      }
      for (const p of prepared) {
        const { hendelsestype: type } = p.event;
        count(type);
        const outcome = await this.effect(s, p, conflicts);
        if (outcome) count(`${type}:${outcome}`);
      }
      for (const [type, n] of counts) {
        await s.tx.query(
          `insert into folkeregister_event_count (type, count) values ($1, $2)
           on conflict (type) do update set count = folkeregister_event_count.count + excluded.count`,
          [type, n],
        );
      }
      for (const c of conflicts) {
        await s.tx.query(
          `insert into folkeregister_conflict (sequence, type, reason, recorded_at) values ($1, $2, $3, now())
           on conflict (sequence) do nothing`,
          [c.sequence, c.type, c.reason],
        );
      }
      await s.tx.query(
        `insert into folkeregister_position (singleton, last_sequence, updated_at) values (true, $1, now())
         on conflict (singleton) do update set last_sequence = excluded.last_sequence, updated_at = excluded.updated_at`,
        [next],
      );
    });
    this.stored = next;
    this.position = next;
    this.events += prepared.length;
    for (const [type, n] of counts) this.counts.set(type, (this.counts.get(type) ?? 0) + n);
    this.conflicts.push(...conflicts);
  }

  /** The event's effect, in the page's transaction; what it did. */
  private async effect(
    s: PersonWriteSession,
    { event, facts }: Prepared,
    conflicts: FolkeregisterConflict[],
  ): Promise<Outcome | undefined> {
    if (isDeath(event.hendelsestype)) {
      if (facts === null) return 'ingen-persondokument';
      if (!facts!.dead) return 'ikke-doed';
      const person = await s.find(event.folkeregisteridentifikator);
      if (!person) return 'ikke-i-registeret';
      if (person.status === 'SLETTET') return 'allerede-slettet';
      await s.write([slettet(person.personidentifikator)]);
      return 'slettet';
    }
    if (event.hendelsestype === NEW_IDENTIFIER) {
      if (facts === null) return 'ingen-persondokument';
      const { current, former } = facts!;
      if (former.length === 0) return 'uten-tidligere-identifikator';
      const entries: Person[] = [];
      for (const id of former) {
        const found = await s.find(id);
        if (found && found.status === 'AKTIV') entries.push(found);
      }
      if (entries.length === 0) return 'gammel-uten-oppfoering';
      const target = await s.find(current);
      const reason =
        entries.length > 1
          ? 'more than one former identifier has an entry'
          : target
            ? 'the new identifier already has an entry'
            : undefined;
      const old = entries[0]!;
      const identifiers = [...entries.map((e) => e.personidentifikator), current];
      if (reason) {
        conflicts.push({ sequence: event.sekvensnummer, type: event.hendelsestype, reason });
        await this.record(
          s.tx,
          identifiers,
          409,
          `sekvensnummer ${event.sekvensnummer}: not merged (${reason})`,
        );
        return 'konflikt';
      }
      // Everything the entry holds moves, its timestamps with it: the person's contact information is
      // the same, only the identifier it is kept under changes (docs/folkeregister.md#rules).
      await s.write([{ ...old, personidentifikator: current }, slettet(old.personidentifikator)]);
      await this.record(
        s.tx,
        identifiers,
        200,
        `sekvensnummer ${event.sekvensnummer}: moved from the first to the second`,
      );
      return 'flyttet';
    }
    return undefined;
  }

  /** The link old → new goes in the audit trail, the one place identifiers are kept (docs/folkeregister.md#audit). */
  private record(tx: Queryable, identifiers: string[], status: number, detail: string): Promise<void> {
    return this.audit.record(
      {
        at: this.o.now?.() ?? new Date(),
        clientId: null,
        consumer: null,
        supplier: null,
        endpoint: AUDIT_ENDPOINT,
        identifiers,
        status,
        detail,
      },
      tx,
    );
  }
}

/** A SLETTET entry keeps its identifier and status only (as src/testdata/testdata.templates.ts 'slettet'). */
function slettet(personidentifikator: string): Person {
  return { personidentifikator, status: 'SLETTET', reservasjon: 'NEI' };
}

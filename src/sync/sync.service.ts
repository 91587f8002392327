// `krr sync`: keeps this register in step with another one by following its change feed
// (docs/change-feed.md#krr-sync). Each page is checked whole, then written through the register's one write
// path together with the cursor (the page's `tilEndringsId`) in ONE transaction, so a sync that is
// stopped or killed at any point resumes where its last committed page ended, and never skips or
// half-applies a page. Writing a person in the state it already has is no change, so re-reading
// pages (an old cursor, a crash between commit and acknowledgement) rewrites the same state.
// Written persons get local change ids: this register's own feed carries them on (a chain works).

import type { Person, PersonRules } from '../person/person.js';
import { parsePerson } from '../person/person.js';
import { checkPersonIdentifier, IDENTIFIER_PROBLEM_TEXT } from '../identifier/identifier.js';
import { PersonWriter } from '../register/person.writer.js';
import type { Database } from '../store/database.js';
import type { FeedPage, FeedSource } from './feed.client.js';
import { isRetryable, SourceAnswerError, SyncConflictError, SyncDataError } from './sync.errors.js';

const CURSOR_PREFIX = 'sync:';

/** The register_setting row that holds the cursor for `sourceUrl` (normalized, see normalizeSourceUrl). */
export function cursorName(sourceUrl: string): string {
  return `${CURSOR_PREFIX}${sourceUrl}`;
}

function parseCursor(value: string, sourceUrl: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new SyncConflictError(
      `the stored sync cursor for ${sourceUrl} is not a change id; run with --restart`,
    );
  }
  return n;
}

/** The last `tilEndringsId` committed from `sourceUrl`, or undefined when this store never synced from it. */
export async function readCursor(db: Database, sourceUrl: string): Promise<number | undefined> {
  const [row] = await db.query<{ value: string }>('select value from register_setting where name = $1', [
    cursorName(sourceUrl),
  ]);
  return row ? parseCursor(row.value, sourceUrl) : undefined;
}

/**
 * Every stored cursor: the source's URL as normalized (no user, password, query or fragment: see
 * normalizeSourceUrl) and its last committed `tilEndringsId`; for the metrics
 * (docs/operations.md#metrics). A row that is not a change id is left out.
 */
export async function storedCursors(db: Database): Promise<{ source: string; cursor: number }[]> {
  const rows = await db.query<{ name: string; value: string }>(
    'select name, value from register_setting where starts_with(name, $1) order by name',
    [CURSOR_PREFIX],
  );
  return rows
    .filter((r) => /^[0-9]+$/.test(r.value) && Number.isSafeInteger(Number(r.value)))
    .map((r) => ({ source: r.name.slice(CURSOR_PREFIX.length), cursor: Number(r.value) }));
}

export interface SyncProgress {
  /** Pages fetched in this run. */
  readonly pages: number;
  /** Persons received and written in this run (a person changed twice counts twice). */
  readonly persons: number;
  /** The committed cursor: the last `tilEndringsId` written. */
  readonly cursor: number;
  /** The source's `sisteEndringsId` in its latest answer. */
  readonly sisteEndringsId: number | undefined;
  /** Whether the latest answer said there is nothing more for now. */
  readonly caughtUp: boolean;
}

export interface SyncSummary extends SyncProgress {
  readonly source: string;
  /** The cursor this run started from. */
  readonly startCursor: number;
  readonly seconds: number;
  /** Whether the run ended because its signal was aborted (SIGINT/SIGTERM). */
  readonly stopped: boolean;
  /** Field paths the register does not know, with how many persons carried them (names only). */
  readonly ignoredFields: ReadonlyMap<string, number>;
}

export interface SyncOptions {
  readonly db: Database;
  readonly source: FeedSource;
  readonly rules: PersonRules;
  /** Stops the run after the page in hand (and ends any wait at once). */
  readonly signal?: AbortSignal;
  /** Start from this change id instead of the stored cursor (0: from the start). */
  readonly fromId?: number;
  readonly onProgress?: (progress: SyncProgress) => void;
  /** A retryable failure (5xx, network, timeout), and how long before the next attempt. */
  readonly onRetry?: (error: Error, delayMs: number) => void;
  /** Polling and retry back-off: from `initialMs` doubling to `maxMs` (default 1 s to 60 s). */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** syncOnce: how many times a retryable failure is retried before giving up (default 5). */
  readonly retries?: number;
  /** Waits `ms` or until `signal` aborts (tests shorten it). */
  readonly sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
}

export function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Follows the feed until it is caught up (`tilEndringsId == sisteEndringsId`), then returns. */
export function syncOnce(options: SyncOptions): Promise<SyncSummary> {
  return new SyncRun(options).run(false);
}

/**
 * Follows the feed until `signal` aborts: pages while there are changes, then polls with back-off
 * (1 s doubling to 60 s, back to 1 s when changes arrive). Retryable failures are retried for ever,
 * with the same back-off; a refusal or a bad page ends the run with its error.
 */
export function follow(options: SyncOptions): Promise<SyncSummary> {
  return new SyncRun(options).run(true);
}

class SyncRun {
  private readonly writer: PersonWriter;
  private readonly name: string;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly sleep: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  private readonly ignored = new Map<string, number>();
  /** The cursor row's value as this run last saw or wrote it (undefined: no row). */
  private stored: string | undefined;
  private cursor = 0;
  private pages = 0;
  private persons = 0;
  private siste: number | undefined;
  private caughtUp = false;

  constructor(private readonly o: SyncOptions) {
    this.writer = new PersonWriter(o.db);
    this.name = cursorName(o.source.url);
    this.initialMs = o.backoff?.initialMs ?? 1000;
    this.maxMs = o.backoff?.maxMs ?? 60_000;
    this.sleep = o.sleep ?? abortableSleep;
  }

  private get aborted(): boolean {
    return this.o.signal?.aborted ?? false;
  }

  async run(keepFollowing: boolean): Promise<SyncSummary> {
    const started = performance.now();
    const [row] = await this.o.db.query<{ value: string }>(
      'select value from register_setting where name = $1',
      [this.name],
    );
    this.stored = row?.value;
    const storedCursor = row ? parseCursor(row.value, this.o.source.url) : 0;
    this.cursor = this.o.fromId ?? storedCursor;
    const startCursor = this.cursor;

    let idleMs = this.initialMs;
    while (!this.aborted) {
      const page = await this.fetchWithRetry(keepFollowing);
      if (!page) break; // aborted while waiting to retry
      await this.apply(page);
      if (page.list.length > 0) idleMs = this.initialMs;
      if (!this.caughtUp) continue;
      if (!keepFollowing) break;
      await this.sleep(idleMs, this.o.signal);
      idleMs = Math.min(idleMs * 2, this.maxMs);
    }
    return {
      source: this.o.source.url,
      startCursor,
      pages: this.pages,
      persons: this.persons,
      cursor: this.cursor,
      sisteEndringsId: this.siste,
      caughtUp: this.caughtUp,
      stopped: this.aborted,
      seconds: (performance.now() - started) / 1000,
      ignoredFields: this.ignored,
    };
  }

  private async fetchWithRetry(forever: boolean): Promise<FeedPage | undefined> {
    const retries = this.o.retries ?? 5;
    let delayMs = this.initialMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.o.source.fetchPage(this.cursor);
      } catch (err) {
        if (!isRetryable(err) || (!forever && attempt > retries)) throw err;
        this.o.onRetry?.(err as Error, delayMs);
        await this.sleep(delayMs, this.o.signal);
        if (this.aborted) return undefined;
        delayMs = Math.min(delayMs * 2, this.maxMs);
      }
    }
  }

  /** Checks the page, then writes its persons and the new cursor in one transaction. */
  private async apply(page: FeedPage): Promise<void> {
    const asked = this.cursor;
    const n = page.list.length;
    if (n > 0 && page.tilEndringsId <= asked) {
      throw new SourceAnswerError(
        `the source answered persons up to change id ${page.tilEndringsId} when asked for those after ${asked}`,
      );
    }
    if (n === 0 && page.tilEndringsId < asked) {
      throw new SourceAnswerError(
        `the source's latest change id (${page.tilEndringsId}) is below this register's sync cursor for it (${asked}): ` +
          'it is not the register this one was synced from, or it was reset; run with --restart to follow it from the start',
      );
    }

    // Checked whole before anything is written: a bad person stops the run with nothing of its page.
    // null: removed at the source (docs/change-feed.md#removed-persons), removed here too.
    const byIdentifier = new Map<string, Person | null>();
    for (const [i, item] of page.list.entries()) {
      const removed = removedIdentifier(item);
      if (removed !== undefined) {
        const check = checkPersonIdentifier(removed, this.o.rules);
        if (!check.valid)
          throw new SyncDataError(
            `the source's page after change id ${asked} (up to ${page.tilEndringsId}): person ${i + 1} of ${n} (list[${i}]) ` +
              `is not valid here: ${IDENTIFIER_PROBLEM_TEXT[check.problem]} at /personidentifikator; nothing of this page was written`,
          );
        byIdentifier.delete(removed);
        byIdentifier.set(removed, null);
        continue;
      }
      const parsed = parsePerson(item, this.o.rules);
      if (!parsed.ok) {
        const first = parsed.problems[0]!;
        const where = first.pointer ? ` at ${first.pointer}` : '';
        const more = parsed.problems.length > 1 ? ` (and ${parsed.problems.length - 1} more problem(s))` : '';
        throw new SyncDataError(
          `the source's page after change id ${asked} (up to ${page.tilEndringsId}): person ${i + 1} of ${n} (list[${i}]) ` +
            `is not valid here: ${first.detail}${where}${more}; nothing of this page was written`,
        );
      }
      for (const field of parsed.ignoredFields) this.ignored.set(field, (this.ignored.get(field) ?? 0) + 1);
      // Each person appears once per page; should one appear twice, its later entry is the newer.
      byIdentifier.delete(parsed.value.personidentifikator);
      byIdentifier.set(parsed.value.personidentifikator, parsed.value);
    }

    const next = String(page.tilEndringsId);
    // An empty page that moves nothing writes nothing: polling never takes the write lock.
    if (n > 0 || next !== this.stored) {
      await this.writer.session(async (session) => {
        const [row] = await session.tx.query<{ value: string }>(
          'select value from register_setting where name = $1 for update',
          [this.name],
        );
        if (row?.value !== this.stored) {
          throw new SyncConflictError(
            `the sync cursor for ${this.o.source.url} changed under this process: is another krr sync following it into the same store?`,
          );
        }
        const persons = [...byIdentifier.values()].filter((p): p is Person => p !== null);
        const removals = [...byIdentifier].filter(([, p]) => p === null).map(([id]) => id);
        if (persons.length > 0) await session.write(persons);
        if (removals.length > 0) await session.remove(removals);
        await session.tx.query(
          'insert into register_setting (name, value) values ($1, $2) on conflict (name) do update set value = excluded.value',
          [this.name, next],
        );
      });
      this.stored = next;
    }

    this.cursor = page.tilEndringsId;
    this.pages++;
    this.persons += n;
    this.siste = page.sisteEndringsId;
    this.caughtUp = n === 0 || page.tilEndringsId >= page.sisteEndringsId;
    this.o.onProgress?.({
      pages: this.pages,
      persons: this.persons,
      cursor: this.cursor,
      sisteEndringsId: this.siste,
      caughtUp: this.caughtUp,
    });
  }
}

/**
 * The identifier of a feed entry that says the person was removed (`status: IKKE_REGISTRERT`, as
 * krr's feed shows a removal, docs/change-feed.md#removed-persons), or undefined for any other entry.
 */
function removedIdentifier(item: unknown): string | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  const { status, personidentifikator } = item as { status?: unknown; personidentifikator?: unknown };
  return status === 'IKKE_REGISTRERT' && typeof personidentifikator === 'string'
    ? personidentifikator
    : undefined;
}

// The register's clock, kept in the store and shared by every krr process on it
// (docs/testdata.md#the-clock). `now()` reads memory only: it is on every lookup's path.
//
// On PostgreSQL a change is a row update and a NOTIFY carrying the new reading, in one
// transaction; every process LISTENs and takes the reading from the notification itself, without
// a query, as soon as the change commits: before the process that made it has answered its caller,
// so a request that caller sends next to another process finds the new clock there. A poll every
// second covers a listening connection that was down (it reads the row again on reconnecting,
// too). The process that makes a change takes it at once. The embedded store belongs to one process, so
// memory is all there is to keep in step; its row only carries the clock across restarts.

import type { Database, Queryable } from '../store/database.js';
import { applyClockChange, nowOf, REAL_TIME } from '../time/clock.js';
import type { AdjustableClock, ClockChange, ClockReading, ClockView } from '../time/clock.js';
import type { EpochMs } from '../time/oslo-time.js';

// The channel is the schema's: two registers in one database (a schema each) keep clocks of their own.
const CHANNEL_PREFIX = 'krr_register_clock:';
/** The poll on PostgreSQL, behind LISTEN/NOTIFY: a missed notification is picked up within this. */
export const CLOCK_POLL_MS = 1000;

interface ClockRow {
  frozen_at: number | null;
  offset_ms: number;
  version: number;
}

async function readRow(q: Queryable): Promise<ClockReading> {
  const [row] = await q.query<ClockRow>(
    'select frozen_at, offset_ms, version from register_clock where singleton',
  );
  return row ? { frozenAt: row.frozen_at, offsetMs: Number(row.offset_ms), version: row.version } : REAL_TIME;
}

export interface RegisterClockOptions {
  /** `--clock`: the store's clock is frozen at this instant when the process starts. */
  readonly initial?: EpochMs;
  /** The system clock (tests move it). */
  readonly realNow?: () => EpochMs;
  readonly pollMs?: number;
  /** false: read once, do not follow the store (a command that only needs the clock's now). */
  readonly follow?: boolean;
}

export class RegisterClock implements AdjustableClock {
  private reading: ClockReading = REAL_TIME;
  private timer: NodeJS.Timeout | undefined;
  private stopListening: (() => Promise<void>) | undefined;
  private refreshing: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private readonly realNow: () => EpochMs;
  private channel = CHANNEL_PREFIX;

  private constructor(
    private readonly db: Database,
    realNow: (() => EpochMs) | undefined,
  ) {
    this.realNow = realNow ?? Date.now;
  }

  /** Reads the store's clock (after setting it to `initial`), and on PostgreSQL follows it. */
  static async open(db: Database, options: RegisterClockOptions = {}): Promise<RegisterClock> {
    const clock = new RegisterClock(db, options.realNow);
    if (db.kind === 'postgres') {
      const [row] = await db.query<{ schema: string }>('select current_schema() as schema');
      // At most 63 bytes, PostgreSQL's limit for a channel's name.
      clock.channel = `${CHANNEL_PREFIX}${row?.schema ?? ''}`.slice(0, 63);
    }
    if (options.initial !== undefined) await clock.change({ kind: 'freeze', at: options.initial });
    else clock.adopt(await readRow(db));
    if (db.kind === 'postgres' && db.listen && options.follow !== false) {
      try {
        clock.stopListening = await db.listen(clock.channel, (payload) => clock.notified(payload));
      } catch {
        // Not listening: the poll alone keeps the clock in step, a second late at most.
      }
      clock.timer = setInterval(() => clock.refreshInBackground(), options.pollMs ?? CLOCK_POLL_MS);
      clock.timer.unref();
    }
    return clock;
  }

  now(): EpochMs {
    return nowOf(this.reading, this.realNow());
  }

  /**
   * Grows with every change of the clock (any process's): a reader that remembers it learns that
   * the clock was moved (the jobs run again at once, docs/jobs.md#schedule).
   */
  version(): number {
    return this.reading.version;
  }

  view(): ClockView {
    return { now: this.now(), frozen: this.reading.frozenAt !== null };
  }

  /**
   * Changes the clock in the store and here at once. Under a row lock, so two processes changing
   * it at the same time apply their changes one after the other (a shift moves the clock the
   * other one set).
   */
  async change(change: ClockChange): Promise<ClockView> {
    const next = await this.db.transaction(async (tx) => {
      const current = await tx.query<ClockRow>(
        'select frozen_at, offset_ms, version from register_clock where singleton for update',
      );
      const base = current[0]
        ? {
            frozenAt: current[0].frozen_at,
            offsetMs: Number(current[0].offset_ms),
            version: current[0].version,
          }
        : REAL_TIME;
      const applied = applyClockChange(base, change, this.realNow());
      const [row] = await tx.query<ClockRow>(
        `insert into register_clock (singleton, frozen_at, offset_ms, version) values (true, $1, $2, 1)
         on conflict (singleton) do update
           set frozen_at = excluded.frozen_at, offset_ms = excluded.offset_ms,
               version = register_clock.version + 1
         returning frozen_at, offset_ms, version`,
        [applied.frozenAt, applied.offsetMs],
      );
      const reading = { frozenAt: row!.frozen_at, offsetMs: Number(row!.offset_ms), version: row!.version };
      // Sent when the transaction commits.
      if (this.db.kind === 'postgres')
        await tx.query('select pg_notify($1, $2)', [this.channel, JSON.stringify(reading)]);
      return reading;
    });
    this.adopt(next);
    return this.view();
  }

  /** A notification's reading, taken at once; without a usable one, the row is read. */
  private notified(payload: string | undefined): void {
    const reading = payload ? readingOf(payload) : undefined;
    if (reading) this.adopt(reading);
    else this.refreshInBackground();
  }

  /** Reads the store's clock now (tests; a process that must be sure). */
  async refresh(): Promise<void> {
    this.adopt(await readRow(this.db));
  }

  /**
   * One read at a time; a notification that arrives during a read (which may have begun before
   * the change committed) gets a read of its own after it.
   */
  private refreshInBackground(): void {
    if (this.closed) return;
    if (this.refreshing) {
      this.again = true;
      return;
    }
    this.refreshing = this.refresh()
      .catch(() => {
        // The store is away: the clock stays as it was; the next poll tries again.
      })
      .finally(() => {
        this.refreshing = undefined;
        if (this.again) {
          this.again = false;
          this.refreshInBackground();
        }
      });
  }

  /** Takes `reading` unless the one held is newer (a read that began before a change it missed). */
  private adopt(reading: ClockReading): void {
    if (reading.version >= this.reading.version) this.reading = reading;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.stopListening?.();
    await this.refreshing;
  }
}

/** The reading a notification carries, or undefined when it is not one. */
function readingOf(payload: string): ClockReading | undefined {
  try {
    const r = JSON.parse(payload) as Partial<ClockReading>;
    const frozenOk = r.frozenAt === null || Number.isSafeInteger(r.frozenAt);
    if (frozenOk && Number.isSafeInteger(r.offsetMs) && Number.isSafeInteger(r.version))
      return { frozenAt: r.frozenAt ?? null, offsetMs: r.offsetMs!, version: r.version! };
  } catch {
    // not a reading
  }
  return undefined;
}

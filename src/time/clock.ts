import { addDuration } from './duration.js';
import type { Duration } from './duration.js';
import type { EpochMs } from './oslo-time.js';

/** "Now" for the register's rules (the 18-month rule). Token expiry always uses the real clock. */
export interface Clock {
  now(): EpochMs;
}

export const systemClock: Clock = { now: () => Date.now() };

export function frozenClock(at: EpochMs): Clock {
  return { now: () => at };
}

/**
 * The register's clock as kept in the store (docs/testdata.md#the-clock): frozen at an instant, or
 * running at an offset from the system clock. `version` grows with every change, so that a reader
 * takes only readings newer than the one it has.
 */
export interface ClockReading {
  readonly frozenAt: EpochMs | null;
  readonly offsetMs: number;
  readonly version: number;
}

export const REAL_TIME: ClockReading = { frozenAt: null, offsetMs: 0, version: 0 };

/** What `PUT /testdata/klokke` asks for. */
export type ClockChange =
  | { readonly kind: 'freeze'; readonly at: EpochMs }
  | { readonly kind: 'shift'; readonly by: Duration }
  | { readonly kind: 'real' };

/** The clock's now under `reading`, with `realNow` the system clock's. */
export function nowOf(reading: ClockReading, realNow: EpochMs): EpochMs {
  return reading.frozenAt ?? realNow + reading.offsetMs;
}

/**
 * The reading after `change` (without its version): frozen at an instant; moved by a duration on
 * the Oslo calendar, staying frozen or running; or the system clock again. Instants are whole
 * milliseconds.
 */
export function applyClockChange(
  current: ClockReading,
  change: ClockChange,
  realNow: EpochMs,
): Omit<ClockReading, 'version'> {
  switch (change.kind) {
    case 'freeze':
      return { frozenAt: change.at, offsetMs: 0 };
    case 'real':
      return { frozenAt: null, offsetMs: 0 };
    case 'shift': {
      const moved = addDuration(nowOf(current, realNow), change.by);
      return current.frozenAt !== null
        ? { frozenAt: moved, offsetMs: 0 }
        : { frozenAt: null, offsetMs: moved - realNow };
    }
  }
}

/** What `GET /testdata/klokke` shows. */
export interface ClockView {
  readonly now: EpochMs;
  readonly frozen: boolean;
}

/**
 * A register clock that can be turned while krr runs (the test-data API): every reader of the
 * register's rules reads `now()`, which stays synchronous and cheap; `change` writes the new
 * reading to the store, where the other krr processes on it pick it up.
 */
export interface AdjustableClock extends Clock {
  view(): ClockView;
  change(change: ClockChange): Promise<ClockView>;
}

export function isAdjustable(clock: Clock): clock is AdjustableClock {
  return typeof (clock as Partial<AdjustableClock>).change === 'function';
}

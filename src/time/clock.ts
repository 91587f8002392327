import type { EpochMs } from './oslo-time.js';

/** "Now" for the register's rules (the 18-month rule). Token expiry always uses the real clock. */
export interface Clock {
  now(): EpochMs;
}

export const systemClock: Clock = { now: () => Date.now() };

export function frozenClock(at: EpochMs): Clock {
  return { now: () => at };
}

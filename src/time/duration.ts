// Signed ISO-8601 durations ("-P17M", "-P2Y3DT4H", "P18M") and adding one to an instant on the
// Europe/Oslo calendar (docs/testdata.md#relative-timestamps). Pure code.
//
// Years, months, weeks and days move the Oslo wall clock's date, the time of day kept; months
// count as the 18-month rule counts them (docs/freshness.md#the-boundary): the same day of the
// target month, clamped to its last day. Hours, minutes and seconds are then added as elapsed
// time. So `now - P18M` is exactly the freshness boundary at `now`, and a channel confirmed
// "-P18M" ago is fresh at that instant. (This is Temporal's ZonedDateTime.add with "constrain".)

import { daysInMonth, osloOffsetMinutes, osloWallTimeToInstant } from './oslo-time.js';
import type { EpochMs } from './oslo-time.js';

export interface Duration {
  readonly sign: 1 | -1;
  readonly years: number;
  readonly months: number;
  readonly weeks: number;
  readonly days: number;
  readonly hours: number;
  readonly minutes: number;
  readonly seconds: number;
}

const MS_PER_SECOND = 1000;
const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 86_400_000;
/** The largest instant a Date holds (ECMAScript: 8.64e15 ms either side of the epoch), less a day. */
const MAX_DATE_MS = 8.64e15 - MS_PER_DAY;

// Whole numbers only (the register keeps whole seconds), at most 6 digits each.
const DURATION =
  /^([+-])?P(?:(\d{1,6})Y)?(?:(\d{1,6})M)?(?:(\d{1,6})W)?(?:(\d{1,6})D)?(?:T(?:(\d{1,6})H)?(?:(\d{1,6})M)?(?:(\d{1,6})S)?)?$/;

/** Whether `text` is meant as a duration (it starts like one), whether or not it is a valid one. */
export function looksLikeDuration(text: string): boolean {
  return /^[+-]?P/.test(text);
}

/**
 * Parses a signed ISO-8601 duration: an optional sign, `P`, then years, months, weeks, days and,
 * after `T`, hours, minutes and seconds, each a whole number, at least one of them. Undefined for
 * anything else (fractions included).
 */
export function parseDuration(text: string): Duration | undefined {
  const m = DURATION.exec(text);
  if (!m) return undefined;
  const parts = m.slice(2, 9);
  if (parts.every((p) => p === undefined)) return undefined; // "P", "PT"
  if (text.endsWith('T')) return undefined; // "P1DT"
  const n = (i: number) => (parts[i] === undefined ? 0 : Number(parts[i]));
  return {
    sign: m[1] === '-' ? -1 : 1,
    years: n(0),
    months: n(1),
    weeks: n(2),
    days: n(3),
    hours: n(4),
    minutes: n(5),
    seconds: n(6),
  };
}

/** `at` moved by `d` on the Oslo calendar (see the head of this file); NaN beyond a Date's years. */
export function addDuration(at: EpochMs, d: Duration): EpochMs {
  let instant = at;
  const months = d.sign * (d.years * 12 + d.months);
  const days = d.sign * (d.weeks * 7 + d.days);
  if (months !== 0 || days !== 0) {
    const wall = at + osloOffsetMinutes(at) * MS_PER_MINUTE;
    const wallDay = Math.floor(wall / MS_PER_DAY);
    const timeOfDay = wall - wallDay * MS_PER_DAY;
    const date = new Date(wallDay * MS_PER_DAY);
    const monthIndex = date.getUTCFullYear() * 12 + date.getUTCMonth() + months;
    const year = Math.floor(monthIndex / 12);
    const month = monthIndex - year * 12;
    const day = Math.min(date.getUTCDate(), daysInMonth(year, month));
    const targetDay = Date.UTC(year, month, day) + days * MS_PER_DAY;
    // Beyond the years a Date can hold: no instant (callers refuse NaN).
    if (!Number.isFinite(targetDay) || Math.abs(targetDay) > MAX_DATE_MS) return Number.NaN;
    instant = osloWallTimeToInstant(targetDay + timeOfDay);
  }
  return instant + d.sign * (d.hours * MS_PER_HOUR + d.minutes * MS_PER_MINUTE + d.seconds * MS_PER_SECOND);
}

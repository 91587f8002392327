// The 18-month rule of eForvaltningsforskriften § 32, in one place (docs/freshness.md): when is a
// channel fresh, what is a person's varslingsstatus, and when does it flip. Every path that
// decides varslingsstatus (the bulk lookup, its cache, the feed, the person endpoint, the stored
// record) calls this module. Pure code: the Oslo wall clock comes from time/oslo-time.ts.
//
// Changing the period: FRESHNESS_MONTHS is the only number. The flip instant (freshnessEnd) is
// stored with every person; a register opened with another period than its records were rendered
// with renders them again (docs/freshness.md#changing-the-period).

import { daysInMonth, osloOffsetMinutes, osloWallTimeToInstant } from '../time/oslo-time.js';
import type { EpochMs } from '../time/oslo-time.js';

/** How long a confirmed channel stays fresh, in calendar months on the Oslo wall clock. */
export const FRESHNESS_MONTHS = 18;

const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 86_400_000;

export type Varslingsstatus = 'KAN_VARSLES' | 'KAN_IKKE_VARSLES';

/** What the rule reads of a person: set when the person is written (answer/answer.render.ts). */
export interface FreshnessFacts {
  readonly status: string;
  readonly reserved: boolean;
  /** The latest `_oppdatert` or `_sist_verifisert` of any channel (person/person.ts), or null. */
  readonly varslingBasis: EpochMs | null;
}

/**
 * The freshness boundary at `now` on the Oslo wall clock: now's local date and time,
 * FRESHNESS_MONTHS calendar months back, the day clamped to the target month's last day, read in
 * Oslo again. A channel confirmed at or after the boundary is fresh.
 */
export function freshnessBoundary(now: EpochMs): EpochMs {
  return monthsBefore(now, FRESHNESS_MONTHS);
}

/**
 * `now` on the Oslo wall clock, `months` calendar months back, by the boundary's arithmetic
 * (docs/freshness.md#the-boundary): the same time of day, the day clamped to the target month's
 * last day, read in Oslo again. Other rules counted in months (the reminder's, docs/jobs.md#reminders)
 * count with this, so that they agree with the 18-month rule.
 */
export function monthsBefore(now: EpochMs, months: number): EpochMs {
  const wall = now + osloOffsetMinutes(now) * MS_PER_MINUTE;
  const wallDay = Math.floor(wall / MS_PER_DAY);
  // The same time of day (to the millisecond) on the target date.
  return osloWallTimeToInstant(targetDate(wallDay, months) + (wall - wallDay * MS_PER_DAY));
}

// The last target date asked for: searchFlip asks for the boundary hour after hour, mostly on the
// same few dates.
let lastWallDay = Number.NaN;
let lastMonths = Number.NaN;
let lastTargetDate = 0;

/** The start (as a UTC wall time) of the date `months` (clamped) before Oslo date `wallDay`. */
function targetDate(wallDay: number, months: number): number {
  if (wallDay === lastWallDay && months === lastMonths) return lastTargetDate;
  const date = new Date(wallDay * MS_PER_DAY);
  const monthIndex = date.getUTCFullYear() * 12 + date.getUTCMonth() - months;
  const year = Math.floor(monthIndex / 12);
  const month = monthIndex - year * 12;
  const day = Math.min(date.getUTCDate(), daysInMonth(year, month));
  lastTargetDate = Date.UTC(year, month, day);
  lastWallDay = wallDay;
  lastMonths = months;
  return lastTargetDate;
}

/**
 * The rule itself (docs/freshness.md#varslingsstatus): not AKTIV or reserved → KAN_IKKE_VARSLES;
 * a channel confirmed at or after the boundary → KAN_VARSLES; otherwise KAN_IKKE_VARSLES.
 */
export function varslingsstatus(p: FreshnessFacts, boundary: EpochMs): Varslingsstatus {
  return canBeNotified(p) && p.varslingBasis >= boundary ? 'KAN_VARSLES' : 'KAN_IKKE_VARSLES';
}

/** Whether the clock can make the person KAN_VARSLES at all (AKTIV, not reserved, a channel). */
export function canBeNotified(p: FreshnessFacts): p is FreshnessFacts & { readonly varslingBasis: EpochMs } {
  return p.status === 'AKTIV' && !p.reserved && p.varslingBasis !== null;
}

/** The instant the person's varslingsstatus stops being KAN_VARSLES, or null when it never is. */
export function flipOf(p: FreshnessFacts): EpochMs | null {
  return canBeNotified(p) ? freshnessEnd(p.varslingBasis) : null;
}

/**
 * The rule on a stored record, whose flip instant (flipOf) was worked out when it was written:
 * before the flip it is KAN_VARSLES without asking the boundary; after it the boundary decides (it
 * can step back for a few hours at a clamped month end, see freshnessEnd).
 */
export function isNotifiable(
  r: { readonly dependsOnClock: boolean; readonly flip: EpochMs; readonly basis: EpochMs },
  now: EpochMs,
  boundary: EpochMs,
): boolean {
  return r.dependsOnClock && (now < r.flip || r.basis >= boundary);
}

/** Is there a daylight-saving transition within a day either side of `t`? */
function nearTransition(t: EpochMs): boolean {
  return osloOffsetMinutes(t - MS_PER_DAY) !== osloOffsetMinutes(t + MS_PER_DAY);
}

/**
 * When a channel confirmed at `basis` stops being fresh, the inverse of the boundary: worked out
 * when a person is written, so that a reader (and the lookup cache) knows without any date
 * arithmetic that the person is KAN_VARSLES for every `now` before that instant.
 *
 * The first instant `now` at which `freshnessBoundary(now) > basis`: before it, a channel
 * confirmed at `basis` is fresh for every `now`. (After it, it is stale, except for a few hours at
 * most: the boundary steps back at an Oslo midnight when the day of the month clamps, e.g. on
 * 29, 30 and 31 August towards 28 February, so readers past the flip still ask the boundary.)
 *
 * Closed form: the Oslo wall time of `basis`, FRESHNESS_MONTHS months on; when that month lacks the day, the
 * first midnight of the month after. Near a daylight-saving transition (at either end) the closed
 * form is not trusted: the boundary function itself is searched.
 */
export function freshnessEnd(basis: EpochMs): EpochMs {
  const wall = basis + osloOffsetMinutes(basis) * MS_PER_MINUTE;
  const d = new Date(wall);
  const monthIndex = d.getUTCFullYear() * 12 + d.getUTCMonth() + FRESHNESS_MONTHS;
  const year = Math.floor(monthIndex / 12);
  const month = monthIndex - year * 12;
  const day = d.getUTCDate();
  const timeOfDay = wall - Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), day);
  const fits = day <= daysInMonth(year, month);
  const targetWall = fits ? Date.UTC(year, month, day) + timeOfDay : Date.UTC(year, month + 1, 1);
  // Far from a daylight-saving change at both ends, the wall time has one offset: no search.
  const offset = osloOffsetMinutes(targetWall - MS_PER_DAY);
  if (offset === osloOffsetMinutes(targetWall + MS_PER_DAY) && !nearTransition(basis)) {
    const instant = targetWall - offset * MS_PER_MINUTE;
    return fits ? instant + 1 : instant;
  }
  const candidate = osloWallTimeToInstant(targetWall) + (fits ? 1 : 0);
  return searchFlip(basis, candidate - 2 * MS_PER_DAY);
}

/**
 * The first instant at or after `from` at which the boundary passes `basis`, by asking the
 * boundary function. Within one UTC hour the boundary is monotone (Oslo's date and offset change
 * only on whole UTC hours), so each hour is checked at its end and the crossing hour is bisected.
 * `from` must be early enough that the boundary has not passed `basis` before it.
 */
export function searchFlip(basis: EpochMs, from: EpochMs): EpochMs {
  let hour = Math.floor(from / MS_PER_HOUR) * MS_PER_HOUR;
  for (let i = 0; i < 24 * 60; i++, hour += MS_PER_HOUR) {
    if (freshnessBoundary(hour + MS_PER_HOUR - 1) <= basis) continue;
    if (freshnessBoundary(hour) > basis) return hour;
    let lo = hour; // boundary(lo) <= basis
    let hi = hour + MS_PER_HOUR - 1; // boundary(hi) > basis
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (freshnessBoundary(mid) > basis) hi = mid;
      else lo = mid;
    }
    return hi;
  }
  throw new Error('the freshness boundary did not pass the basis within 60 days');
}

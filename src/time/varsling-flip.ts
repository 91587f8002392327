// The inverse of the 18-month boundary: when does a channel confirmed at `basis` stop being fresh?
// Rendered at write time, so that a reader (and the lookup cache) knows without any date arithmetic
// that a person's varslingsstatus is KAN_VARSLES for every `now` before that instant.

import { daysInMonth, eighteenMonthBoundary, osloOffsetMinutes, osloWallTimeToInstant } from './oslo-time.js';
import type { EpochMs } from './oslo-time.js';

const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 86_400_000;

/** Is there a daylight-saving transition within a day either side of `t`? */
function nearTransition(t: EpochMs): boolean {
  return osloOffsetMinutes(t - MS_PER_DAY) !== osloOffsetMinutes(t + MS_PER_DAY);
}

/**
 * The first instant `now` at which `eighteenMonthBoundary(now) > basis`: before it, a channel
 * confirmed at `basis` is fresh for every `now`. (After it, it is stale, except for a few hours at
 * most: the boundary steps back at an Oslo midnight when the day of the month clamps, e.g. on
 * 29, 30 and 31 August towards 28 February, so readers past the flip still ask the boundary.)
 *
 * Closed form: the Oslo wall time of `basis`, 18 months on; when that month lacks the day, the
 * first midnight of the month after. Near a daylight-saving transition (at either end) the closed
 * form is not trusted: the boundary function itself is searched.
 */
export function varslingFlip(basis: EpochMs): EpochMs {
  const wall = basis + osloOffsetMinutes(basis) * MS_PER_MINUTE;
  const d = new Date(wall);
  const monthIndex = d.getUTCFullYear() * 12 + d.getUTCMonth() + 18;
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
    if (eighteenMonthBoundary(hour + MS_PER_HOUR - 1) <= basis) continue;
    if (eighteenMonthBoundary(hour) > basis) return hour;
    let lo = hour; // boundary(lo) <= basis
    let hi = hour + MS_PER_HOUR - 1; // boundary(hi) > basis
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (eighteenMonthBoundary(mid) > basis) hi = mid;
      else lo = mid;
    }
    return hi;
  }
  throw new Error('the 18-month boundary did not pass the basis within 60 days');
}

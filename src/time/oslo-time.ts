// Instants, the Europe/Oslo wall clock, and the wire's timestamp format (contract section 2,
// "Timestamps"). Pure code: the time-zone rules come from the platform's Intl (ICU tz database).

/** Milliseconds since the Unix epoch. */
export type EpochMs = number;

const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 86_400_000;

const osloParts = new Intl.DateTimeFormat('en-US', {
  timeZone: 'Europe/Oslo',
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
});

// Oslo's offset changes only on whole UTC hours, and on at most two days a year. One Intl call
// per UTC day answers most instants (the offsets at both ends of the day agree); only transition
// days are resolved hour by hour. The caps keep a long-lived server bounded.
const dayCache = new Map<number, number>(); // UTC day -> offset, or NaN for a transition day
const hourCache = new Map<number, number>();
const CACHE_LIMIT = 100_000;

function offsetByIntl(at: EpochMs): number {
  const p: Record<string, number> = {};
  for (const part of osloParts.formatToParts(new Date(at))) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return Math.round((wall - at) / MS_PER_MINUTE);
}

function remember(cache: Map<number, number>, key: number, value: number): number {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, value);
  return value;
}

/** Europe/Oslo's offset from UTC at `ms`, in minutes (60 or 120 since 1895). */
export function osloOffsetMinutes(ms: EpochMs): number {
  const day = Math.floor(ms / MS_PER_DAY);
  let offset = dayCache.get(day);
  if (offset === undefined) {
    const start = offsetByIntl(day * MS_PER_DAY);
    const end = offsetByIntl(day * MS_PER_DAY + MS_PER_DAY - MS_PER_HOUR);
    offset = remember(dayCache, day, start === end ? start : Number.NaN);
  }
  if (!Number.isNaN(offset)) return offset;
  const hour = Math.floor(ms / MS_PER_HOUR);
  return hourCache.get(hour) ?? remember(hourCache, hour, offsetByIntl(hour * MS_PER_HOUR));
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * `YYYY-MM-DDTHH:mm:ss±HH` in Oslo local time, no fractions, hours-only offset
 * (`2017-11-07T09:48:38+01`).
 */
export function formatOslo(ms: EpochMs): string {
  const offset = osloOffsetMinutes(ms);
  const d = new Date(Math.floor(ms / 1000) * 1000 + offset * MS_PER_MINUTE);
  const sign = offset < 0 ? '-' : '+';
  const offsetHours = Math.trunc(Math.abs(offset) / 60);
  return (
    `${String(d.getUTCFullYear()).padStart(4, '0')}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}` +
    `T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}${sign}${pad2(offsetHours)}`
  );
}

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)$/;

function daysInMonth(year: number, monthIndex: number): number {
  return new Date(Date.UTC(year, monthIndex + 1, 0)).getUTCDate();
}

/**
 * Parses an ISO-8601 date-time that carries an offset or `Z` (also our own `+HH` output).
 * Fractions of a second are dropped: the register keeps whole seconds, as it renders them.
 * Returns undefined for anything else, including local times without an offset.
 */
export function parseInstant(text: string): EpochMs | undefined {
  const m = ISO_DATE_TIME.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (year < 1900 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month - 1))
    return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  const zone = m[8]!;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 18 || om > 59) return undefined;
    offsetMinutes = sign * (oh * 60 + om);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * MS_PER_MINUTE;
}

/**
 * The instant at which Oslo's wall clock shows `wall` (a wall time encoded as if it were UTC).
 * Ambiguous times (the autumn hour that happens twice) take the earlier instant; times that do not
 * exist (the spring gap) move forward by the gap. This is Temporal's "compatible" disambiguation.
 */
export function osloWallTimeToInstant(wall: EpochMs): EpochMs {
  const before = osloOffsetMinutes(wall - MS_PER_DAY);
  const after = osloOffsetMinutes(wall + MS_PER_DAY);
  const candidates = [...new Set([before, after])].sort((a, b) => b - a); // larger offset = earlier instant
  for (const offset of candidates) {
    const instant = wall - offset * MS_PER_MINUTE;
    if (osloOffsetMinutes(instant) === offset) return instant;
  }
  return wall - before * MS_PER_MINUTE;
}

/**
 * The 18-month boundary of eForvaltningsforskriften § 32 on the Oslo wall clock: now's local date
 * and time, 18 calendar months back, the day clamped to the target month's last day, read in Oslo
 * again. A channel confirmed at or after the boundary is fresh.
 */
export function eighteenMonthBoundary(now: EpochMs): EpochMs {
  const wall = new Date(now + osloOffsetMinutes(now) * MS_PER_MINUTE);
  const monthIndex = wall.getUTCFullYear() * 12 + wall.getUTCMonth() - 18;
  const year = Math.floor(monthIndex / 12);
  const month = monthIndex - year * 12;
  const day = Math.min(wall.getUTCDate(), daysInMonth(year, month));
  const targetWall = Date.UTC(
    year,
    month,
    day,
    wall.getUTCHours(),
    wall.getUTCMinutes(),
    wall.getUTCSeconds(),
    wall.getUTCMilliseconds(),
  );
  return osloWallTimeToInstant(targetWall);
}

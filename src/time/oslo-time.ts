// Instants, the Europe/Oslo wall clock, and the wire's timestamp format (docs/lookup.md#timestamps).
// Pure code: the time-zone rules come from the platform's Intl (ICU tz database).

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

function offsetByIntl(at: EpochMs): number {
  const p: Record<string, number> = {};
  for (const part of osloParts.formatToParts(new Date(at))) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  const wall = Date.UTC(p.year!, p.month! - 1, p.day, p.hour, p.minute, p.second);
  return Math.round((wall - at) / MS_PER_MINUTE);
}

// Oslo's offset per UTC day, asked of Intl once and kept: an import formats millions of
// timestamps. Oslo's offset changes only on whole UTC hours. For the UTC days of 1900..2199 the
// offsets are in an Int16Array, filled CHUNK_DAYS days at a time: when the offsets at the chunk's
// first and last hours agree, the whole chunk has that offset (two changes within CHUNK_DAYS would
// cancel out unseen; the tz database has none closer than 34 days, which oslo-time.property.test.ts checks);
// otherwise each of its days is asked at its first and last hour. A day whose ends differ is a
// transition day, resolved per UTC hour. Outside the table, Maps do the same per day; their caps
// keep a long-lived server bounded.
const TABLE_FIRST_DAY = Date.UTC(1900, 0, 1) / MS_PER_DAY;
const TABLE_DAYS = Date.UTC(2200, 0, 1) / MS_PER_DAY - TABLE_FIRST_DAY;
const CHUNK_DAYS = 8;
const UNKNOWN = -32768;
const TRANSITION_DAY = 32767;
const dayOffsets = new Int16Array(TABLE_DAYS).fill(UNKNOWN);
const dayCache = new Map<number, number>(); // UTC day outside the table -> offset or TRANSITION_DAY
const hourCache = new Map<number, number>(); // UTC hour of a transition day -> offset
const CACHE_LIMIT = 100_000;

function remember(cache: Map<number, number>, key: number, value: number): number {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, value);
  return value;
}

/** The offset all through UTC day `day`, or TRANSITION_DAY when it changes that day. */
function dayOffsetByIntl(day: number): number {
  const start = offsetByIntl(day * MS_PER_DAY);
  const end = offsetByIntl(day * MS_PER_DAY + MS_PER_DAY - MS_PER_HOUR);
  return start === end ? start : TRANSITION_DAY;
}

function fillChunk(index: number): void {
  const first = index - (index % CHUNK_DAYS);
  const last = Math.min(first + CHUNK_DAYS, TABLE_DAYS) - 1;
  const start = offsetByIntl((TABLE_FIRST_DAY + first) * MS_PER_DAY);
  const end = offsetByIntl((TABLE_FIRST_DAY + last) * MS_PER_DAY + MS_PER_DAY - MS_PER_HOUR);
  if (start === end) dayOffsets.fill(start, first, last + 1);
  else for (let i = first; i <= last; i++) dayOffsets[i] = dayOffsetByIntl(TABLE_FIRST_DAY + i);
}

/** Europe/Oslo's offset from UTC at `ms`, in minutes (60 or 120 since 1895). */
export function osloOffsetMinutes(ms: EpochMs): number {
  const day = Math.floor(ms / MS_PER_DAY);
  const index = day - TABLE_FIRST_DAY;
  let offset: number;
  if (index >= 0 && index < TABLE_DAYS) {
    offset = dayOffsets[index]!;
    if (offset === UNKNOWN) {
      fillChunk(index);
      offset = dayOffsets[index]!;
    }
  } else {
    offset = dayCache.get(day) ?? remember(dayCache, day, dayOffsetByIntl(day));
  }
  if (offset !== TRANSITION_DAY) return offset;
  const hour = Math.floor(ms / MS_PER_HOUR);
  return hourCache.get(hour) ?? remember(hourCache, hour, offsetByIntl(hour * MS_PER_HOUR));
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => pad2(i));
// Local date -> `YYYY-MM-DDT`: an import formats millions of timestamps spread over a few thousand
// days, so the date part is made once per day (bounded like the offset caches).
const datePrefixCache = new Map<number, string>();

// Texts that parseInstant read in exactly the form formatOslo writes, with Oslo's real offset at
// that instant: formatting that instant gives the same text again (see rememberCanonical), so an
// import, which parses each timestamp of a line and then renders it, need not build it twice.
// Direct-mapped on the instant's second: a clash only costs the general path.
const CANONICAL_SLOTS = 256;
const canonicalAt = new Float64Array(CANONICAL_SLOTS).fill(Number.NaN);
const canonicalText: string[] = new Array<string>(CANONICAL_SLOTS).fill('');

function canonicalSlot(ms: EpochMs): number {
  return (ms / 1000) & (CANONICAL_SLOTS - 1);
}

/**
 * `YYYY-MM-DDTHH:mm:ss±HH` in Oslo local time, no fractions, hours-only offset
 * (`2017-11-07T09:48:38+01`).
 */
export function formatOslo(ms: EpochMs): string {
  const slot = canonicalSlot(ms);
  // NaN (the empty slot) equals nothing.
  if (canonicalAt[slot] === ms) return canonicalText[slot]!;
  return formatOsloComputed(ms);
}

/** formatOslo worked out from the instant, without the remembered texts (exported for tests). */
export function formatOsloComputed(ms: EpochMs): string {
  const offset = osloOffsetMinutes(ms);
  const local = Math.floor(ms / 1000) * 1000 + offset * MS_PER_MINUTE;
  const day = Math.floor(local / MS_PER_DAY);
  let date = datePrefixCache.get(day);
  if (date === undefined) {
    const d = new Date(day * MS_PER_DAY);
    date = `${String(d.getUTCFullYear()).padStart(4, '0')}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T`;
    if (datePrefixCache.size >= CACHE_LIMIT) datePrefixCache.clear();
    datePrefixCache.set(day, date);
  }
  const seconds = (local - day * MS_PER_DAY) / 1000;
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds - hours * 3600) / 60);
  const offsetHours = Math.trunc(Math.abs(offset) / 60);
  return (
    date +
    TWO_DIGITS[hours]! +
    ':' +
    TWO_DIGITS[minutes]! +
    ':' +
    TWO_DIGITS[seconds - hours * 3600 - minutes * 60]! +
    (offset < 0 ? '-' : '+') +
    pad2(offsetHours)
  );
}

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** Days in month `monthIndex` (0-11) of `year` (proleptic Gregorian). */
export function daysInMonth(year: number, monthIndex: number): number {
  if (monthIndex === 1 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return DAYS_IN_MONTH[monthIndex]!;
}

function twoDigits(text: string, at: number): number {
  const a = text.charCodeAt(at) - 48;
  const b = text.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : Number.NaN;
}

/**
 * Our own output form, `YYYY-MM-DDTHH:mm:ss+HH` (what exports and feeds carry), without a regular
 * expression: an import reads millions of them. Undefined for anything else (the general parser decides).
 */
function parseOwnFormat(text: string): EpochMs | undefined {
  const sign = text.charCodeAt(19);
  if (
    text.charCodeAt(4) !== 45 || // -
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 84 || // T
    text.charCodeAt(13) !== 58 || // :
    text.charCodeAt(16) !== 58 ||
    (sign !== 43 && sign !== 45) // + or -
  )
    return undefined;
  const year = twoDigits(text, 0) * 100 + twoDigits(text, 2);
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  const second = twoDigits(text, 17);
  const offsetHours = twoDigits(text, 20);
  // NaN fails every comparison below, so a non-digit anywhere falls through to the general parser.
  if (!(year >= 1900 && month >= 1 && month <= 12 && day >= 1 && hour <= 23 && minute <= 59))
    return undefined;
  if (!(second <= 59 && offsetHours <= 18 && day <= daysInMonth(year, month - 1))) return undefined;
  const offsetMinutes = (sign === 45 ? -60 : 60) * offsetHours;
  const ms =
    daysFromCivil(year, month, day) * MS_PER_DAY +
    hour * MS_PER_HOUR +
    minute * MS_PER_MINUTE +
    second * 1000 -
    offsetMinutes * MS_PER_MINUTE;
  if (sign === 43 && offsetMinutes === osloOffsetMinutes(ms)) rememberCanonical(ms, text);
  return ms;
}

/**
 * Days from 1970-01-01 to `year`-`month`-`day` (month 1-12, a valid date, year from 1900), as
 * Date.UTC counts them: the proleptic Gregorian calendar in whole 400-year eras (H. Hinnant's
 * days_from_civil). Plain arithmetic is cheaper than Date.UTC, and an import reads millions.
 */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

/**
 * Remembers that formatOslo(ms) is `text`. Only for a text parseOwnFormat accepted (four-digit
 * year, valid month, day, hour, minute and second, `+HH`) whose offset is Oslo's own at `ms`:
 * formatOslo adds that same offset to `ms` and so writes back exactly those fields, with the
 * offset as `+HH` (oslo-time.property.test.ts checks this against the computed form).
 */
function rememberCanonical(ms: EpochMs, text: string): void {
  const slot = canonicalSlot(ms);
  canonicalAt[slot] = ms;
  canonicalText[slot] = text;
}

/**
 * Parses an ISO-8601 date-time that carries an offset or `Z` (also our own `+HH` output).
 * Fractions of a second are dropped: the register keeps whole seconds, as it renders them.
 * Returns undefined for anything else, including local times without an offset.
 */
export function parseInstant(text: string): EpochMs | undefined {
  if (text.length === 22) {
    const fast = parseOwnFormat(text);
    if (fast !== undefined) return fast;
  }
  return parseInstantByPattern(text);
}

/** parseInstant by the regular expression alone, for every accepted form (exported for tests). */
export function parseInstantByPattern(text: string): EpochMs | undefined {
  const m = ISO_DATE_TIME.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (year < 1900 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month - 1))
    return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  const zone = m[8]!;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    // +HH, +HHMM or +HH:MM (the pattern allows nothing else)
    const oh = (zone.charCodeAt(1) - 48) * 10 + zone.charCodeAt(2) - 48;
    const minutesAt = zone.length === 6 ? 4 : 3;
    const om =
      zone.length > 3 ? (zone.charCodeAt(minutesAt) - 48) * 10 + zone.charCodeAt(minutesAt + 1) - 48 : 0;
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
  // The larger offset first: it gives the earlier instant.
  const first = Math.max(before, after);
  if (osloOffsetMinutes(wall - first * MS_PER_MINUTE) === first) return wall - first * MS_PER_MINUTE;
  const second = Math.min(before, after);
  if (second !== first && osloOffsetMinutes(wall - second * MS_PER_MINUTE) === second)
    return wall - second * MS_PER_MINUTE;
  return wall - before * MS_PER_MINUTE;
}

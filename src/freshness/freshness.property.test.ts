// The cached Oslo clock (oslo-time.ts keeps offsets per UTC day in a table filled in chunks, and
// the 18-month boundary reuses its last target date) against plain references that ask Intl for
// every instant and keep nothing: random instants from 1900 to 2200, and instants around every
// daylight-saving change from 1970 to 2100 (found here by asking Intl, not from a rule).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  daysFromCivil,
  formatOslo,
  formatOsloComputed,
  osloOffsetMinutes,
  osloWallTimeToInstant,
  parseInstant,
  parseInstantByPattern,
} from '../time/oslo-time.js';
import { freshnessBoundary, freshnessEnd, searchFlip } from './freshness.js';

const RUNS = Number(process.env.KRR_FUZZ_RUNS ?? 40) * 25;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

const parts = new Intl.DateTimeFormat('en-US', {
  timeZone: 'Europe/Oslo',
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
});

/** Oslo's wall clock at `ms` (whole seconds), straight from Intl. */
function wallParts(ms: number): Record<string, number> {
  const p: Record<string, number> = {};
  for (const part of parts.formatToParts(new Date(ms))) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  return p;
}

function referenceOffset(ms: number): number {
  const p = wallParts(ms);
  const wall = Date.UTC(p.year!, p.month! - 1, p.day, p.hour, p.minute, p.second);
  return Math.round((wall - Math.floor(ms / 1000) * 1000) / MINUTE);
}

function referenceFormat(ms: number): string {
  const p = wallParts(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  const offset = referenceOffset(ms);
  return `${String(p.year).padStart(4, '0')}-${two(p.month!)}-${two(p.day!)}T${two(p.hour!)}:${two(p.minute!)}:${two(p.second!)}${offset < 0 ? '-' : '+'}${two(Math.trunc(Math.abs(offset) / 60))}`;
}

/** The "compatible" disambiguation, as oslo-time.ts had it before its offsets were cached. */
function referenceWallToInstant(wall: number): number {
  const before = referenceOffset(wall - DAY);
  const after = referenceOffset(wall + DAY);
  for (const offset of [...new Set([before, after])].sort((a, b) => b - a)) {
    const instant = wall - offset * MINUTE;
    if (referenceOffset(instant) === offset) return instant;
  }
  return wall - before * MINUTE;
}

function referenceBoundary(now: number): number {
  const wall = new Date(now + referenceOffset(now) * MINUTE);
  const monthIndex = wall.getUTCFullYear() * 12 + wall.getUTCMonth() - 18;
  const year = Math.floor(monthIndex / 12);
  const month = monthIndex - year * 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return referenceWallToInstant(
    Date.UTC(
      year,
      month,
      Math.min(wall.getUTCDate(), lastDay),
      wall.getUTCHours(),
      wall.getUTCMinutes(),
      wall.getUTCSeconds(),
      wall.getUTCMilliseconds(),
    ),
  );
}

/** Every change of Oslo's offset in [from, to): Intl asked twice a day, the change found to the ms. */
function transitions(from: number, to: number): number[] {
  const found: number[] = [];
  let previous = referenceOffset(from);
  for (let t = from + DAY / 2; t < to; t += DAY / 2) {
    const offset = referenceOffset(t);
    if (offset === previous) continue;
    let lo = t - DAY / 2; // offset previous
    let hi = t; // offset changed
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (referenceOffset(mid) === previous) lo = mid;
      else hi = mid;
    }
    found.push(hi);
    previous = offset;
  }
  return found;
}

const ALL_CHANGES = transitions(Date.UTC(1900, 0, 1), Date.UTC(2200, 0, 1));
const CHANGES = ALL_CHANGES.filter((t) => t >= Date.UTC(1970, 0, 1) && t < Date.UTC(2101, 0, 1));

const anyInstant = fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2200, 0, 1) - 1 });
/** An instant within two days of a change of offset, 1970 to 2100. */
const nearChange = fc
  .tuple(fc.constantFrom(...CHANGES), fc.integer({ min: -2 * DAY, max: 2 * DAY }))
  .map(([change, delta]) => change + delta);
const instant = fc.oneof(anyInstant, nearChange);

describe('the Oslo clock against Intl asked every time (property)', () => {
  it('finds the expected changes, on whole UTC hours and at least 30 days apart', () => {
    assert.ok(CHANGES.length >= 2 * 120, String(CHANGES.length)); // spring and autumn, 1980..2100
    for (let i = 0; i < ALL_CHANGES.length; i++) {
      assert.equal(Math.abs(ALL_CHANGES[i]! % HOUR), 0, new Date(ALL_CHANGES[i]!).toISOString());
      // The offset table assumes no two changes within its chunks of 8 days.
      if (i > 0) {
        const gap = ALL_CHANGES[i]! - ALL_CHANGES[i - 1]!;
        assert.ok(gap >= 30 * DAY, `${new Date(ALL_CHANGES[i]!).toISOString()}: ${gap / DAY} days`);
      }
    }
  });

  it('osloOffsetMinutes and formatOslo agree at every change, its last millisecond before and its hour after', () => {
    for (const change of CHANGES) {
      for (const t of [change - HOUR, change - 1000, change - 1, change, change + 1, change + HOUR - 1]) {
        assert.equal(osloOffsetMinutes(t), referenceOffset(t), new Date(t).toISOString());
        assert.equal(formatOslo(t), referenceFormat(t), new Date(t).toISOString());
      }
    }
  });

  it('osloOffsetMinutes agrees for any instant', () => {
    fc.assert(
      fc.property(instant, (t) => osloOffsetMinutes(t) === referenceOffset(t)),
      { numRuns: RUNS * 4 },
    );
  });

  it('formatOslo agrees for any instant, and parseInstant reads it back to the second', () => {
    fc.assert(
      fc.property(instant, (t) => {
        const text = formatOslo(t);
        assert.equal(text, referenceFormat(t));
        assert.equal(parseInstant(text), Math.floor(t / 1000) * 1000);
      }),
      { numRuns: RUNS * 4 },
    );
  });

  it('osloWallTimeToInstant agrees, also in the spring gap and the doubled autumn hour', () => {
    // Wall times near a change: the change's instant read on the wall clock, give or take two hours.
    const nearWall = fc
      .tuple(fc.constantFrom(...CHANGES), fc.integer({ min: -2 * HOUR, max: 2 * HOUR }))
      .map(([change, delta]) => change + referenceOffset(change - 1) * MINUTE + delta);
    fc.assert(
      fc.property(fc.oneof(anyInstant, nearWall), (wall) => {
        assert.equal(osloWallTimeToInstant(wall), referenceWallToInstant(wall));
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('freshnessBoundary agrees, also for runs of instants an hour apart (its reused date)', () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: 1, max: 30 }), (start, hours) => {
        for (let i = 0, now = start; i < hours; i++, now += HOUR) {
          assert.equal(freshnessBoundary(now), referenceBoundary(now), new Date(now).toISOString());
        }
      }),
      { numRuns: RUNS / 2 },
    );
  });

  it('freshnessEnd is the first instant the boundary passes the basis, also when asked twice in a row', () => {
    const basis = fc.oneof(
      fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(2098, 0, 1) }),
      nearChange.filter((t) => t > Date.UTC(1971, 0, 1) && t < Date.UTC(2098, 0, 1)),
      // basis 18 months before a change: the flip lands near it
      nearChange
        .map((t) => t - 548 * DAY)
        .filter((t) => t > Date.UTC(1971, 0, 1) && t < Date.UTC(2098, 0, 1)),
    );
    fc.assert(
      fc.property(basis, (b) => {
        const flip = freshnessEnd(b);
        assert.equal(freshnessEnd(b), flip);
        assert.ok(referenceBoundary(flip) > b, `basis ${b}`);
        assert.ok(referenceBoundary(flip - 1) <= b, `basis ${b}`);
        assert.equal(flip, searchFlip(b, b + 540 * DAY));
      }),
      { numRuns: RUNS / 4 },
    );
  });
});

// parseInstant reads `YYYY-MM-DDTHH:mm:ss+HH` by character codes and remembers, for a text whose
// offset is Oslo's own at that instant, that formatOslo gives the text back. Both against the
// general path: the regular expression, and formatOslo worked out from the instant.
describe('the canonical timestamp fast path against the general path (property)', () => {
  const two = (n: number) => String(n).padStart(2, '0');
  /** Oslo's wall clock at `t` written with a chosen offset: right, wrong, or not Oslo's at all. */
  const wallText = (t: number, offsetHours: number, sign = '+') => {
    const wall = new Date(Math.floor(t / 1000) * 1000 + offsetHours * HOUR);
    return `${String(wall.getUTCFullYear()).padStart(4, '0')}-${two(wall.getUTCMonth() + 1)}-${two(
      wall.getUTCDate(),
    )}T${two(wall.getUTCHours())}:${two(wall.getUTCMinutes())}:${two(wall.getUTCSeconds())}${sign}${two(
      offsetHours,
    )}`;
  };
  /** Every field of the canonical shape, in range or just out of it, at fixed widths. */
  const anyShaped = fc
    .record({
      year: fc.oneof(fc.integer({ min: 1890, max: 2200 }), fc.integer({ min: 0, max: 9999 })),
      month: fc.integer({ min: 0, max: 13 }),
      day: fc.integer({ min: 0, max: 32 }),
      hour: fc.integer({ min: 0, max: 25 }),
      minute: fc.integer({ min: 0, max: 61 }),
      second: fc.integer({ min: 0, max: 61 }),
      sign: fc.constantFrom('+', '-'),
      offset: fc.oneof(fc.constantFrom(0, 1, 2), fc.integer({ min: 0, max: 99 })),
      t: fc.constantFrom('T', 't'),
    })
    .map(
      (f) =>
        `${String(f.year).padStart(4, '0')}-${two(f.month)}-${two(f.day)}${f.t}${two(f.hour)}:${two(
          f.minute,
        )}:${two(f.second)}${f.sign}${two(f.offset)}`,
    );
  /** A canonical text with one character replaced (digits by non-digits, separators by others). */
  const mangled = fc
    .tuple(
      instant,
      fc.integer({ min: 0, max: 21 }),
      fc.constantFrom('0', '9', 'a', ' ', '-', ':', '+', '/', 'Z', '\u0660', '\uff10'),
    )
    .map(([t, at, c]) => {
      const text = wallText(t, referenceOffset(t) / 60);
      return text.slice(0, at) + c + text.slice(at + 1);
    });
  /** Wall clock texts near and far from changes, with Oslo's offset, the other one, or +00/-01. */
  const wallTexts = fc
    .tuple(instant, fc.constantFrom(0, 1, 2), fc.constantFrom('+', '-'))
    .map(([t, offset, sign]) => wallText(t, offset, sign));

  /** parseInstant agrees with the pattern, and formatOslo with the computed form, afterwards too. */
  function agrees(text: string): void {
    const t = parseInstant(text);
    assert.equal(t, parseInstantByPattern(text), text);
    if (t === undefined) return;
    assert.equal(formatOslo(t), formatOsloComputed(t), text);
    assert.equal(formatOslo(t), referenceFormat(t), text);
    // The text comes back exactly when it is the canonical form with Oslo's offset.
    const canonical = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+\d{2}$/.test(text);
    if (canonical && Number(text.slice(20)) * 60 === referenceOffset(t)) assert.equal(formatOslo(t), text);
  }

  it('agrees for wall clock texts with the right and the wrong offset, near changes too', () => {
    fc.assert(fc.property(wallTexts, agrees), { numRuns: RUNS * 4 });
  });

  it('agrees at every change: the doubled autumn hour, the spring gap, both offsets', () => {
    for (const change of CHANGES) {
      for (let t = change - 2 * HOUR; t <= change + 2 * HOUR; t += 15 * MINUTE) {
        for (const delta of [-1000, 0, 1000]) {
          for (const offset of [1, 2]) agrees(wallText(t + delta, offset));
        }
      }
    }
  });

  it('agrees for texts of the canonical shape with fields out of range', () => {
    fc.assert(fc.property(anyShaped, agrees), { numRuns: RUNS * 4 });
  });

  it('agrees for canonical texts with one character replaced', () => {
    fc.assert(fc.property(mangled, agrees), { numRuns: RUNS * 4 });
  });

  it('formats every instant as computed, whatever was parsed before it (the remembered texts)', () => {
    fc.assert(
      fc.property(fc.array(wallTexts, { minLength: 1, maxLength: 40 }), instant, (texts, other) => {
        const parsed = texts.map(parseInstant);
        // Formatted in the reverse order, and an instant that was not parsed in between.
        assert.equal(formatOslo(other), referenceFormat(other));
        for (const t of parsed.reverse()) {
          if (t !== undefined) assert.equal(formatOslo(t), formatOsloComputed(t));
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('daysFromCivil counts days as Date.UTC does', () => {
    const date = fc
      .tuple(
        fc.integer({ min: 1900, max: 9999 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 31 }),
      )
      .filter(([y, m, d]) => d <= new Date(Date.UTC(y, m, 0)).getUTCDate());
    fc.assert(
      fc.property(date, ([y, m, d]) => daysFromCivil(y, m, d) * DAY === Date.UTC(y, m - 1, d)),
      { numRuns: RUNS * 4 },
    );
  });
});

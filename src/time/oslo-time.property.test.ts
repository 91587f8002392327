// The cached Oslo clock (oslo-time.ts keeps offsets per UTC day in a table filled in chunks, and
// the 18-month boundary reuses its last target date) against plain references that ask Intl for
// every instant and keep nothing: random instants from 1900 to 2200, and instants around every
// daylight-saving change from 1970 to 2100 (found here by asking Intl, not from a rule).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  eighteenMonthBoundary,
  formatOslo,
  osloOffsetMinutes,
  osloWallTimeToInstant,
  parseInstant,
} from './oslo-time.js';
import { searchFlip, varslingFlip } from './varsling-flip.js';

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
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
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

  it('eighteenMonthBoundary agrees, also for runs of instants an hour apart (its reused date)', () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: 1, max: 30 }), (start, hours) => {
        for (let i = 0, now = start; i < hours; i++, now += HOUR) {
          assert.equal(eighteenMonthBoundary(now), referenceBoundary(now), new Date(now).toISOString());
        }
      }),
      { numRuns: RUNS / 2 },
    );
  });

  it('varslingFlip is the first instant the boundary passes the basis, also when asked twice in a row', () => {
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
        const flip = varslingFlip(b);
        assert.equal(varslingFlip(b), flip);
        assert.ok(referenceBoundary(flip) > b, `basis ${b}`);
        assert.ok(referenceBoundary(flip - 1) <= b, `basis ${b}`);
        assert.equal(flip, searchFlip(b, b + 540 * DAY));
      }),
      { numRuns: RUNS / 4 },
    );
  });
});

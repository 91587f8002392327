// The flip instant against the boundary function it inverts: month ends (the day clamps), leap
// days, daylight-saving changes at either end, and a random sample. The reference is the boundary
// function searched hour by hour from long before (searchFlip), and the defining property itself.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatOslo, parseInstant } from '../time/oslo-time.js';
import { freshnessBoundary, freshnessEnd, searchFlip } from './freshness.js';

const DAY = 86_400_000;
const at = (iso: string) => {
  const t = parseInstant(iso);
  assert.ok(t !== undefined, iso);
  return t;
};

/** The first instant the boundary passes `basis`, found the slow way from 540 days on. */
function reference(basis: number): number {
  return searchFlip(basis, basis + 540 * DAY);
}

function check(basis: number): void {
  const flip = freshnessEnd(basis);
  const label = `basis ${formatOslo(basis)} (${basis})`;
  assert.ok(freshnessBoundary(flip) > basis, `${label}: boundary at the flip passes the basis`);
  assert.ok(freshnessBoundary(flip - 1) <= basis, `${label}: 1 ms before the flip it does not`);
  assert.equal(flip, reference(basis), `${label}: the first such instant`);
}

describe('freshnessEnd, the instant a channel goes stale', () => {
  it('the example of docs/freshness.md#example: confirmed at 2016-12-01T12:00:00+01:00 goes stale just after 2018-06-01T12:00:00+02:00', () => {
    const basis = at('2016-12-01T12:00:00+01:00');
    assert.equal(freshnessEnd(basis), at('2018-06-01T12:00:00+02:00') + 1);
    check(basis);
  });

  it('a day the target month lacks: stale from the next month’s first midnight', () => {
    // 31 March + 18 months = 31 September, which does not exist: 30 September maps to 30 March.
    const basis = at('2017-03-31T12:00:00+02:00');
    assert.equal(freshnessEnd(basis), at('2018-10-01T00:00:00+02:00'));
    check(basis);
    // 31 August + 18 months = 31 February.
    check(at('2016-08-31T23:59:59+02:00'));
    check(at('2016-08-29T00:00:00+02:00'));
  });

  it('leap days and the clamped end of February', () => {
    for (const iso of [
      '2016-02-29T06:00:00+01:00',
      '2015-02-28T06:00:00+01:00',
      '2016-02-28T23:59:59+01:00',
      '2017-02-28T00:00:00+01:00',
      '2018-02-28T12:00:00+01:00',
      '2014-08-28T12:00:00+02:00',
      '2014-08-29T12:00:00+02:00',
    ]) {
      check(at(iso));
    }
  });

  it('daylight-saving changes at the basis and at the flip', () => {
    // Spring changes (last Sunday of March) and autumn changes (last Sunday of October), around
    // the hour that is skipped or repeated, at the basis and 18 months on.
    const days = [
      '2016-03-27',
      '2016-10-30',
      '2017-03-26',
      '2017-10-29',
      '2018-03-25',
      '2018-10-28',
      '2019-03-31',
      '2019-10-27',
      '2016-09-25',
      '2016-04-28',
      '2017-04-29',
      '2017-09-26',
    ];
    for (const day of days) {
      const midnight = at(`${day}T00:00:00+01:00`) - 2 * 3_600_000;
      for (let t = midnight; t < midnight + 30 * 3_600_000; t += 15 * 60_000) check(t);
    }
  });

  it('every month end and month start, any year', () => {
    for (let year = 2014; year <= 2024; year++) {
      for (let month = 0; month < 12; month++) {
        const first = Date.UTC(year, month, 1);
        for (const t of [first - DAY, first - 3_600_000, first - 1000, first, first + 3_600_000 + 1000])
          check(t);
      }
    }
  });

  it('a random sample of whole-second instants, 2000 to 2040', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const from = Date.UTC(2000, 0, 1);
    const to = Date.UTC(2040, 0, 1);
    for (let i = 0; i < 400; i++) check(Math.floor((from + random() * (to - from)) / 1000) * 1000);
  });

  it('is fresh for every instant before the flip (sampled), also after the clamping steps back', () => {
    const basis = at('2017-02-28T06:00:00+01:00');
    const flip = freshnessEnd(basis);
    assert.equal(flip, at('2018-08-28T06:00:00+02:00') + 1);
    for (let now = flip - 40 * DAY; now < flip; now += 3_600_000 + 7) {
      assert.ok(freshnessBoundary(now) <= basis, formatOslo(now));
    }
    // 29 August 00:00 clamps to 28 February 00:00 again: fresh once more, which is why readers
    // past the flip still ask the boundary function.
    assert.ok(freshnessBoundary(at('2018-08-29T00:00:00+02:00')) <= basis);
  });
});

// The 18-month boundary (docs/freshness.md#the-boundary) on the Oslo wall clock. Expected instants
// are written by hand as UTC (Date.UTC) from the Oslo wall clock: CET is UTC+1, CEST is UTC+2, and
// summer time runs from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of
// October (2018: 25 March and 28 October).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatOslo } from '../time/oslo-time.js';
import { freshnessBoundary } from './freshness.js';

const utc = Date.UTC;

describe('freshnessBoundary', () => {
  it('gives the example of docs/freshness.md#example: 2018-06-01T12:00:00+02:00 → 2016-12-01T12:00:00+01:00', () => {
    assert.equal(freshnessBoundary(utc(2018, 5, 1, 10, 0, 0)), utc(2016, 11, 1, 11, 0, 0));
  });

  it('keeps the local time of day across a change of offset (winter now, summer boundary)', () => {
    // 2020-01-15T12:00+01 → 2018-07-15T12:00+02
    assert.equal(freshnessBoundary(utc(2020, 0, 15, 11, 0, 0)), utc(2018, 6, 15, 10, 0, 0));
    // seconds kept too: 2018-06-01T12:34:56+02 → 2016-12-01T12:34:56+01
    assert.equal(freshnessBoundary(utc(2018, 5, 1, 10, 34, 56)), utc(2016, 11, 1, 11, 34, 56));
  });

  it('counts months on the Oslo date, not the UTC date', () => {
    // 2018-06-01T00:30+02 is 31 May in UTC; the boundary is 2016-12-01T00:30+01 (30 November UTC).
    assert.equal(freshnessBoundary(utc(2018, 4, 31, 22, 30, 0)), utc(2016, 10, 30, 23, 30, 0));
    // 2019-12-31T23:30+01 → 2018-06-30T23:30+02
    assert.equal(freshnessBoundary(utc(2019, 11, 31, 22, 30, 0)), utc(2018, 5, 30, 21, 30, 0));
  });

  it('clamps a day that does not exist in the target month', () => {
    // 2019-08-31T12:00+02 → 2018-02-28T12:00+01
    assert.equal(freshnessBoundary(utc(2019, 7, 31, 10, 0, 0)), utc(2018, 1, 28, 11, 0, 0));
    // 2019-08-29T12:00+02 → 2018-02-28 too
    assert.equal(freshnessBoundary(utc(2019, 7, 29, 10, 0, 0)), utc(2018, 1, 28, 11, 0, 0));
    // local 31 August, still 30 August in UTC: 2019-08-31T01:00+02 → 2018-02-28T01:00+01
    assert.equal(freshnessBoundary(utc(2019, 7, 30, 23, 0, 0)), utc(2018, 1, 28, 0, 0, 0));
    // 2019-05-31 → 2017-11-30
    assert.equal(freshnessBoundary(utc(2019, 4, 31, 10, 0, 0)), utc(2017, 10, 30, 11, 0, 0));
  });

  it('lands on 29 February in a leap year', () => {
    // 2021-08-29T12:00+02 → 2020-02-29T12:00+01
    assert.equal(freshnessBoundary(utc(2021, 7, 29, 10, 0, 0)), utc(2020, 1, 29, 11, 0, 0));
    assert.equal(freshnessBoundary(utc(2021, 7, 30, 10, 0, 0)), utc(2020, 1, 29, 11, 0, 0));
    assert.equal(freshnessBoundary(utc(2021, 7, 31, 10, 0, 0)), utc(2020, 1, 29, 11, 0, 0));
    assert.equal(freshnessBoundary(utc(2021, 7, 28, 10, 0, 0)), utc(2020, 1, 28, 11, 0, 0));
  });

  it('crosses year ends', () => {
    assert.equal(freshnessBoundary(utc(2019, 5, 15, 10, 0, 0)), utc(2017, 11, 15, 11, 0, 0)); // June → December
    assert.equal(freshnessBoundary(utc(2019, 6, 15, 10, 0, 0)), utc(2018, 0, 15, 11, 0, 0)); // July → January
    // 2019-01-01T01:00+01 → 2017-07-01T01:00+02, which is 23:00 UTC on 30 June
    assert.equal(freshnessBoundary(utc(2019, 0, 1, 0, 0, 0)), utc(2017, 5, 30, 23, 0, 0));
  });

  it('handles a target wall time in the spring gap or the doubled autumn hour', () => {
    // now 2019-09-25T02:30+02; 2018-03-25T02:30 does not exist in Oslo (docs/freshness.md#edge-cases);
    // either neighbouring reading is accepted here.
    const gap = freshnessBoundary(utc(2019, 8, 25, 0, 30, 0));
    assert.ok(
      [utc(2018, 2, 25, 0, 30, 0), utc(2018, 2, 25, 1, 30, 0)].includes(gap),
      new Date(gap).toISOString(),
    );
    // now 2020-04-28T02:30+02; 2018-10-28T02:30 happens twice (+02 and +01).
    const twice = freshnessBoundary(utc(2020, 3, 28, 0, 30, 0));
    assert.ok(
      [utc(2018, 9, 28, 0, 30, 0), utc(2018, 9, 28, 1, 30, 0)].includes(twice),
      new Date(twice).toISOString(),
    );
  });

  // Not monotonic by the rule itself (docs/freshness.md#edge-cases): at 23:00 on 30 March and 00:00 on 31
  // March the boundary is 23:00 and then 00:00 on 30 September, so no monotonicity is asserted.
  it('shows the same Oslo wall time 18 months (clamped) earlier, for every hour over several years', () => {
    const daysIn = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate(); // m 1-based
    for (let now = utc(2017, 0, 1, 0, 17, 31); now < utc(2021, 0, 1); now += 3_600_000) {
      const local = formatOslo(now);
      const y = Number(local.slice(0, 4));
      const m = Number(local.slice(5, 7));
      const d = Number(local.slice(8, 10));
      const time = local.slice(11, 19);
      let ty = y;
      let tm = m - 18;
      while (tm < 1) {
        tm += 12;
        ty -= 1;
      }
      const td = Math.min(d, daysIn(ty, tm));
      const expected = `${ty}-${String(tm).padStart(2, '0')}-${String(td).padStart(2, '0')}T${time}`;
      const boundary = freshnessBoundary(now);
      const shown = formatOslo(boundary).slice(0, 19);
      const inSpringGap =
        tm === 3 && time.startsWith('02:') && td > 24 && new Date(Date.UTC(ty, 2, td)).getUTCDay() === 0;
      if (!inSpringGap) assert.equal(shown, expected, `now ${local}`);
      assert.ok(now - boundary > 540 * 86_400_000 && now - boundary < 553 * 86_400_000, `now ${local}`);
    }
  });
});

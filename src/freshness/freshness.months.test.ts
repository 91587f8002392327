// monthsBefore: the boundary's calendar arithmetic for any number of months, which rules counted
// in months besides the 18-month rule use (the reminder: docs/jobs.md#reminders). Expected instants
// as UTC (Date.UTC) from the Oslo wall clock (CET UTC+1, CEST UTC+2).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FRESHNESS_MONTHS, freshnessBoundary, monthsBefore } from './freshness.js';

const utc = Date.UTC;

describe('monthsBefore', () => {
  it('is the freshness boundary with FRESHNESS_MONTHS, at every hour of a year and at month ends', () => {
    for (let t = utc(2019, 0, 1); t < utc(2020, 0, 1); t += 3_600_000 + 1) {
      assert.equal(monthsBefore(t, FRESHNESS_MONTHS), freshnessBoundary(t));
    }
  });

  it('counts 16 months on the Oslo wall clock, keeping the time of day across a change of offset', () => {
    // 2026-12-04T12:00+01 → 2025-08-04T12:00+02
    assert.equal(monthsBefore(utc(2026, 11, 4, 11), 16), utc(2025, 7, 4, 10));
    // 2026-07-01T00:30+02 (30 June in UTC) → 2025-03-01T00:30+01
    assert.equal(monthsBefore(utc(2026, 5, 30, 22, 30), 16), utc(2025, 2, 0, 23, 30));
  });

  it('clamps a day the target month lacks, whatever the number of months', () => {
    // 2021-06-30T12:00+02, 16 months back → 2020-02-29T12:00+01 (a leap year)
    assert.equal(monthsBefore(utc(2021, 5, 30, 10), 16), utc(2020, 1, 29, 11));
    // 2019-07-31T12:00+02, 17 months back → 2018-02-28T12:00+01
    assert.equal(monthsBefore(utc(2019, 6, 31, 10), 17), utc(2018, 1, 28, 11));
  });

  it('gives each number of months its own answer on the same date (no stale cached target)', () => {
    const now = utc(2026, 11, 4, 11);
    assert.equal(monthsBefore(now, 16), utc(2025, 7, 4, 10));
    assert.equal(monthsBefore(now, 18), utc(2025, 5, 4, 10));
    assert.equal(monthsBefore(now, 1), utc(2026, 10, 4, 11));
    assert.equal(monthsBefore(now, 16), utc(2025, 7, 4, 10));
  });
});

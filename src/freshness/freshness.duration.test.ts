// "-P18M" from now is the freshness boundary at now (docs/testdata.md#relative-timestamps): a
// channel confirmed "-P18M" ago is fresh, one confirmed a second earlier is not.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addDuration, parseDuration } from '../time/duration.js';
import { formatOslo, parseInstant } from '../time/oslo-time.js';
import { FRESHNESS_MONTHS, freshnessBoundary } from './freshness.js';

const MINUS_PERIOD = parseDuration(`-P${FRESHNESS_MONTHS}M`)!;

describe('a duration of minus the period', () => {
  it('lands on the freshness boundary at month ends, leap days and daylight-saving changes', () => {
    for (const iso of [
      '2018-06-01T12:00:00+02:00',
      '2019-08-31T23:30:00+02:00',
      '2020-08-29T00:15:00+02:00',
      '2019-09-30T12:00:00+02:00',
      '2019-09-27T02:30:00+02:00', // 18 months back: 27 March 2018, summer time
      '2019-10-27T02:30:00+01:00', // the autumn hour that happens twice
      '2020-01-01T00:00:00+01:00',
    ]) {
      const now = parseInstant(iso)!;
      assert.equal(addDuration(now, MINUS_PERIOD), freshnessBoundary(now), formatOslo(now));
    }
  });

  it('lands on the boundary for a sample of instants over ten years', () => {
    const start = Date.UTC(2015, 0, 1);
    for (let i = 0; i < 500; i++) {
      const now = start + Math.floor(((i * 7919) % 500) * 3_600_000 * 175.3) + i * 61_003;
      assert.equal(addDuration(now, MINUS_PERIOD), freshnessBoundary(now), formatOslo(now));
    }
  });
});

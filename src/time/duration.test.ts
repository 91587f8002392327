// Signed durations and adding them on the Oslo calendar (docs/testdata.md#relative-timestamps).
// Expected instants are written by hand from the Oslo wall clock (CET UTC+1, CEST UTC+2; 2018's
// summer time from 25 March to 28 October).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addDuration, looksLikeDuration, parseDuration } from './duration.js';
import type { Duration } from './duration.js';
import { parseInstant } from './oslo-time.js';

const at = (iso: string) => {
  const t = parseInstant(iso);
  assert.ok(t !== undefined, iso);
  return t;
};
const d = (text: string): Duration => {
  const parsed = parseDuration(text);
  assert.ok(parsed, text);
  return parsed;
};

describe('parseDuration', () => {
  it('reads a sign and every unit', () => {
    assert.deepEqual(parseDuration('-P2Y3DT4H'), {
      sign: -1,
      years: 2,
      months: 0,
      weeks: 0,
      days: 3,
      hours: 4,
      minutes: 0,
      seconds: 0,
    });
    assert.deepEqual(parseDuration('+P1W'), { ...parseDuration('P0D')!, weeks: 1 });
    assert.equal(parseDuration('P18M')!.months, 18);
    assert.equal(parseDuration('PT18M')!.minutes, 18);
    assert.equal(parseDuration('-PT30S')!.seconds, 30);
    assert.equal(parseDuration('P1Y2M3W4DT5H6M7S')!.seconds, 7);
  });

  it('refuses what is no whole-number duration', () => {
    for (const text of [
      '',
      'P',
      'PT',
      'P1DT',
      '17M',
      '-17M',
      'P1.5Y',
      'PT0.5S',
      'P1M1Y',
      'p1m',
      'P-1M',
      'P1234567D',
      ' P1D',
      'P1D ',
    ])
      assert.equal(parseDuration(text), undefined, text);
  });

  it('tells a would-be duration from a date-time', () => {
    assert.equal(looksLikeDuration('-P17X'), true);
    assert.equal(looksLikeDuration('P1D'), true);
    assert.equal(looksLikeDuration('2018-06-01T12:00:00+02'), false);
  });
});

describe('addDuration', () => {
  it('moves months on the Oslo calendar, the day clamped to the month’s last', () => {
    assert.equal(addDuration(at('2018-08-31T12:00:00+02:00'), d('P6M')), at('2019-02-28T12:00:00+01:00'));
    assert.equal(addDuration(at('2019-08-31T12:00:00+02:00'), d('-P18M')), at('2018-02-28T12:00:00+01:00'));
    assert.equal(addDuration(at('2020-03-31T08:00:00+02:00'), d('-P1M')), at('2020-02-29T08:00:00+01:00'));
    assert.equal(addDuration(at('2018-06-01T12:00:00+02:00'), d('-P1Y6M')), at('2016-12-01T12:00:00+01:00'));
  });

  it('keeps the wall time across a daylight-saving change for days, and counts hours as elapsed time', () => {
    // 24 March 2018 12:00 CET; the clocks go forward that night.
    const before = at('2018-03-24T12:00:00+01:00');
    assert.equal(addDuration(before, d('P1D')), at('2018-03-25T12:00:00+02:00'));
    assert.equal(addDuration(before, d('PT24H')), at('2018-03-25T13:00:00+02:00'));
    assert.equal(addDuration(before, d('P1DT1H')), at('2018-03-25T13:00:00+02:00'));
  });

  it('subtracts with a minus sign, the date part first', () => {
    assert.equal(
      addDuration(at('2018-03-04T02:00:00+01:00'), d('-P2Y3DT4H')),
      at('2016-02-29T22:00:00+01:00'),
    );
    assert.equal(addDuration(at('2018-06-01T12:00:00+02:00'), d('-P2W')), at('2018-05-18T12:00:00+02:00'));
  });

  it('gives NaN, not an exception, beyond the years a Date holds', () => {
    assert.ok(Number.isNaN(addDuration(at('2026-06-15T12:00:00+02:00'), d('P999999Y'))));
  });

  it('moves nothing for a zero duration', () => {
    const t = at('2018-06-01T12:34:56+02:00');
    assert.equal(addDuration(t, d('P0D')), t);
    assert.equal(addDuration(t, d('-PT0S')), t);
  });
});

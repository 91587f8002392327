// Timestamps (docs/lookup.md#timestamps; the 18-month rule is in freshness/). Expected instants are
// written by hand as UTC (Date.UTC) from the Oslo wall clock: CET is UTC+1, CEST is UTC+2, and
// summer time runs from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of
// October (2018: 25 March and 28 October).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatOslo, osloOffsetMinutes, osloWallTimeToInstant, parseInstant } from './oslo-time.js';

const utc = Date.UTC;

describe('osloOffsetMinutes', () => {
  it('is +60 in winter and +120 in summer', () => {
    assert.equal(osloOffsetMinutes(utc(2017, 10, 7, 8, 48, 38)), 60);
    assert.equal(osloOffsetMinutes(utc(2018, 6, 31, 21, 19, 2)), 120);
    assert.equal(osloOffsetMinutes(utc(2018, 0, 1)), 60);
  });

  it('switches exactly at 01:00 UTC on the last Sundays of March and October', () => {
    assert.equal(osloOffsetMinutes(utc(2018, 2, 25, 0, 59, 59, 999)), 60);
    assert.equal(osloOffsetMinutes(utc(2018, 2, 25, 1, 0, 0)), 120);
    assert.equal(osloOffsetMinutes(utc(2018, 9, 28, 0, 59, 59, 999)), 120);
    assert.equal(osloOffsetMinutes(utc(2018, 9, 28, 1, 0, 0)), 60);
  });
});

describe('formatOslo', () => {
  it('renders the documented examples', () => {
    assert.equal(formatOslo(utc(2017, 10, 7, 8, 48, 38)), '2017-11-07T09:48:38+01');
    assert.equal(formatOslo(utc(2018, 6, 31, 21, 19, 2)), '2018-07-31T23:19:02+02');
    assert.equal(formatOslo(utc(2015, 2, 11, 18, 57, 52)), '2015-03-11T19:57:52+01');
    assert.equal(formatOslo(utc(2020, 10, 12, 10, 0, 58)), '2020-11-12T11:00:58+01');
  });

  it('has the shape YYYY-MM-DDTHH:mm:ss±HH', () => {
    for (let t = utc(2015, 0, 1); t < utc(2021, 0, 1); t += 7 * 3_600_000 + 1234) {
      assert.match(formatOslo(t), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0[12]$/);
    }
  });

  it('drops fractions of a second (never rounds up)', () => {
    assert.equal(formatOslo(utc(2018, 6, 31, 21, 19, 2, 999)), '2018-07-31T23:19:02+02');
    assert.equal(formatOslo(utc(2018, 6, 31, 21, 19, 2, 1)), '2018-07-31T23:19:02+02');
    assert.equal(formatOslo(utc(2018, 11, 31, 22, 59, 59, 999)), '2018-12-31T23:59:59+01');
  });

  it('moves the local date where Oslo is past midnight and UTC is not', () => {
    assert.equal(formatOslo(utc(2018, 11, 31, 23, 30)), '2019-01-01T00:30:00+01');
    assert.equal(formatOslo(utc(2018, 6, 31, 22, 0, 0)), '2018-08-01T00:00:00+02');
    assert.equal(formatOslo(utc(2020, 1, 28, 23, 0, 0)), '2020-02-29T00:00:00+01');
  });

  it('follows the spring and autumn changes', () => {
    assert.equal(formatOslo(utc(2018, 2, 25, 0, 59, 59)), '2018-03-25T01:59:59+01');
    assert.equal(formatOslo(utc(2018, 2, 25, 1, 0, 0)), '2018-03-25T03:00:00+02');
    assert.equal(formatOslo(utc(2018, 9, 28, 0, 59, 59)), '2018-10-28T02:59:59+02');
    assert.equal(formatOslo(utc(2018, 9, 28, 1, 0, 0)), '2018-10-28T02:00:00+01');
    // The autumn hour that happens twice is told apart by the offset.
    assert.equal(formatOslo(utc(2018, 9, 28, 0, 30, 0)), '2018-10-28T02:30:00+02');
    assert.equal(formatOslo(utc(2018, 9, 28, 1, 30, 0)), '2018-10-28T02:30:00+01');
  });
});

describe('parseInstant', () => {
  const at = utc(2018, 5, 1, 10, 0, 0); // 2018-06-01T12:00:00+02:00

  it('accepts Z and every offset spelling', () => {
    assert.equal(parseInstant('2018-06-01T10:00:00Z'), at);
    assert.equal(parseInstant('2018-06-01T12:00:00+02:00'), at);
    assert.equal(parseInstant('2018-06-01T12:00:00+0200'), at);
    assert.equal(parseInstant('2018-06-01T12:00:00+02'), at);
    assert.equal(parseInstant('2018-06-01T11:00:00+01:00'), at);
    assert.equal(parseInstant('2018-06-01T11:00:00+0100'), at);
    assert.equal(parseInstant('2018-06-01T11:00:00+01'), at);
    assert.equal(parseInstant('2018-06-01T10:00:00+00:00'), at);
    assert.equal(parseInstant('2018-06-01T05:00:00-05:00'), at);
    assert.equal(parseInstant('2018-06-01T15:30:00+05:30'), at);
    assert.equal(parseInstant('2018-06-01T06:15:00-0345'), at);
  });

  it('accepts fractions of a second and keeps the whole second', () => {
    for (const text of [
      '2018-06-01T10:00:00.123Z',
      '2018-06-01T12:00:00.999+02:00',
      '2018-06-01T12:00:00.5+02',
      '2018-06-01T10:00:00.123456789Z',
    ]) {
      const t = parseInstant(text);
      assert.notEqual(t, undefined, text);
      assert.ok(t! >= at && t! < at + 1000, text);
      assert.equal(formatOslo(t!), '2018-06-01T12:00:00+02');
    }
  });

  it('round-trips our own output', () => {
    const instants = [
      utc(2017, 10, 7, 8, 48, 38),
      utc(2018, 6, 31, 21, 19, 2),
      utc(2018, 2, 25, 0, 59, 59),
      utc(2018, 2, 25, 1, 0, 0),
      utc(2018, 9, 28, 0, 30, 0),
      utc(2018, 9, 28, 1, 30, 0),
      utc(2018, 11, 31, 23, 30, 0),
      utc(2000, 1, 29, 12, 0, 0),
    ];
    for (let t = utc(2016, 0, 1); t < utc(2020, 0, 1); t += 13 * 3_600_000 + 17_000) instants.push(t);
    for (const t of instants) {
      const text = formatOslo(t);
      assert.equal(parseInstant(text), t, text);
    }
  });

  it('refuses date-times without an offset, impossible dates and garbage', () => {
    for (const bad of [
      '',
      'garbage',
      '2018-06-01',
      '2018-06-01T12:00:00',
      '2018-06-01T12:00:00.123',
      '2018-02-30T12:00:00Z',
      '2019-02-29T12:00:00Z',
      '2018-04-31T12:00:00+02',
      '2018-13-01T12:00:00Z',
      '2018-00-01T12:00:00Z',
      '2018-06-00T12:00:00Z',
      '2018-06-01T24:00:01Z',
      '2018-06-01T12:60:00Z',
      '2018-06-01T12:00:61Z',
      '2018-06-01T12:00:00+2',
      '2018-06-01T12:00:00+01:60',
      '2018-06-01T12:00:00+02:00:00',
      '2018-06-01T12:00:00 +02:00',
      '2018-06-01T12:00:00+02:00trailing',
      'x2018-06-01T12:00:00Z',
      '1528020000000',
    ]) {
      assert.equal(parseInstant(bad), undefined, bad);
    }
  });

  it('accepts 29 February in a leap year', () => {
    assert.equal(parseInstant('2020-02-29T12:00:00+01'), utc(2020, 1, 29, 11, 0, 0));
    assert.equal(parseInstant('2000-02-29T00:00:00Z'), utc(2000, 1, 29));
  });
});

describe('osloWallTimeToInstant', () => {
  it('reads an unambiguous wall time in Oslo', () => {
    assert.equal(osloWallTimeToInstant(utc(2018, 5, 1, 12, 0, 0)), utc(2018, 5, 1, 10, 0, 0));
    assert.equal(osloWallTimeToInstant(utc(2016, 11, 1, 12, 0, 0)), utc(2016, 11, 1, 11, 0, 0));
  });
});

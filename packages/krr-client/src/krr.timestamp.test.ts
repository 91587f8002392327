import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseKrrTimestamp } from './krr.timestamp.js';

describe('parseKrrTimestamp', () => {
  it("reads KRR's hours-only offsets and any ISO-8601 offset or Z", () => {
    assert.equal(parseKrrTimestamp('2017-11-07T09:48:38+01')?.toISOString(), '2017-11-07T08:48:38.000Z');
    assert.equal(parseKrrTimestamp('2018-07-31T23:19:02+02')?.toISOString(), '2018-07-31T21:19:02.000Z');
    assert.equal(parseKrrTimestamp('2018-07-31T23:19:02+0530')?.toISOString(), '2018-07-31T17:49:02.000Z');
    assert.equal(
      parseKrrTimestamp('2018-07-31T23:19:02.123-02:00')?.toISOString(),
      '2018-08-01T01:19:02.000Z',
    );
    assert.equal(parseKrrTimestamp('2018-07-31T23:19Z')?.toISOString(), '2018-07-31T23:19:00.000Z');
  });

  it('gives undefined for what is not one', () => {
    for (const text of [
      '2017-11-07T09:48:38',
      '2017-02-30T09:48:38+01',
      '2017-11-07T24:00:00Z',
      'yesterday',
      '',
    ]) {
      assert.equal(parseKrrTimestamp(text), undefined, text);
    }
  });
});

// BoundedEntries (docs/tokens.md#sign-in-limits): the count, the bytes and the lifetime bound it,
// the oldest going first, and its byte count going back down as entries go.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedEntries, entryBytes } from './bounded-entries.js';

describe('BoundedEntries', () => {
  it('drops the oldest entries to stay within its bytes, and counts them back out', () => {
    const entries = new BoundedEntries<number>(60_000, 100, 1000);
    for (let i = 0; i < 10; i++) entries.add(`k${i}`, i, 300, 0);
    assert.equal(entries.size, 3);
    assert.equal(entries.bytes, 900);
    assert.equal(entries.get('k6', 0), undefined);
    assert.deepEqual(
      ['k7', 'k8', 'k9'].map((k) => entries.get(k, 0)),
      [7, 8, 9],
    );
    entries.delete('k8');
    entries.delete('k8');
    assert.equal(entries.bytes, 600);
    entries.add('big', -1, 1001, 0);
    assert.equal(entries.get('big', 0), undefined, 'an entry over the whole budget is not kept');
  });

  it('drops the oldest entries to stay within its count, and expired ones first', () => {
    const entries = new BoundedEntries<number>(1000, 3, 1_000_000);
    for (let i = 0; i < 5; i++) entries.add(`k${i}`, i, 1, i * 100);
    assert.equal(entries.size, 3);
    assert.equal(entries.get('k1', 500), undefined);
    assert.equal(entries.get('k2', 500), 2);
    assert.equal(entries.get('k2', 1200), undefined, 'expired after its lifetime');
    entries.add('late', 9, 1, 1400);
    assert.equal(entries.size, 1, 'the expired ones went');
    assert.equal(entries.bytes, 1);
  });

  it('counts two bytes a character and an overhead per entry', () => {
    assert.equal(entryBytes(['ab', undefined, 'cde']) - entryBytes([]), 10);
  });
});

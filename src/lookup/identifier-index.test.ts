import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { IdentifierIndex } from './identifier-index.js';

describe('IdentifierIndex', () => {
  it('agrees with a Map over random sets, gets and deletes, through growth and wrap-around', () => {
    // Few distinct keys in a small table: long probe runs, deletions inside them, runs that wrap.
    const key = fc.integer({ min: 1, max: 60 }).map((k) => k * 1_000_000_007);
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key, value: fc.nat(1_000_000) }),
      fc.record({ kind: fc.constant('delete' as const), key }),
      fc.record({ kind: fc.constant('get' as const), key }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const index = new IdentifierIndex(1);
        const model = new Map<number, number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            index.set(o.key, o.value);
            model.set(o.key, o.value);
          } else if (o.kind === 'delete') {
            assert.equal(index.delete(o.key), model.delete(o.key));
          }
          assert.equal(index.get(o.key), model.get(o.key) ?? -1);
          assert.equal(index.size, model.size);
        }
        for (const [k, v] of model) assert.equal(index.get(k), v);
      }),
      { numRuns: 300 },
    );
  });

  it('holds a million eleven-digit identifiers, and starts over when cleared', () => {
    const index = new IdentifierIndex();
    for (let i = 0; i < 1_000_000; i++) index.set(10_000_000_000 + i * 7919, i);
    assert.equal(index.size, 1_000_000);
    for (let i = 0; i < 1_000_000; i += 997) assert.equal(index.get(10_000_000_000 + i * 7919), i);
    assert.equal(index.get(99_999_999_999), -1);
    index.clear();
    assert.equal(index.size, 0);
    assert.equal(index.get(10_000_000_000), -1);
    index.set(10_000_000_000, 5);
    assert.equal(index.get(10_000_000_000), 5);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { sortedUnique } from './lookup.service.js';

describe('sortedUnique', () => {
  it('sorts eleven-digit identifiers and drops repeats, as sorting the strings does', () => {
    const id = fc.stringMatching(/^[0-9]{11}$/);
    fc.assert(
      fc.property(fc.array(id, { maxLength: 1000 }), fc.nat(50), (ids, repeats) => {
        const withRepeats = [...ids, ...ids.slice(0, repeats)];
        assert.deepEqual(sortedUnique(withRepeats), [...new Set(withRepeats)].sort());
      }),
      { numRuns: 200 },
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentStrings } from './recent-strings.js';

/** A string with the same text as `s` but not the same object (as JSON.parse gives each line). */
const copyOf = (s: string): string => JSON.parse(JSON.stringify(s)) as string;

describe('RecentStrings', () => {
  it('finds a string by its text, whichever object carries it', () => {
    const recent = new RecentStrings<number>();
    const long = 'A'.repeat(1500);
    recent.set(long, 1);
    assert.equal(recent.get(copyOf(long)), 1);
    // Same length, one character apart: not the same string.
    assert.equal(recent.get(`${'A'.repeat(1499)}B`), undefined);
  });

  it('keeps the last `size` strings, and a string found counts as seen again', () => {
    const recent = new RecentStrings<string>(3);
    for (const s of ['a', 'b', 'c']) recent.set(s, s.toUpperCase());
    assert.equal(recent.get('a'), 'A'); // now the most recent: d pushes out b, the oldest
    recent.set('d', 'D');
    assert.equal(recent.get('b'), undefined);
    assert.deepEqual(
      ['a', 'c', 'd'].map((s) => recent.get(s)),
      ['A', 'C', 'D'],
    );
  });
});

// The cache's bound and its eviction (slabs given back oldest first, entries read since getting a
// second chance), over a test double of the repository that serves rendered synthetic persons.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { syntheticPersons } from '../demo/synthetic-persons.js';
import type { PersonRepository } from '../register/person.repository.js';
import { renderPerson } from '../answer/answer.render.js';
import { CachedAnswer } from '../answer/answer.assemble.js';
import { CachedLookupSource } from './lookup.cache.js';
import { decodeLookupRecord, encodeLookupRecord } from '../answer/answer.record.js';
import type { LookupRecord } from '../answer/answer.record.js';

const PERSONS = [...syntheticPersons(3000, { seed: 11 })].map(renderPerson);
const IDS = PERSONS.map((p) => p.personidentifikator).sort();
const ROWS = new Map(PERSONS.map((p) => [p.personidentifikator, p]));

/** Serves the persons as the store would; counts what it was asked. */
function repository() {
  let fetched = 0;
  const fetchedIds: string[] = [];
  const persons = {
    latestChangeId: () => Promise.resolve(1),
    changesUpTo: () => Promise.resolve({ latest: 1, changed: [] }),
    findLookupRecords: (ids: readonly string[]): Promise<LookupRecord[]> => {
      fetched += ids.length;
      fetchedIds.push(...ids);
      return Promise.resolve(
        ids.map((id) => {
          const p = ROWS.get(id)!;
          const cert = p.sertifikat === null ? null : Buffer.from(p.sertifikat);
          return decodeLookupRecord(Buffer.from(encodeLookupRecord(p)), cert);
        }),
      );
    },
  } as unknown as PersonRepository;
  return { persons, fetched: () => fetched, fetchedIds };
}

describe('CachedLookupSource bound', () => {
  it('stays within its bound, and keeps what is read over what is not', async () => {
    const { persons, fetched, fetchedIds } = repository();
    const bound = 1 << 20;
    const cache = new CachedLookupSource(persons, bound);
    const hot = IDS.slice(0, 100);
    for (let i = 0; i < IDS.length; i += 100) {
      await cache.records(IDS.slice(i, i + 100));
      // The hot persons are asked between every batch of cold ones.
      const answers = await cache.records(hot);
      assert.ok(answers.every((a) => a !== undefined));
      assert.ok(cache.stats().bytes <= bound, `${cache.stats().bytes} bytes within ${bound}`);
    }
    assert.ok(cache.stats().entries < IDS.length, 'not everything fits');
    const hotSet = new Set(hot);
    assert.equal(
      fetchedIds.filter((id) => hotSet.has(id)).length,
      hot.length,
      'each hot person was read from the store once: every slab given back moved them on',
    );
    const before = fetched();
    const answers = await cache.records(hot);
    assert.equal(fetched(), before, 'the hot persons are all still cached');
    assert.ok(answers.every((a) => a instanceof CachedAnswer));
    // A cold person from the start was given back with its slab.
    await cache.records([IDS[150]!]);
    assert.equal(fetched(), before + 1);
    await assertAnswerBytesHeld(cache);
  });
});

/**
 * The cache's answerBytes is the sum of the answers it holds: each person held is answered from
 * it (a CachedAnswer, its bytes from start to end) when all are asked, before the misses are kept.
 */
async function assertAnswerBytesHeld(cache: CachedLookupSource): Promise<void> {
  const { answerBytes, entries } = cache.stats();
  const answers = await cache.records(IDS);
  const held = answers.filter((a): a is CachedAnswer => a instanceof CachedAnswer);
  assert.equal(held.length, entries);
  assert.equal(
    answerBytes,
    held.reduce((n, a) => n + a.end - a.start, 0),
  );
  assert.ok(answerBytes > 0 && answerBytes < cache.stats().bytes);
}

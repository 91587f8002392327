// The register's clock in the store (docs/testdata.md#the-clock): frozen, moved, real again, kept
// across a restart, on both stores; and on PostgreSQL followed by a second process on the store.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openStore } from './open-store.js';
import { RegisterClock } from './register-clock.js';
import { parseDuration } from '../time/duration.js';
import { parseInstant } from '../time/oslo-time.js';
import { openTestStore, skipReason, STORE_KINDS } from '../../test/support/stores.js';
import type { TestStore } from '../../test/support/stores.js';

const at = (iso: string) => parseInstant(iso)!;
const REAL = at('2026-03-10T12:00:00+01:00');

/** Waits until `check` holds (a notification arriving); fails after `withinMs`. */
async function eventually(check: () => boolean, what: string, withinMs = 10_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const kind of STORE_KINDS) {
  describe(`the register clock (${kind})`, { skip: await skipReason(kind) }, () => {
    let store: TestStore;
    let real = REAL;
    const realNow = () => real;
    before(async () => {
      store = await openTestStore(kind);
    });
    after(async () => store?.dispose());

    it('is the system clock until changed, then frozen, moved on the calendar, running at an offset, and real again', async () => {
      const clock = await RegisterClock.open(store.db, { realNow });
      try {
        assert.deepEqual(clock.view(), { now: REAL, frozen: false });
        real += 5000;
        assert.equal(clock.now(), REAL + 5000, 'runs with the system clock');

        await clock.change({ kind: 'freeze', at: at('2018-08-31T12:00:00+02:00') });
        real += 60_000;
        assert.deepEqual(clock.view(), { now: at('2018-08-31T12:00:00+02:00'), frozen: true });

        await clock.change({ kind: 'shift', by: parseDuration('P18M')! });
        assert.deepEqual(clock.view(), { now: at('2020-02-29T12:00:00+01:00'), frozen: true }, 'day clamped');

        await clock.change({ kind: 'real' });
        assert.deepEqual(clock.view(), { now: real, frozen: false });

        await clock.change({ kind: 'shift', by: parseDuration('-P1D')! });
        const shifted = clock.now();
        assert.equal(shifted, at('2026-03-09T12:01:05+01:00'), 'a day back on the calendar');
        real += 1000;
        assert.equal(clock.now(), shifted + 1000, 'and running');
      } finally {
        await clock.close();
      }
    });

    it('keeps its clock in the store: a restart without --clock takes it, --clock sets it', async () => {
      const first = await RegisterClock.open(store.db, { realNow });
      await first.change({ kind: 'freeze', at: at('2019-01-01T00:00:00+01:00') });
      await first.close();
      const second = await RegisterClock.open(store.db, { realNow });
      assert.deepEqual(second.view(), { now: at('2019-01-01T00:00:00+01:00'), frozen: true });
      await second.close();
      const third = await RegisterClock.open(store.db, { realNow, initial: at('2017-05-05T05:05:05+02:00') });
      assert.deepEqual(third.view(), { now: at('2017-05-05T05:05:05+02:00'), frozen: true });
      await third.change({ kind: 'real' });
      await third.close();
    });
  });
}

describe(
  'the register clock in two processes on one PostgreSQL',
  { skip: await skipReason('postgres') },
  () => {
    let store: TestStore;
    before(async () => {
      store = await openTestStore('postgres');
    });
    after(async () => store?.dispose());

    it('a change in one is taken by the other as soon as it commits, and a change there comes back', async () => {
      // The other process: a store of its own on the same schema, so its own connections and LISTEN.
      const otherDb = await openStore(store.config);
      // A poll far longer than the test: only the notification can bring the change in time.
      const one = await RegisterClock.open(store.db, { pollMs: 3_600_000 });
      const other = await RegisterClock.open(otherDb, { pollMs: 3_600_000 });
      try {
        const target = at('2018-06-01T12:00:00+02:00');
        await one.change({ kind: 'freeze', at: target });
        await eventually(() => other.now() === target, 'the other process sees the frozen clock');
        assert.equal(other.view().frozen, true);

        await other.change({ kind: 'shift', by: parseDuration('P2M')! });
        const moved = at('2018-08-01T12:00:00+02:00');
        assert.equal(other.now(), moved, 'the process that changed it has it at once');
        await eventually(() => one.now() === moved, 'and the first one follows');

        await one.change({ kind: 'real' });
        await eventually(() => !other.view().frozen, 'real time again in the other');
      } finally {
        await one.close();
        await other.close();
        await otherDb.close();
      }
    });

    it('picks a change up by its poll when no notification reaches it', async () => {
      // A change written to the row by hand sends no NOTIFY: the poll must find it.
      const clock = await RegisterClock.open(store.db, { pollMs: 20 });
      try {
        await store.db.query(
          `update register_clock set frozen_at = $1, offset_ms = 0, version = version + 1 where singleton`,
          [at('2016-01-01T00:00:00+01:00')],
        );
        await eventually(() => clock.now() === at('2016-01-01T00:00:00+01:00'), 'the poll finds the row');
      } finally {
        await clock.change({ kind: 'real' });
        await clock.close();
      }
    });
  },
);

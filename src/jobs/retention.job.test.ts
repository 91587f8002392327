// The retention job (docs/jobs.md#retention) on both stores, run with a hand-built JobContext: what
// is older than the retention days goes (delivered and given-up messages, spent codes, ended or idle
// sessions), what is pending or recent stays, in batches, counted, and stopped between batches.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import { frozenClock } from '../time/clock.js';
import { parseInstant } from '../time/oslo-time.js';
import { openTestStore, skipReason, STORE_KINDS } from '../../test/support/stores.js';
import type { TestStore } from '../../test/support/stores.js';
import type { JobContext } from './job.js';
import { retentionJob } from './retention.job.js';

const DAY = 24 * 3600_000;
/** The register's clock: frozen, far from the real time, as the test-data clock may be. */
const NOW = parseInstant('2027-03-01T12:00:00+01:00')!;
/** The real clock for the sessions, frozen elsewhere, so that the test shows which clock each uses. */
const REAL_NOW = parseInstant('2026-12-04T12:00:00+01:00')!;
const PID = makeIdentifier({ day: 3, month: 4, year: 81 });

const iso = (t: number) => new Date(t).toISOString();

interface Run {
  readonly ctx: JobContext;
  readonly counts: Map<string, number>;
  readonly abort: AbortController;
}

function context(store: TestStore, options: { stillHolds?: () => boolean; now?: number } = {}): Run {
  const counts = new Map<string, number>();
  const abort = new AbortController();
  const ctx: JobContext = {
    db: store.db,
    clock: frozenClock(options.now ?? NOW),
    log: { info: () => {}, warn: () => {} },
    signal: abort.signal,
    count: (name, n = 1) => counts.set(name, (counts.get(name) ?? 0) + n),
    stillHolds: options.stillHolds ?? (() => true),
  };
  return { ctx, counts, abort };
}

const job = (pageSize?: number) =>
  retentionJob({
    days: 7,
    intervalMs: 3600_000,
    realClock: frozenClock(REAL_NOW),
    ...(pageSize !== undefined ? { pageSize } : {}),
  });

for (const kind of STORE_KINDS) {
  describe(`the retention job (${kind})`, { skip: await skipReason(kind) }, () => {
    let store: TestStore;
    before(async () => {
      store = await openTestStore(kind);
    });
    after(async () => store?.dispose());
    beforeEach(async () => {
      await store.db.query('delete from outbox');
      await store.db.query('delete from profile_code');
      await store.db.query('delete from minprofil_session');
    });

    /** A message created at `created` (register clock), delivered or given up or neither. */
    async function message(
      text: string,
      created: number,
      state: 'delivered' | 'failed' | 'pending',
    ): Promise<void> {
      await store.db.query(
        `insert into outbox (kind, channel, recipient, subject, text, created_at, next_attempt_at,
                             attempts, delivered_at, delivered_to, failed_at)
         values ('engangskode', 'epost', 'x@example.no', '', $1, $2::text::timestamptz,
                 $2::text::timestamptz, $3, $4::text::timestamptz, $5, $6::text::timestamptz)`,
        [
          text,
          iso(created),
          state === 'failed' ? 10 : 0,
          state === 'delivered' ? iso(created + 1000) : null,
          state === 'delivered' ? 'smtp' : null,
          state === 'failed' ? iso(created + 60_000) : null,
        ],
      );
    }
    const messages = async () =>
      (await store.db.query<{ text: string }>('select text from outbox order by id')).map((r) => r.text);

    /** A code created at `created`, valid 10 minutes, used at `used` (or not). */
    async function code(value: string, created: number, used: number | null): Promise<void> {
      await store.db.query(
        `insert into profile_code (personidentifikator, session_hash, channel, value, code_hash,
                                   created_at, expires_at, used_at)
         values ($1, 's', 'epost', $2, 'scrypt$x$y', $3::text::timestamptz, $4::text::timestamptz,
                 $5::text::timestamptz)`,
        [PID, value, iso(created), iso(created + 10 * 60_000), used === null ? null : iso(used)],
      );
    }
    const codes = async () =>
      (await store.db.query<{ value: string }>('select value from profile_code order by id')).map(
        (r) => r.value,
      );

    /** A session last used at `lastSeen` (real clock), ended then or still open. */
    async function session(id: string, lastSeen: number, ended: boolean): Promise<void> {
      await store.db.query(
        `insert into minprofil_session (id_hash, personidentifikator, acr, created_at, last_seen_at, ended_at)
         values ($1, $2, null, $3::text::timestamptz, $3::text::timestamptz, $4::text::timestamptz)`,
        [id, PID, iso(lastSeen), ended ? iso(lastSeen) : null],
      );
    }
    const sessions = async () =>
      (
        await store.db.query<{ id_hash: string }>('select id_hash from minprofil_session order by id_hash')
      ).map((r) => r.id_hash);

    it('deletes old delivered and given-up messages, never a pending one, and keeps recent ones', async () => {
      const old = NOW - 7 * DAY - 1000;
      const recent = NOW - 7 * DAY + 1000;
      await message('old delivered', old, 'delivered');
      await message('old failed', old, 'failed');
      await message('old pending', NOW - 400 * DAY, 'pending');
      await message('recent delivered', recent, 'delivered');
      await message('recent failed', recent, 'failed');
      await message('recent pending', recent, 'pending');
      const { ctx, counts } = context(store);
      await job().run(ctx);
      assert.deepEqual(await messages(), [
        'old pending',
        'recent delivered',
        'recent failed',
        'recent pending',
      ]);
      assert.equal(counts.get('deleted_messages'), 2);
      assert.equal(counts.get('failed_messages'), 1, 'the given-up message still kept');
    });

    it('deletes codes used or expired more than the days ago on the register’s clock, and keeps the rest', async () => {
      const old = NOW - 8 * DAY;
      await code('old used', old, old + 60_000);
      await code('old expired', old, null);
      await code('recent used', NOW - DAY, NOW - DAY + 60_000);
      await code('waiting', NOW - 60_000, null);
      // Replaced 8 days ago (used_at then), though it would have expired only later.
      await code('used long before it expired', NOW - 7 * DAY - 5 * 60_000, NOW - 7 * DAY - 4 * 60_000);
      const { ctx, counts } = context(store);
      await job().run(ctx);
      assert.deepEqual(await codes(), ['recent used', 'waiting']);
      assert.equal(counts.get('deleted_codes'), 3);
    });

    it('deletes sessions ended or idle more than the days ago on the real clock, not the register’s', async () => {
      await session('ended-old', REAL_NOW - 8 * DAY, true);
      await session('idle-old', REAL_NOW - 8 * DAY, false);
      await session('ended-recent', REAL_NOW - 2 * DAY, true);
      await session('open', REAL_NOW - 60_000, false);
      // The register's clock is months ahead of the real one: by it, every session would be old.
      const { ctx, counts } = context(store);
      await job().run(ctx);
      assert.deepEqual(await sessions(), ['ended-recent', 'open']);
      assert.equal(counts.get('deleted_sessions'), 2);
    });

    it('counts every kind, zeros included, and failures kept', async () => {
      await message('recent failed', NOW - DAY, 'failed');
      const { ctx, counts } = context(store);
      await job().run(ctx);
      assert.deepEqual(Object.fromEntries(counts), {
        deleted_messages: 0,
        deleted_codes: 0,
        deleted_sessions: 0,
        failed_messages: 1,
      });
    });

    it('deletes in batches of pageSize: 5 rows with pageSize 2 in three statements, all gone', async () => {
      for (let n = 1; n <= 5; n++) await message(`old ${n}`, NOW - 10 * DAY, n % 2 ? 'delivered' : 'failed');
      await message('recent', NOW, 'delivered');
      let asked = 0;
      const { ctx, counts } = context(store, { stillHolds: () => (asked++, true) });
      await job(2).run(ctx);
      assert.deepEqual(await messages(), ['recent']);
      assert.equal(counts.get('deleted_messages'), 5);
      // Messages 2+2+1 (the short batch ends them), codes 1, sessions 1: asked before each.
      assert.equal(asked, 5);
    });

    it('stops between batches when the lease is lost or the process stops; the next run goes on', async () => {
      for (let n = 1; n <= 5; n++) await message(`old ${n}`, NOW - 10 * DAY, 'delivered');
      let batches = 0;
      const lost = context(store, { stillHolds: () => batches++ < 1 });
      await job(2).run(lost.ctx);
      assert.equal((await messages()).length, 3, 'one batch of 2, then stopped');
      assert.equal(lost.counts.get('deleted_messages'), 2);
      assert.equal(lost.counts.has('failed_messages'), false, 'a stopped run counts no failures');

      const stopped = context(store);
      stopped.abort.abort();
      await job(2).run(stopped.ctx);
      assert.equal((await messages()).length, 3, 'aborted: nothing deleted');

      const next = context(store);
      await job(2).run(next.ctx);
      assert.deepEqual(await messages(), []);
      assert.equal(next.counts.get('deleted_messages'), 3);
    });

    it('names the job retention', () => {
      const j = job();
      assert.equal(j.name, 'retention');
      assert.equal(j.intervalMs, 3600_000);
      assert.throws(() => retentionJob({ days: 7, intervalMs: 1, pageSize: 0 }), RangeError);
    });
  });
}

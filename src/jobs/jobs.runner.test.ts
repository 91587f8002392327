// The jobs' runner on both stores (docs/jobs.md): a due job runs and is recorded; two runners on
// one store never run a job at the same time; a dead holder's lease runs out and its run is marked
// abandoned; a moved clock makes the jobs due; failures are kept without personal data; stop and a
// lost lease stop a run at its next safe point.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidValueError } from '../errors/errors.js';
import type { Job, JobContext } from './job.js';
import { JobsRunner } from './jobs.runner.js';
import type { VersionedClock } from './jobs.runner.js';
import { JobsRepository, RUNS_KEPT } from './jobs.repository.js';
import { openTestStore, skipReason, STORE_KINDS } from '../../test/support/stores.js';
import type { TestStore } from '../../test/support/stores.js';

const silent = { info() {}, warn() {} };

/** A register clock the test moves: each move is a new version, as RegisterClock's are. */
function testClock(at: number): VersionedClock & { move(ms: number): void } {
  let now = at;
  let version = 0;
  return {
    now: () => now,
    version: () => version,
    move(ms) {
      now += ms;
      version++;
    },
  };
}

/** A job that records each run's context and does what `body` says. */
function job(
  name: string,
  body: (ctx: JobContext) => void | Promise<void> = (ctx) => ctx.count('done'),
  intervalMs = 3_600_000,
): Job & { runs: JobContext[] } {
  const runs: JobContext[] = [];
  return {
    name,
    description: `the ${name} job`,
    intervalMs,
    runs,
    async run(ctx) {
      runs.push(ctx);
      await body(ctx);
    },
  };
}

/** Resolves once `signal` aborts, or after `ms`. */
function until(signal: AbortSignal, ms: number): Promise<void> {
  return sleep(ms, undefined, { signal }).catch(() => {});
}

for (const kind of STORE_KINDS) {
  describe(`the jobs' runner (${kind})`, { skip: await skipReason(kind) }, () => {
    let store: TestStore;
    let repository: JobsRepository;
    before(async () => {
      store = await openTestStore(kind);
      repository = new JobsRepository(store.db);
    });
    after(async () => store?.dispose());
    beforeEach(async () => {
      await store.db.query('delete from job_run');
      await store.db.query('delete from job_lease');
    });

    it('runs a due job, records its counts, and does not run it again within its interval', async () => {
      const clock = testClock(Date.UTC(2026, 0, 1));
      let real = Date.now();
      const counting = job('counting', (ctx) => {
        ctx.count('scanned', 40);
        ctx.count('scanned', 2);
        ctx.count('sent');
        assert.equal(ctx.clock.now(), Date.UTC(2026, 0, 1), "the job reads the register's clock");
      });
      const runner = new JobsRunner({
        db: store.db,
        clock,
        jobs: [counting],
        log: silent,
        realNow: () => real,
      });
      const [first] = await runner.runDue();
      assert.equal(first?.outcome, 'ok');
      const [last] = await repository.latest();
      assert.equal(last?.job, 'counting');
      assert.equal(last?.outcome, 'ok');
      assert.deepEqual(last?.counts, { scanned: 42, sent: 1 });
      assert.equal(last?.registerAt, Date.UTC(2026, 0, 1));
      assert.ok(last?.endedAt, 'the end is recorded');
      assert.equal(last?.error, null);
      assert.deepEqual(await repository.leases(), [], 'the lease is given up after the run');

      real += 3_599_000;
      assert.deepEqual(await runner.runDue(), [], 'not due within its interval (real time)');
      real += 2_000;
      assert.equal((await runner.runDue()).length, 1, 'due once the interval has passed');
      assert.equal(counting.runs.length, 2);
    });

    it('runs a job again at once when the register clock is moved', async () => {
      const clock = testClock(Date.UTC(2026, 0, 1));
      const moved = job('moved');
      const runner = new JobsRunner({ db: store.db, clock, jobs: [moved], log: silent });
      assert.equal((await runner.runDue()).length, 1);
      assert.deepEqual(await runner.runDue(), [], 'not due: the clock stands as it was');
      clock.move(16 * 30 * 86_400_000);
      const [again] = await runner.runDue();
      assert.equal(again?.outcome, 'ok', 'due: the clock was moved');
      assert.equal(moved.runs.at(-1)?.clock.now(), clock.now());
    });

    it('runs a job in one place at a time: the other runner finds it elsewhere', async () => {
      const clock = testClock(Date.UTC(2026, 0, 1));
      let inside = 0;
      let most = 0;
      const body = async (ctx: JobContext) => {
        inside++;
        most = Math.max(most, inside);
        await sleep(300);
        ctx.count('done');
        inside--;
      };
      const a = new JobsRunner({ db: store.db, clock, jobs: [job('shared', body)], log: silent });
      const b = new JobsRunner({ db: store.db, clock, jobs: [job('shared', body)], log: silent });
      assert.notEqual(a.holder, b.holder);
      const results = await Promise.all([a.runNow('shared'), b.runNow('shared')]);
      assert.deepEqual(results.map((r) => r.outcome).sort(), ['elsewhere', 'ok']);
      assert.equal(most, 1, 'never two runs at once');
      const runs = await repository.history('shared', 10);
      assert.equal(runs.length, 1, 'one run recorded');
    });

    it("takes a dead holder's job over once its lease runs out, and marks that run abandoned", async () => {
      const clock = testClock(Date.UTC(2026, 0, 1));
      // A process that took the lease, started a run, and was killed: nothing renews its lease.
      assert.ok(await repository.acquire('orphan', 'dead-host:1:aaaaaa', 400));
      const deadRun = await repository.start('orphan', 'dead-host:1:aaaaaa', clock.now(), 0);
      const orphan = job('orphan');
      const runner = new JobsRunner({ db: store.db, clock, jobs: [orphan], log: silent });
      assert.deepEqual(await runner.runDue(), [{ job: 'orphan', outcome: 'elsewhere' }]);
      assert.equal(orphan.runs.length, 0, 'not while the lease holds');
      await sleep(600);
      const [result] = await runner.runDue();
      assert.equal(result?.outcome, 'ok');
      const [newest, abandoned] = await repository.history('orphan', 10);
      assert.equal(newest?.outcome, 'ok');
      assert.equal(abandoned?.id, deadRun);
      assert.equal(abandoned?.outcome, 'abandoned');
      assert.ok(abandoned?.endedAt);
    });

    it('keeps a failure without personal data, and tries again after the retry wait', async () => {
      const clock = testClock(Date.UTC(2026, 0, 1));
      let real = Date.now();
      let fail: Error | undefined = new Error('duplicate key (personidentifikator)=(01017012345)');
      const failing = job('failing', (ctx) => {
        ctx.count('before');
        if (fail) throw fail;
      });
      const runner = new JobsRunner({
        db: store.db,
        clock,
        jobs: [failing],
        log: silent,
        retryMs: 60_000,
        realNow: () => real,
      });
      const [failed] = await runner.runDue();
      assert.equal(failed?.outcome, 'failed');
      const [last] = await repository.latest();
      assert.equal(last?.outcome, 'failed');
      assert.equal(last?.error, 'unexpected error (Error)', "a driver's message is not kept");
      assert.doesNotMatch(JSON.stringify(last), /01017012345/);
      assert.deepEqual(last?.counts, { before: 1 }, 'the counts up to the failure are kept');

      fail = new InvalidValueError('the event list answered 500');
      real += 59_000;
      assert.deepEqual(await runner.runDue(), [], 'not before the retry wait');
      real += 2_000;
      await runner.runDue();
      const [typed] = await repository.latest();
      assert.equal(
        typed?.error,
        'INVALID_VALUE: the event list answered 500',
        "a typed error's message is kept",
      );

      fail = undefined;
      real += 61_000;
      assert.equal((await runner.runDue())[0]?.outcome, 'ok');
    });

    it('stop() ends the run in progress at its next safe point, recorded as stopped', async () => {
      const clock = testClock(Date.UTC(2026, 0, 1));
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      const long = job('long', async (ctx) => {
        started();
        await until(ctx.signal, 30_000);
        ctx.count('pages', 3);
      });
      const runner = new JobsRunner({ db: store.db, clock, jobs: [long], log: silent });
      runner.start();
      await running;
      await runner.stop();
      const [last] = await repository.latest();
      assert.equal(last?.outcome, 'stopped');
      assert.deepEqual(last?.counts, { pages: 3 });
      assert.deepEqual(await repository.leases(), [], 'the lease is given up');
    });

    it('a run whose lease is taken from it is told so (signal and stillHolds) and stops', async () => {
      const clock = testClock(Date.UTC(2026, 0, 1));
      let holdsAtEnd: boolean | undefined;
      const robbed = job('robbed', async (ctx) => {
        assert.equal(ctx.stillHolds(), true);
        // The lease vanishes (an operator, or a store restored from a backup).
        await store.db.query('delete from job_lease');
        await until(ctx.signal, 20_000);
        holdsAtEnd = ctx.stillHolds();
      });
      const runner = new JobsRunner({ db: store.db, clock, jobs: [robbed], log: silent, leaseMs: 600 });
      const [result] = await runner.runDue();
      assert.equal(result?.outcome, 'stopped');
      assert.equal(holdsAtEnd, false);
      const [last] = await repository.latest();
      assert.equal(last?.error, 'the lease was lost');
    });

    it('shows the counts of a run in progress, renewed with its lease', async () => {
      const clock = testClock(Date.UTC(2026, 0, 1));
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const slow = job('slow', async (ctx) => {
        ctx.count('scanned', 7);
        await gate;
      });
      const runner = new JobsRunner({ db: store.db, clock, jobs: [slow], log: silent, leaseMs: 300 });
      const done = runner.runNow('slow');
      let seen: Readonly<Record<string, number>> | undefined;
      for (let i = 0; i < 100 && seen?.scanned !== 7; i++) {
        await sleep(50);
        seen = (await runner.states())[0]?.last?.counts;
      }
      const [state] = await runner.states();
      assert.equal(state?.last?.outcome, 'running');
      assert.equal(state?.lease?.holder, runner.holder);
      assert.deepEqual(seen, { scanned: 7 });
      release();
      assert.equal((await done).outcome, 'ok');
    });

    it(`keeps the newest ${RUNS_KEPT} runs of a job`, async () => {
      const clock = testClock(Date.UTC(2026, 0, 1));
      const runner = new JobsRunner({ db: store.db, clock, jobs: [job('often')], log: silent });
      const ids: number[] = [];
      for (let i = 0; i < RUNS_KEPT + 3; i++) {
        const r = await runner.runNow('often');
        if (r.outcome !== 'elsewhere') ids.push(r.runId);
      }
      const kept = await repository.history('often', 1000);
      assert.equal(kept.length, RUNS_KEPT);
      assert.deepEqual(
        kept.map((r) => r.id),
        ids.slice(-RUNS_KEPT).reverse(),
      );
    });

    it('refuses jobs with a bad or a repeated name', () => {
      const clock = testClock(0);
      assert.throws(() => new JobsRunner({ db: store.db, clock, jobs: [job('Bad name')], log: silent }));
      assert.throws(
        () => new JobsRunner({ db: store.db, clock, jobs: [job('twice'), job('twice')], log: silent }),
      );
    });
  });
}

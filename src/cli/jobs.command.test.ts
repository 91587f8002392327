// `krr jobs run --once` and `krr jobs status` (docs/jobs.md#running-them) on both stores: what
// they print, what they record, a job held by another process, and an unknown job.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/config.js';
import type { KrrConfig } from '../config/config.js';
import { ConfigError } from '../errors/errors.js';
import { JobsRepository } from '../jobs/jobs.repository.js';
import { openStore } from '../register/open-store.js';
import { copyEmptyEmbeddedStore, freshDatabase, skipReason, STORE_KINDS } from '../../test/support/stores.js';
import { jobsStatus, runJobs } from './jobs.command.js';

class Text extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.text += chunk.toString('utf8');
    done();
  }
}

for (const kind of STORE_KINDS) {
  describe(`krr jobs (${kind})`, { skip: await skipReason(kind) }, () => {
    let config: KrrConfig;
    let cleanup: () => Promise<void>;
    before(async () => {
      if (kind === 'postgres') {
        const database = await freshDatabase('krr_jobs_cli');
        config = loadConfig({ database: database.url, logLevel: 'silent' }, {});
        cleanup = database.cleanup;
      } else {
        const dir = await mkdtemp(join(tmpdir(), 'krr-jobs-cli-'));
        await copyEmptyEmbeddedStore(join(dir, 'data'));
        config = loadConfig({ dataDir: join(dir, 'data'), logLevel: 'silent' }, {});
        cleanup = () => rm(dir, { recursive: true, force: true });
      }
    });
    after(async () => cleanup?.());

    const status = async (json = false) => {
      const out = new Text();
      await jobsStatus(config, { json }, out);
      return out.text;
    };

    it('status before any run names each configured job as never run', async () => {
      const text = await status();
      assert.match(text, /^reminder: .+\n {2}idle; every 60 min\n {2}never run\n/m);
      assert.match(text, /^retention: .+\n {2}idle; every 60 min\n {2}never run\n/m);
    });

    it('run --once --job retention runs it now, prints its outcome and counts, and status shows the run', async () => {
      const out = new Text();
      const err = new Text();
      await runJobs(config, { once: true, job: ['retention'] }, out, err);
      assert.match(out.text, /^retention: ok \(.*deleted_messages=0.*\)\n$/);
      assert.match(err.text, /jobs: run started \(job=retention/);
      const text = await status();
      assert.match(
        text,
        /^retention: [^\n]+\n {2}idle; every 60 min\n {2}last run \S+, took [^:]+: ok\n {2}counts: .*deleted_messages=0/m,
      );
      assert.match(text, /^reminder: [^\n]+\n[^\n]+\n {2}never run\n/m, 'only the named job ran');
      const [json] = (
        JSON.parse(await status(true)) as { name: string; lastRun: { outcome: string } | null }[]
      ).filter((j) => j.name === 'retention');
      assert.equal(json?.lastRun?.outcome, 'ok');
    });

    it(
      'run --once reports a job another process holds, and does not run it',
      {
        skip:
          kind === 'embedded'
            ? "the embedded store is one process's: no other process can hold a lease"
            : false,
      },
      async () => {
        const db = await openStore(config.store);
        try {
          const repository = new JobsRepository(db);
          assert.ok(await repository.acquire('reminder', 'other-host:4242:abcdef', 60_000));
          const out = new Text();
          await runJobs(config, { once: true, job: ['reminder'] }, out, new Text());
          assert.equal(
            out.text,
            'reminder: running in another process (other-host:4242:abcdef); not run here\n',
          );
          assert.match(await status(), /^reminder: [^\n]+\n {2}running in other-host:4242:abcdef;/m);
          assert.deepEqual(await repository.history('reminder', 5), [], 'no run recorded');
          await repository.release('reminder', 'other-host:4242:abcdef');
        } finally {
          await db.close();
        }
      },
    );

    it('run --job with an unknown name names the configured jobs', async () => {
      await assert.rejects(
        runJobs(config, { once: true, job: ['reminders'] }, new Text(), new Text()),
        (e: unknown) =>
          e instanceof ConfigError &&
          /--job reminders: no such job is configured; the configured jobs are reminder, retention, audit-partitions/.test(
            e.message,
          ),
      );
    });
  });
}

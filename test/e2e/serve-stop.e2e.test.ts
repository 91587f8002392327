// `krr serve --ready-file` and stopping (docs/operations.md#ready-file, docs/operations.md#stopping),
// as real processes: the file appears once the server answers and holds its URL (with --port 0, the
// port chosen), a stale one is never taken for it, and it is gone once the server has stopped. A
// server started through npm (`npm start`) stops cleanly when the npm process is sent SIGTERM,
// and on Ctrl-C (SIGINT to the whole process group): afterwards its port is free and another
// process can open its embedded store.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/register/open-store.js';
import {
  closed,
  krr,
  krrArgv,
  plainEnv,
  portIsFree,
  readyFileUrl,
  ROOT,
  startKrr,
} from '../support/processes.js';
import { copyEmptyEmbeddedStore } from '../support/stores.js';

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'krr-stop-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A new directory with an empty embedded store in `data/`, and where its ready file goes. */
async function place(name: string): Promise<{ dir: string; data: string; readyFile: string }> {
  const dir = join(scratch, name);
  const data = join(dir, 'data');
  await copyEmptyEmbeddedStore(data);
  return { dir, data, readyFile: join(dir, 'krr.url') };
}

function collect(child: ChildProcess): () => string {
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (out += s));
  return () => out;
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * `npm start` in a package of its own whose start script runs this checkout's krr, as a project's
 * `"start": "krr serve ..."` would: npm runs it through `sh -c`.
 */
async function npmStart(dir: string, args: readonly string[], detached = false) {
  const argv = krrArgv(['serve', ...args]);
  const script = `cd ${shellQuote(ROOT)} && ${shellQuote(process.execPath)} ${argv.map(shellQuote).join(' ')}`;
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'agency-tests', version: '1.0.0', private: true, scripts: { start: script } }),
  );
  const child = spawn('npm', ['start'], {
    cwd: dir,
    env: plainEnv({ KRR_LOG_LEVEL: 'silent' }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached,
  });
  return { child, done: closed(child), output: collect(child) };
}

/** What a clean stop leaves: no ready file, no lock, a free port, a store another process can open. */
async function assertStoppedCleanly(place: { data: string; readyFile: string }, url: string, output: string) {
  assert.match(output, /krr stopped \(/, output);
  assert.equal(existsSync(place.readyFile), false, 'the ready file is still there');
  assert.equal(existsSync(join(place.data, 'krr.lock')), false, 'the store is still locked');
  assert.equal(await portIsFree(Number(new URL(url).port)), true, `${url} is still held`);
  const db = await openStore({ kind: 'embedded', dataDir: place.data });
  await db.close();
}

describe('krr serve --ready-file', () => {
  it('is written once the server answers, replaces a stale one, and is gone after SIGTERM (exit 0)', async () => {
    const p = await place('direct');
    const stale = 'http://127.0.0.1:1\n';
    await writeFile(p.readyFile, stale);
    const child = startKrr([
      'serve',
      '--dev',
      '--data-dir',
      p.data,
      '--port',
      '0',
      '--ready-file',
      p.readyFile,
    ]);
    const done = closed(child);
    const output = collect(child);
    let url: string;
    try {
      url = await readyFileUrl(p.readyFile, child, output, stale);
      // Asked once, at once: the file means the server answers.
      assert.equal((await fetch(`${url}/health/ready`)).status, 200);
    } finally {
      child.kill('SIGTERM');
    }
    const { code, signal } = await done;
    assert.equal(code, 0, `exited ${code} (${signal}): ${output()}`);
    assert.match(output(), /krr stopped \(SIGTERM\)/);
    await assertStoppedCleanly(p, url, output());
  });

  it('refuses a path whose directory does not exist, before it opens the store', async () => {
    const p = await place('missing-dir');
    const r = await krr([
      'serve',
      '--dev',
      '--data-dir',
      p.data,
      '--ready-file',
      join(p.dir, 'no', 'such', 'f'),
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--ready-file: the directory .*no\/such does not exist/);
  });
});

describe('krr serve started through npm', () => {
  it('stops cleanly when the npm process gets SIGTERM', async () => {
    const p = await place('npm-sigterm');
    const npm = await npmStart(p.dir, [
      '--dev',
      '--data-dir',
      p.data,
      '--port',
      '0',
      '--ready-file',
      p.readyFile,
    ]);
    try {
      const url = await readyFileUrl(p.readyFile, npm.child, npm.output);
      assert.equal((await fetch(`${url}/health/ready`)).status, 200);
      npm.child.kill('SIGTERM');
      // Every process that shares npm's output has ended, krr too.
      await npm.done;
      await assertStoppedCleanly(p, url, npm.output());
    } finally {
      if (npm.child.exitCode === null && npm.child.signalCode === null) npm.child.kill('SIGKILL');
    }
  });

  it('stops cleanly on Ctrl-C (SIGINT to the process group)', async () => {
    const p = await place('npm-sigint');
    const npm = await npmStart(
      p.dir,
      ['--dev', '--data-dir', p.data, '--port', '0', '--ready-file', p.readyFile],
      true,
    );
    try {
      const url = await readyFileUrl(p.readyFile, npm.child, npm.output);
      process.kill(-npm.child.pid!, 'SIGINT');
      // npm itself ends as after any Ctrl-C: its shell (dash) waits for krr, then ends itself by
      // SIGINT, and npm does the same; krr's own stop is what counts.
      await npm.done;
      assert.match(npm.output(), /krr stopped \(SIGINT\)/);
      await assertStoppedCleanly(p, url, npm.output());
    } finally {
      // What is left of the group, if the test failed before it ended.
      if (npm.child.exitCode === null && npm.child.signalCode === null)
        process.kill(-npm.child.pid!, 'SIGKILL');
    }
  });
});

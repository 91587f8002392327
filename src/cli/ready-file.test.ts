// The ready file's rules (docs/operations.md#ready-file) on a real directory: a stale file is
// removed before the server starts, the URL is written whole with nothing left beside it, and only
// a file that still holds this server's URL is removed at the end.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors/errors.js';
import { ReadyFile } from './ready-file.js';

const BASE_URL = 'http://127.0.0.1:41234';

describe('ReadyFile', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'krr-ready-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('removes a stale file at once, then writes the BASE_URL and a newline, and nothing beside it', async () => {
    const path = join(dir, 'stale.url');
    await writeFile(path, 'http://127.0.0.1:1\n');
    const file = await ReadyFile.prepare(path);
    assert.equal(existsSync(path), false);
    await file.write(BASE_URL);
    assert.equal(await readFile(path, 'utf8'), `${BASE_URL}\n`);
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.includes('stale')),
      ['stale.url'],
    );
    await file.remove(BASE_URL);
    assert.equal(existsSync(path), false);
  });

  it('leaves the file alone when another server has written it since', async () => {
    const path = join(dir, 'taken.url');
    const file = await ReadyFile.prepare(path);
    await file.write(BASE_URL);
    await writeFile(path, 'http://127.0.0.1:50000\n');
    await file.remove(BASE_URL);
    assert.equal(await readFile(path, 'utf8'), 'http://127.0.0.1:50000\n');
  });

  it('refuses a path in a directory that does not exist, and a directory', async () => {
    await assert.rejects(ReadyFile.prepare(join(dir, 'no', 'such.url')), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /--ready-file: the directory .*\/no does not exist/);
      return true;
    });
    await mkdir(join(dir, 'a-directory'));
    await assert.rejects(ReadyFile.prepare(join(dir, 'a-directory')), ConfigError);
  });
});

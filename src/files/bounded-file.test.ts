import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileReadError, readFileBounded, readFileBoundedAsync } from './bounded-file.js';

describe('readFileBounded', () => {
  const dir = mkdtempSync(join(tmpdir(), 'krr-files-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'f');
  writeFileSync(file, 'x'.repeat(100));

  for (const [name, read] of [
    ['sync', (p: string, max?: number) => new Promise<Buffer>((resolve) => resolve(readFileBounded(p, max)))],
    ['async', readFileBoundedAsync],
  ] as const) {
    it(`reads a file up to its ceiling, and no further (${name})`, async () => {
      assert.equal((await read(file, 100)).toString(), 'x'.repeat(100));
      await assert.rejects(
        read(file, 99),
        (e: unknown) =>
          e instanceof FileReadError && e.reason === 'larger than 99 bytes' && !e.message.includes('xxx'),
      );
    });
    it(`stops an endless device at the ceiling (${name})`, async () => {
      await assert.rejects(
        read('/dev/zero', 4096),
        (e: unknown) => e instanceof FileReadError && /larger than/.test(e.reason),
      );
    });
    it(`names a missing file's error code, not a stack (${name})`, async () => {
      await assert.rejects(
        read(join(dir, 'missing')),
        (e: unknown) => e instanceof FileReadError && e.reason === 'ENOENT',
      );
    });
  }
});

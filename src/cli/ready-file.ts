// `krr serve --ready-file PATH`: the signal a script waits for (docs/operations.md#ready-file). The
// file appears, whole, once the server answers, and holds its base URL and a newline; it is gone
// again once the server has stopped and released the store.

import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError } from '../errors/errors.js';

export class ReadyFile {
  private constructor(readonly path: string) {}

  /**
   * Checks that PATH can be written (its directory exists) and removes a file left there by an
   * earlier run that did not stop cleanly: a script must never take that one for this server's.
   */
  static async prepare(path: string): Promise<ReadyFile> {
    const absolute = resolve(path);
    const dir = dirname(absolute);
    const isDir = await stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDir) throw new ConfigError(`--ready-file: the directory ${dir} does not exist`);
    const existing = await stat(absolute).catch(() => undefined);
    if (existing?.isDirectory()) throw new ConfigError(`--ready-file: ${absolute} is a directory`);
    await rm(absolute, { force: true });
    return new ReadyFile(absolute);
  }

  /** Written to a temporary file beside it and renamed: a reader sees no file or the whole URL. */
  async write(url: string): Promise<void> {
    const temporary = join(
      dirname(this.path),
      `.${basename(this.path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
    );
    try {
      await writeFile(temporary, `${url}\n`, { mode: 0o644 });
      await rename(temporary, this.path);
    } catch (err) {
      await rm(temporary, { force: true });
      throw err;
    }
  }

  /** Removes the file if it still holds `url` (another server may have taken the path since). */
  async remove(url: string): Promise<void> {
    const content = await readFile(this.path, 'utf8').catch(() => undefined);
    if (content === `${url}\n`) await rm(this.path, { force: true });
  }
}

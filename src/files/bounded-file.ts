// Every file krr reads at an operator's word (a config file, a key, a certificate) is read through
// here, with a ceiling on its size: `--config /dev/zero` or a log file named by mistake must fail
// at once, not read until memory runs out. Messages name the file, never its content.
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';

/** The ceiling for a configuration, key or certificate file: far above any real one. */
export const SMALL_FILE_BYTES = 1024 * 1024;

export class FileReadError extends Error {
  constructor(
    readonly path: string,
    /** What went wrong, without the file's content: `ENOENT`, `larger than 1048576 bytes`, ... */
    readonly reason: string,
  ) {
    super(`cannot read ${path}: ${reason}`);
  }
}

function tooLarge(path: string, maxBytes: number): FileReadError {
  return new FileReadError(path, `larger than ${maxBytes} bytes`);
}

function failed(path: string, err: unknown): FileReadError {
  return err instanceof FileReadError
    ? err
    : new FileReadError(path, (err as NodeJS.ErrnoException).code ?? 'unreadable');
}

/** The file's bytes, at most `maxBytes` of them (more is an error); works on pipes and devices. */
export function readFileBounded(path: string, maxBytes = SMALL_FILE_BYTES): Buffer {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buffer = Buffer.allocUnsafe(maxBytes + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > maxBytes) throw tooLarge(path, maxBytes);
    }
    return Buffer.from(buffer.subarray(0, length));
  } catch (err) {
    throw failed(path, err);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** As readFileBounded, without blocking the event loop. */
export async function readFileBoundedAsync(path: string, maxBytes = SMALL_FILE_BYTES): Promise<Buffer> {
  try {
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.allocUnsafe(maxBytes + 1);
      let length = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
        if (bytesRead === 0) break;
        length += bytesRead;
        if (length > maxBytes) throw tooLarge(path, maxBytes);
      }
      return Buffer.from(buffer.subarray(0, length));
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw failed(path, err);
  }
}

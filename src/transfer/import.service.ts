import { ImportError } from '../errors/errors.js';
import type { PersonRules } from '../person/person.js';
import type { PersonWriter } from '../person/person.writer.js';
import { parseBlock } from './import.block.js';
import type { BlockResult } from './import.block.js';
import { ImportWorkerPool } from './import.workers.js';

export interface ImportProgress {
  /** Lines read so far (blank lines included). */
  readonly lines: number;
  readonly persons: number;
}

export interface ImportSummary {
  readonly persons: number;
  readonly lines: number;
  readonly seconds: number;
  /** Field paths the register does not know, with how many lines carried them (names only, never values). */
  readonly ignoredFields: ReadonlyMap<string, number>;
}

export interface ImportOptions {
  readonly rules: PersonRules;
  /** Lines per block when the input is given as lines (default 4000). */
  readonly batchSize?: number;
  /** Bytes per block when the input is given as bytes (default 2 MiB). */
  readonly blockBytes?: number;
  /**
   * Worker threads that check and render the lines (0: all on this thread, with `rules`). Workers
   * use `rules.allowSynthetic` and the register's own certificate check (isDerCertificate).
   */
  readonly workers?: number;
  readonly onProgress?: (progress: ImportProgress) => void;
}

/**
 * Imports JSON Lines (contract section 10), all or nothing: the whole file is one transaction, and
 * the first bad line aborts it with its line number and reason. A person may appear only once.
 * Messages name lines and fields, never identifiers or contact data.
 *
 * `lines` are single lines (e.g. a readline interface); `importPersonsFromBytes` takes raw bytes.
 */
export function importPersons(
  writer: PersonWriter,
  lines: AsyncIterable<string>,
  options: ImportOptions,
): Promise<ImportSummary> {
  // Listen before the transaction begins: a readline interface drops the lines it reads before
  // its iterator exists, and beginning the transaction takes a round trip to the store.
  const iterator = lines[Symbol.asyncIterator]();
  return run(writer, blocksOfLines(iterator, options.batchSize ?? 4000), options);
}

/** As `importPersons`, from the bytes of a file or a pipe (lines end with `\n`, optionally `\r\n`). */
export function importPersonsFromBytes(
  writer: PersonWriter,
  chunks: AsyncIterable<Uint8Array | string>,
  options: ImportOptions,
): Promise<ImportSummary> {
  const iterator = chunks[Symbol.asyncIterator]();
  return run(writer, blocksOfBytes(iterator, options.blockBytes ?? 2 << 20), options);
}

async function* blocksOfLines(lines: AsyncIterator<string>, size: number): AsyncGenerator<string> {
  let block: string[] = [];
  for (;;) {
    const next = await lines.next();
    if (next.done) break;
    block.push(next.value);
    if (block.length >= size) {
      yield block.join('\n');
      block = [];
    }
  }
  if (block.length > 0) yield block.join('\n');
}

/** Whole lines of about `size` bytes, without the newline that ends the block. */
async function* blocksOfBytes(
  chunks: AsyncIterator<Uint8Array | string>,
  size: number,
): AsyncGenerator<Uint8Array> {
  let parts: Buffer[] = [];
  let length = 0;
  for (;;) {
    const next = await chunks.next();
    if (next.done) break;
    const chunk =
      typeof next.value === 'string'
        ? Buffer.from(next.value, 'utf8')
        : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    parts.push(chunk);
    length += chunk.length;
    // Cut only where a line ends in this chunk (a very long line is not copied again and again).
    if (length < size || chunk.lastIndexOf(10) === -1) continue;
    const all = Buffer.concat(parts, length);
    const cut = all.lastIndexOf(10);
    yield all.subarray(0, cut);
    const rest = all.subarray(cut + 1);
    parts = rest.length > 0 ? [rest] : [];
    length = rest.length;
  }
  if (length > 0) {
    const all = Buffer.concat(parts, length);
    yield all[all.length - 1] === 10 ? all.subarray(0, all.length - 1) : all;
  }
}

interface BlockParser {
  parse(block: string | Uint8Array): Promise<BlockResult>;
  close(): Promise<void>;
}

async function run(
  writer: PersonWriter,
  blocks: AsyncGenerator<string | Uint8Array>,
  options: ImportOptions,
): Promise<ImportSummary> {
  const started = performance.now();
  const ignored = new Map<string, number>();
  const seen = new Map<string, number>();
  let lineNo = 0;
  let persons = 0;

  await writer.session(async (session) => {
    // Read under the write lock: the certificates that count as inherited while this import runs.
    const providerCertificates = await session.providerCertificates();
    const workers = options.workers ?? 0;
    const parser: BlockParser =
      workers > 0
        ? new ImportWorkerPool(workers, {
            allowSynthetic: options.rules.allowSynthetic,
            providerCertificates: [...providerCertificates],
          })
        : {
            parse: async (block) =>
              parseBlock(
                typeof block === 'string' ? block : Buffer.from(block).toString('utf8'),
                options.rules,
                providerCertificates,
              ),
            close: async () => {},
          };
    // Blocks are checked ahead (on the workers) while the store takes the ones before them; results
    // are taken in file order, so the first bad line in the file is the one reported.
    const ahead = Math.max(2, workers * 3);
    const bulk = session.bulk();
    const pending: Promise<BlockResult>[] = [];
    let writing: Promise<void> = Promise.resolve();

    const take = async (result: BlockResult) => {
      for (let i = 0; i < result.identifiers.length; i++) {
        const pid = result.identifiers[i]!;
        const line = lineNo + result.personLines[i]!;
        const earlier = seen.get(pid);
        if (earlier !== undefined) {
          throw new ImportError(
            `line ${line}: the same personidentifikator as line ${earlier}; a person may appear once`,
          );
        }
        seen.set(pid, line);
      }
      if (result.problem)
        throw new ImportError(`line ${lineNo + result.problem.line}: ${result.problem.reason}`);
      for (const [field, n] of result.ignored) ignored.set(field, (ignored.get(field) ?? 0) + n);
      lineNo += result.lines;
      persons += result.identifiers.length;
      // One block is written while the next ones are checked: the store and the parsers overlap.
      await writing;
      writing = bulk.write(result.tuples, result.identifiers);
      writing.catch(() => {}); // awaited below; this only keeps it from being "unhandled" meanwhile
      options.onProgress?.({ lines: lineNo, persons });
    };

    try {
      for (;;) {
        const next = await blocks.next();
        if (next.done) break;
        const parsed = parser.parse(next.value);
        parsed.catch(() => {}); // taken in order below
        pending.push(parsed);
        if (pending.length >= ahead) await take(await pending.shift()!);
      }
      while (pending.length > 0) await take(await pending.shift()!);
      await writing;
      await bulk.finish();
    } finally {
      // Never leave the transaction with a write still running, also when a line was bad.
      await writing.catch(() => {});
      await parser.close();
    }
  });

  return { persons, lines: lineNo, seconds: (performance.now() - started) / 1000, ignoredFields: ignored };
}

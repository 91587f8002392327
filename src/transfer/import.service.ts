import { ImportError } from '../errors/errors.js';
import type { PersonRules } from '../person/person.js';
import type { PersonWriter } from '../register/person.writer.js';
import { parseBlockOf } from './import.block.js';
import type { BlockResult, ImportNote } from './import.block.js';
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
  /**
   * Notes on valid lines (docs/import-export.md#notes), in line order, line numbers in the whole
   * input, at most MAX_IMPORT_NOTES of them; `noteCount` counts them all.
   */
  readonly notes: readonly ImportNote[];
  readonly noteCount: number;
}

/** An import keeps at most this many notes to show (their count is kept whole). */
export const MAX_IMPORT_NOTES = 100;

/** A bad line (docs/import-export.md#all-or-nothing): where it is, for an error body's pointer. */
export class ImportLineError extends ImportError {
  constructor(
    message: string,
    /** 1-based, in the whole input. */
    readonly line: number,
    /** The first problem's place in the line (a JSON Pointer), when it has one. */
    readonly pointer: string | undefined,
    /** Whether the line is well-formed JSON whose values are wrong (422), not malformed (400). */
    readonly invalidValue: boolean,
  ) {
    super(message);
  }
}

export interface ImportOptions {
  readonly rules: PersonRules;
  /** Lines per block when the input is given as lines (default 4000). */
  readonly batchSize?: number;
  /** Bytes per block when the input is given as bytes (default 2 MiB). */
  readonly blockBytes?: number;
  /**
   * Worker threads that check and render the lines (0: all on this thread, with `rules`). Workers
   * use `rules.allowSynthetic` and the register's own certificate check (isEncryptionCertificate).
   */
  readonly workers?: number;
  readonly onProgress?: (progress: ImportProgress) => void;
}

/**
 * Imports JSON Lines (docs/import-export.md#format), all or nothing: the whole file is one transaction, and
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
  return run(writer, blocksOfBytes(iterator, options.blockBytes ?? BLOCK_BYTES), options);
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

/** `parts` joined, in memory of their own (never a slice of Node's shared pool). */
function ownMemory(parts: readonly Buffer[], length: number): Buffer {
  const all = Buffer.allocUnsafeSlow(length);
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return all;
}

/** The import's default block: about this many bytes of whole lines. */
export const BLOCK_BYTES = 2 << 20;

/**
 * Whole lines of about `size` bytes, without the newline that ends the block. Each block is a view
 * of memory of its own, which nothing else refers to.
 */
export async function* blocksOfBytes(
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
    const all = ownMemory(parts, length);
    const cut = all.lastIndexOf(10);
    // The rest is copied out: the block's memory moves to a worker thread.
    const rest = Buffer.from(all.subarray(cut + 1));
    yield all.subarray(0, cut);
    parts = rest.length > 0 ? [rest] : [];
    length = rest.length;
  }
  if (length > 0) {
    const all = ownMemory(parts, length);
    yield all[all.length - 1] === 10 ? all.subarray(0, all.length - 1) : all;
  }
}

/**
 * The identifiers taken so far, as numbers in file order with their lines, checked for
 * duplicates across blocks only when asked (each block has none within it): a native sort of a
 * copy instead of a Map of strings that grows with the file.
 */
class TakenIdentifiers {
  private pids = new Float64Array(1 << 16);
  private lines = new Float64Array(1 << 16);
  private count = 0;

  add(pids: Float64Array, personLines: readonly number[], lineOffset: number): void {
    if (this.count + pids.length > this.pids.length) {
      const capacity = Math.max(this.pids.length * 2, this.count + pids.length);
      const biggerPids = new Float64Array(capacity);
      const biggerLines = new Float64Array(capacity);
      biggerPids.set(this.pids.subarray(0, this.count));
      biggerLines.set(this.lines.subarray(0, this.count));
      this.pids = biggerPids;
      this.lines = biggerLines;
    }
    this.pids.set(pids, this.count);
    for (let i = 0; i < pids.length; i++) this.lines[this.count + i] = lineOffset + personLines[i]!;
    this.count += pids.length;
  }

  /** The first line (in file order) whose person is on an earlier line, with that earlier line. */
  firstDuplicate(): { line: number; earlier: number } | undefined {
    const sorted = this.pids.slice(0, this.count).sort();
    let any = false;
    for (let i = 1; i < sorted.length && !any; i++) any = sorted[i] === sorted[i - 1];
    if (!any) return undefined;
    // Rare (the import fails): find which one, in file order.
    const lineOf = new Map<number, number>();
    for (let i = 0; i < this.count; i++) {
      const earlier = lineOf.get(this.pids[i]!);
      if (earlier !== undefined) return { line: this.lines[i]!, earlier };
      lineOf.set(this.pids[i]!, this.lines[i]!);
    }
    return undefined;
  }
}

function duplicateError(line: number, earlier: number): ImportError {
  return new ImportLineError(
    `line ${line}: the same personidentifikator as line ${earlier}; a person may appear once`,
    line,
    '/personidentifikator',
    true,
  );
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
  const taken = new TakenIdentifiers();
  let lineNo = 0;
  let persons = 0;
  const notes: ImportNote[] = [];
  let noteCount = 0;

  await writer.session(
    async (session) => {
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
              // eslint-disable-next-line @typescript-eslint/require-await -- async: what parseBlockOf throws is this block's rejection, taken in order like the workers'
              parse: async (block) => parseBlockOf(block, options.rules, providerCertificates),
              close: async () => {},
            };
      // Blocks are checked ahead (on the workers) while the store takes the ones before them; results
      // are taken in file order, so the first bad line in the file is the one reported.
      const ahead = Math.max(2, workers * 3);
      const bulk = session.bulk();
      const pending: Promise<BlockResult>[] = [];
      let writing: Promise<void> = Promise.resolve();

      // Duplicates across blocks are looked for at the end (before the indexes are made again) and
      // when a block stops early, so the first offending line in the file is still the one named.
      // Until then a repeated person is written twice: harmless, as the whole import is then undone.
      const take = async (result: BlockResult) => {
        taken.add(result.pids, result.personLines, lineNo);
        const problem = result.problem;
        if (problem) {
          const duplicate = taken.firstDuplicate();
          if (duplicate) throw duplicateError(duplicate.line, duplicate.earlier);
          if (problem.duplicateOf !== undefined)
            throw duplicateError(lineNo + problem.line, lineNo + problem.duplicateOf);
          throw new ImportLineError(
            `line ${lineNo + problem.line}: ${problem.reason}`,
            lineNo + problem.line,
            problem.pointer,
            problem.invalidValue ?? false,
          );
        }
        for (const [field, n] of result.ignored) ignored.set(field, (ignored.get(field) ?? 0) + n);
        noteCount += result.noteCount;
        for (const note of result.notes) {
          if (notes.length >= MAX_IMPORT_NOTES) break;
          notes.push({ ...note, line: lineNo + note.line });
        }
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
        const duplicate = taken.firstDuplicate();
        if (duplicate) throw duplicateError(duplicate.line, duplicate.earlier);
        await bulk.finish();
      } finally {
        // Never leave the transaction with a write still running, also when a line was bad.
        await writing.catch(() => {});
        await parser.close();
      }
      // Long work: a whole file in one transaction (docs/operations.md#timeouts).
    },
    { long: true },
  );

  return {
    persons,
    lines: lineNo,
    seconds: (performance.now() - started) / 1000,
    ignoredFields: ignored,
    notes,
    noteCount,
  };
}

import { ImportError } from '../errors/errors.js';
import type { Person, PersonRules } from '../person/person.js';
import { parsePerson } from '../person/person.js';
import type { PersonWriter } from '../person/person.writer.js';

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
  readonly batchSize?: number;
  readonly onProgress?: (progress: ImportProgress) => void;
}

/**
 * Imports JSON Lines (contract section 10), all or nothing: the whole file is one transaction, and
 * the first bad line aborts it with its line number and reason. A person may appear only once.
 * Messages name lines and fields, never identifiers or contact data.
 */
export async function importPersons(
  writer: PersonWriter,
  lines: AsyncIterable<string>,
  options: ImportOptions,
): Promise<ImportSummary> {
  const started = performance.now();
  const batchSize = options.batchSize ?? 2000;
  const ignored = new Map<string, number>();
  const seen = new Map<string, number>();
  let lineNo = 0;
  let persons = 0;

  // Listen before the transaction begins: a readline interface drops the lines it reads before
  // its iterator exists, and beginning the transaction takes a round trip to the store.
  const iterator = lines[Symbol.asyncIterator]();
  const source: AsyncIterable<string> = { [Symbol.asyncIterator]: () => iterator };

  await writer.session(async (session) => {
    let batch: Person[] = [];
    // One batch is written while the next is parsed: the store and the parser overlap.
    let inFlight: Promise<void> = Promise.resolve();
    const flush = async () => {
      await inFlight;
      inFlight = session.write(batch);
      inFlight.catch(() => {}); // awaited below; this only keeps it from being "unhandled" meanwhile
      batch = [];
      options.onProgress?.({ lines: lineNo, persons });
    };
    try {
      for await (const raw of source) {
        lineNo++;
        const line = raw.trim();
        if (line === '') continue;
        let json: unknown;
        try {
          json = JSON.parse(line);
        } catch {
          throw new ImportError(`line ${lineNo}: not valid JSON`);
        }
        const parsed = parsePerson(json, options.rules);
        if (!parsed.ok) {
          const first = parsed.problems[0]!;
          const where = first.pointer ? ` at ${first.pointer}` : '';
          const more =
            parsed.problems.length > 1
              ? ` (and ${parsed.problems.length - 1} more problem(s) on this line)`
              : '';
          throw new ImportError(`line ${lineNo}: ${first.detail}${where}${more}`);
        }
        for (const field of parsed.ignoredFields) ignored.set(field, (ignored.get(field) ?? 0) + 1);
        const pid = parsed.value.personidentifikator;
        const earlier = seen.get(pid);
        if (earlier !== undefined) {
          throw new ImportError(
            `line ${lineNo}: the same personidentifikator as line ${earlier}; a person may appear once`,
          );
        }
        seen.set(pid, lineNo);
        batch.push(parsed.value);
        persons++;
        if (batch.length >= batchSize) await flush();
      }
      await flush();
    } finally {
      // Never leave the transaction with a write still running, also when a line was bad.
      await inFlight.catch(() => {});
    }
    await inFlight;
  });

  return { persons, lines: lineNo, seconds: (performance.now() - started) / 1000, ignoredFields: ignored };
}

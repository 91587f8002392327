// One block of import lines checked and rendered for the bulk write path: the work an import
// spreads over worker threads. Pure code (no driver, no I/O), also run on the main thread.

import { CopyTuples } from '../register/person.columns.js';
import { parsePerson } from '../person/person.js';
import type { PersonRules } from '../person/person.js';
import { renderForWrite } from '../register/person.prepare.js';

/** Where a block stopped: a line number inside the block (1-based) and the reason, without values. */
export interface BlockProblem {
  readonly line: number;
  readonly reason: string;
  /** When the line's person is already on an earlier line of the block: that line (1-based). */
  readonly duplicateOf?: number;
}

export interface BlockResult {
  /** Lines in the block, blank ones included. */
  readonly lines: number;
  /** The persons' identifiers in line order (for the store's split). */
  readonly identifiers: string[];
  /**
   * The same identifiers as numbers (11 digits fit a double exactly), for the duplicate check
   * across blocks: no two are equal (the block stops at a person it already has).
   */
  readonly pids: Float64Array;
  /** Each person's line inside the block (1-based). */
  readonly personLines: number[];
  /** One binary COPY tuple per person (person.columns.ts), in the same order. */
  readonly tuples: Uint8Array;
  /** Field paths the register does not know, with how many lines carried them. */
  readonly ignored: [string, number][];
  /** The block's first bad line; the persons above hold only the lines before it. */
  readonly problem?: BlockProblem;
}

/** The reason for a line's first problem (names fields, never values). */
function problemText(problems: readonly { pointer: string; detail: string }[]): string {
  const first = problems[0]!;
  const where = first.pointer ? ` at ${first.pointer}` : '';
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem(s) on this line)` : '';
  return `${first.detail}${where}${more}`;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * `parseBlock` over a block as the file holds it (bytes, or text already decoded). Bytes must be
 * UTF-8: a line that is not is the block's problem, not text with U+FFFD in it
 * (docs/import-export.md#lines).
 */
export function parseBlockOf(
  block: string | Uint8Array,
  rules: PersonRules,
  providerCertificates: ReadonlyMap<string, string>,
): BlockResult {
  if (typeof block === 'string') return parseBlock(block, rules, providerCertificates);
  try {
    return parseBlock(UTF8.decode(block), rules, providerCertificates);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
  }
  // The first line that does not decode; the lines before it are checked as usual, so that an
  // earlier bad line is still the one reported.
  let start = 0;
  let line = 1;
  for (;;) {
    const end = block.indexOf(10, start);
    const stop = end === -1 ? block.length : end;
    try {
      UTF8.decode(block.subarray(start, stop));
    } catch {
      break;
    }
    start = stop + 1;
    line++;
  }
  const before = parseBlock(UTF8.decode(block.subarray(0, start)), rules, providerCertificates);
  return before.problem ? before : { ...before, problem: { line, reason: 'not valid UTF-8' } };
}

/**
 * Checks and renders the lines of `text` (lines joined by `\n`) until the first bad one, as the
 * write path would (`renderForWrite` with the providers' certificates).
 */
export function parseBlock(
  text: string,
  rules: PersonRules,
  providerCertificates: ReadonlyMap<string, string>,
): BlockResult {
  const lines = text.split('\n');
  const identifiers: string[] = [];
  const personLines: number[] = [];
  const ignored = new Map<string, number>();
  const lineOf = new Map<number, number>(); // identifier -> its line in the block
  const tuples = new CopyTuples(text.length);
  let problem: BlockProblem | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      problem = { line: i + 1, reason: 'not valid JSON' };
      break;
    }
    const parsed = parsePerson(json, rules);
    if (!parsed.ok) {
      problem = { line: i + 1, reason: problemText(parsed.problems) };
      break;
    }
    const pid = parsed.value.personidentifikator;
    const earlier = lineOf.get(Number(pid));
    if (earlier !== undefined) {
      problem = {
        line: i + 1,
        reason: 'the same personidentifikator as an earlier line',
        duplicateOf: earlier,
      };
      break;
    }
    lineOf.set(Number(pid), i + 1);
    for (const field of parsed.ignoredFields) ignored.set(field, (ignored.get(field) ?? 0) + 1);
    identifiers.push(pid);
    personLines.push(i + 1);
    tuples.add(renderForWrite(parsed.value, providerCertificates));
  }
  return {
    lines: lines.length,
    identifiers,
    pids: Float64Array.from(identifiers, Number),
    personLines,
    tuples: tuples.finish(),
    ignored: [...ignored],
    ...(problem ? { problem } : {}),
  };
}

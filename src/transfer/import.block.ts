// One block of import lines checked and rendered for the bulk write path: the work an import
// spreads over worker threads. Pure code (no driver, no I/O), also run on the main thread.

import { CopyTuples } from '../register/person.columns.js';
import { parsePerson } from '../person/person.js';
import type { Person, PersonRules } from '../person/person.js';
import { renderForWrite } from '../register/person.prepare.js';

/** Where a block stopped: a line number inside the block (1-based) and the reason, without values. */
export interface BlockProblem {
  readonly line: number;
  readonly reason: string;
  /** When the line's person is already on an earlier line of the block: that line (1-based). */
  readonly duplicateOf?: number;
  /** The first problem's place in the line (a JSON Pointer). */
  readonly pointer?: string;
  /** Well-formed JSON with a value the register refuses (422), not a malformed line (400). */
  readonly invalidValue?: boolean;
}

/**
 * What a tester would not expect of a line that is valid (docs/import-export.md#notes): said, not
 * refused. `line` is 1-based within the block; `pointer` the field in the line; no values.
 */
export interface ImportNote {
  readonly line: number;
  readonly pointer: string;
  readonly detail: string;
}

/** A block keeps at most this many notes (their count is kept whole). */
export const MAX_NOTES_PER_BLOCK = 100;

export const NOTE_CHANNEL_WITHOUT_TIME =
  'the channel has neither _oppdatert nor _sist_verifisert: it counts as never confirmed, so it never makes the person KAN_VARSLES';
export const NOTE_UNREGISTERED_PROVIDER =
  'no mailbox provider with this organisation number is registered (krr providers add) and the person has no certificate of their own: the answer carries no certificate';

const NO_NOTES: readonly ImportNote[] = [];

/** The notes for one valid person (docs/import-export.md#notes), `line` as given. */
export function notesFor(
  p: Person,
  providerCertificates: ReadonlyMap<string, string>,
  line: number,
): readonly ImportNote[] {
  // Checked without allocating: an import calls this for each of millions of persons.
  const k = p.kontaktinformasjon;
  const epost =
    k?.epostadresse !== undefined &&
    k.epostadresse_oppdatert === undefined &&
    k.epostadresse_sist_verifisert === undefined;
  const mobil =
    k?.mobiltelefonnummer !== undefined &&
    k.mobiltelefonnummer_oppdatert === undefined &&
    k.mobiltelefonnummer_sist_verifisert === undefined;
  // A person with a certificate of their own shows it whatever the provider: nothing unexpected.
  const mailbox =
    p.digital_post !== undefined &&
    p.sertifikat === undefined &&
    !providerCertificates.has(p.digital_post.postkasseleverandoeradresse);
  if (!epost && !mobil && !mailbox) return NO_NOTES;
  const notes: ImportNote[] = [];
  if (epost)
    notes.push({ line, pointer: '/kontaktinformasjon/epostadresse', detail: NOTE_CHANNEL_WITHOUT_TIME });
  if (mobil)
    notes.push({
      line,
      pointer: '/kontaktinformasjon/mobiltelefonnummer',
      detail: NOTE_CHANNEL_WITHOUT_TIME,
    });
  if (mailbox)
    notes.push({
      line,
      pointer: '/digital_post/postkasseleverandoeradresse',
      detail: NOTE_UNREGISTERED_PROVIDER,
    });
  return notes;
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
  /** Notes on valid lines, at most MAX_NOTES_PER_BLOCK of them. */
  readonly notes: ImportNote[];
  /** How many notes the block had, kept or not. */
  readonly noteCount: number;
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
  const notes: ImportNote[] = [];
  let noteCount = 0;
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
      const first = parsed.problems[0]!;
      problem = {
        line: i + 1,
        reason: problemText(parsed.problems),
        pointer: first.pointer,
        invalidValue: !parsed.problems.some((p) => p.shape),
      };
      break;
    }
    const pid = parsed.value.personidentifikator;
    const earlier = lineOf.get(Number(pid));
    if (earlier !== undefined) {
      problem = {
        line: i + 1,
        reason: 'the same personidentifikator as an earlier line',
        duplicateOf: earlier,
        pointer: '/personidentifikator',
        invalidValue: true,
      };
      break;
    }
    lineOf.set(Number(pid), i + 1);
    for (const field of parsed.ignoredFields) ignored.set(field, (ignored.get(field) ?? 0) + 1);
    identifiers.push(pid);
    personLines.push(i + 1);
    for (const note of notesFor(parsed.value, providerCertificates, i + 1)) {
      noteCount++;
      if (notes.length < MAX_NOTES_PER_BLOCK) notes.push(note);
    }
    tuples.add(renderForWrite(parsed.value, providerCertificates));
  }
  return {
    lines: lines.length,
    identifiers,
    pids: Float64Array.from(identifiers, Number),
    personLines,
    tuples: tuples.finish(),
    ignored: [...ignored],
    notes,
    noteCount,
    ...(problem ? { problem } : {}),
  };
}

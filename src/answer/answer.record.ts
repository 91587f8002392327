// A person's lookup answer, rendered when the person is written and read back as bytes: one text
// value per person (column person.lookup) that a lookup slices and copies, never parses as JSON.
//
// Layout: `<kind>|<basis>|<flip>|<baseEndsAt>|<kontaktEndsAt>|<digitalPostEndsAt>|<body>`, where body is the answer for every group
// without varslingsstatus and without sertifikat:
//   `{` base  [`,"kontaktinformasjon":{...}`]  [`,"digital_post":{...}`]  [`,"spraak":...`]  `}`
// and the three offsets are the bytes in body where base, kontaktinformasjon and digital_post end.
// kind is `V` when varslingsstatus depends on the clock (AKTIV, not reserved, a confirmed channel;
// basis and flip are then epoch milliseconds), `N` when it is KAN_IKKE_VARSLES whatever the clock.
// The certificate is not in the record: a person without one of their own shows their provider's,
// which can change without the person being rewritten.

import type { RenderedPerson } from './answer.render.js';
import { flipOf } from '../freshness/freshness.js';
import type { EpochMs } from '../time/oslo-time.js';

export type LookupRecordSource = Pick<
  RenderedPerson,
  | 'status'
  | 'reserved'
  | 'varslingBasis'
  | 'base'
  | 'epost'
  | 'mobil'
  | 'epostKey'
  | 'mobilKey'
  | 'digitalPost'
  | 'spraak'
>;

/** The record text for person.lookup (`writeLookupRecord`'s bytes as text). Offsets count UTF-8 bytes. */
export function encodeLookupRecord(p: LookupRecordSource, flip = flipOf(p)): string {
  const out = Buffer.allocUnsafe(lookupRecordMaxBytes(p));
  return out.toString('utf8', 0, writeLookupRecord(out, 0, p, flip));
}

const KONTAKT_OPEN = ',"kontaktinformasjon":{';

// Room left for the header when a record is written into a buffer: `V|` and two epoch
// milliseconds of at most 16 characters each, three offsets of at most 10 digits, six bars.
const HEADER_ROOM = 2 + 16 + 1 + 16 + 1 + 3 * 11;

/** At most how many bytes `writeLookupRecord` writes for `p`. */
export function lookupRecordMaxBytes(p: LookupRecordSource): number {
  // UTF-8 takes at most 3 bytes per UTF-16 unit; the fixed text is ASCII.
  const parts =
    p.base.length +
    (p.epost?.length ?? 0) +
    (p.mobil?.length ?? 0) +
    (p.digitalPost?.length ?? 0) +
    (p.spraak?.length ?? 0);
  return HEADER_ROOM + KONTAKT_OPEN.length + 8 + 3 * parts;
}

/**
 * `encodeLookupRecord(p, flip)` as UTF-8 at `out[at]`, which has room for `lookupRecordMaxBytes(p)`;
 * returns the bytes written. Writes the fragments themselves instead of joining them into one text
 * first: an import writes millions of records, and each joined text was garbage at once.
 */
export function writeLookupRecord(
  out: Buffer,
  at: number,
  p: LookupRecordSource,
  flip: EpochMs | null,
): number {
  // The body goes after room for the header, whose offsets are known only once the body is written;
  // the body then moves back to right after the header.
  const start = at + HEADER_ROOM;
  let i = start;
  out[i++] = 0x7b; // {
  i += out.write(p.base, i, 'utf8');
  const baseEndsAt = i - start;
  if (p.epost !== null || p.mobil !== null) {
    i += out.write(KONTAKT_OPEN, i, 'latin1');
    if (p.epost !== null) i += out.write(p.epost, i, 'utf8');
    if (p.mobil !== null) {
      if (p.epost !== null) out[i++] = 0x2c; // ,
      i += out.write(p.mobil, i, 'utf8');
    }
    out[i++] = 0x7d; // }
  }
  const kontaktEndsAt = i - start;
  if (p.digitalPost !== null) {
    out[i++] = 0x2c;
    i += out.write(p.digitalPost, i, 'utf8');
  }
  const digitalPostEndsAt = i - start;
  if (p.spraak !== null) {
    out[i++] = 0x2c;
    i += out.write(p.spraak, i, 'utf8');
  }
  out[i++] = 0x7d;
  const header =
    flip === null
      ? `N|||${baseEndsAt}|${kontaktEndsAt}|${digitalPostEndsAt}|`
      : `V|${p.varslingBasis}|${flip}|${baseEndsAt}|${kontaktEndsAt}|${digitalPostEndsAt}|`;
  const h = out.write(header, at, 'latin1');
  out.copyWithin(at + h, start, i);
  return h + (i - start);
}

/** The rendered fragments a record holds (as in RenderedPerson), cut back out of its text. */
export type LookupRecordParts = Pick<RenderedPerson, 'base' | 'epost' | 'mobil' | 'digitalPost' | 'spraak'>;

// Where the mobile channel's members begin inside kontaktinformasjon. A quote inside a JSON string
// is always escaped, so `,"mobiltelefonnummer` is never part of the e-mail channel's values.
const MOBIL_AFTER_EPOST = ',"mobiltelefonnummer';
const MOBIL_FIRST = '"mobiltelefonnummer';

/**
 * The inverse of `encodeLookupRecord`: the fragments of the person's answer (the store keeps them
 * only in the record), cut where `decodeLookupRecord` cuts them. For the readers that work with
 * fragments (the change feed, the export); a lookup copies the record's bytes instead.
 */
export function partsOfLookupRecord(record: string): LookupRecordParts {
  const r = decodeLookupRecord(Buffer.from(record), null);
  const kontakt = kontaktOf(r);
  let epost: string | null = null;
  let mobil: string | null = null;
  if (kontakt.length > 0) {
    const members = kontakt.toString('utf8', KONTAKT_OPEN.length, kontakt.length - 1);
    if (members.startsWith(MOBIL_FIRST)) mobil = members;
    else {
      const split = members.indexOf(MOBIL_AFTER_EPOST);
      epost = split === -1 ? members : members.slice(0, split);
      mobil = split === -1 ? null : members.slice(split + 1);
    }
  }
  // Each fragment after the base starts with its comma.
  const digitalPost = digitalPostOf(r);
  const spraak = spraakOf(r);
  return {
    base: r.bytes.toString('utf8', r.headAt + 1, headEnd(r)),
    epost,
    mobil,
    digitalPost: digitalPost.length > 0 ? digitalPost.toString('utf8', 1) : null,
    spraak: spraak.length > 0 ? spraak.toString('utf8', 1) : null,
  };
}

/**
 * A decoded record: where the parts of the answer lie in `bytes`, ready to be copied into an
 * answer. Ranges rather than slices: a lookup of 1000 uncached persons decodes 1000 records, and
 * a view object per part was a third of that work (and of its garbage). The common full view is
 *   head, varslingsstatus, middle, [`,` sertifikat], tail
 * and narrower views cut kontaktinformasjon, digital_post and spraak out of the same ranges.
 */
export interface LookupRecord {
  readonly personidentifikator: string;
  /** False: KAN_IKKE_VARSLES whatever the clock. */
  readonly dependsOnClock: boolean;
  readonly basis: EpochMs;
  readonly flip: EpochMs;
  /** Where base, kontaktinformasjon and digital_post end in the body (`head` + `middle` + `tail`). */
  readonly baseEndsAt: number;
  readonly kontaktEndsAt: number;
  readonly digitalPostEndsAt: number;
  /** The bytes the parts lie in (a store row, or a cache slab). */
  readonly bytes: Buffer;
  /** `{` and the base members: `baseEndsAt` bytes from here. */
  readonly headAt: number;
  /** kontaktinformasjon and digital_post (with leading commas), or nothing: `digitalPostEndsAt - baseEndsAt` bytes from here. */
  readonly middleAt: number;
  /** spraak (with a leading comma) if any, and the closing brace: from here to `end`. */
  readonly tailAt: number;
  readonly end: number;
  /** `"sertifikat":"..."` (own or the provider's), or null. */
  readonly sertifikat: Buffer | null;
}

// Where the parts end, in `bytes`: the one place their offsets are worked out, for the answer
// builder's ranges and the views below alike.
/** The end of `{` and the base members (from headAt). */
export const headEnd = (r: LookupRecord) => r.headAt + r.baseEndsAt;
/** The end of kontaktinformasjon, where digital_post begins (from middleAt). */
export const kontaktEnd = (r: LookupRecord) => r.middleAt + (r.kontaktEndsAt - r.baseEndsAt);
/** The end of digital_post, and of the middle (from middleAt). */
export const middleEnd = (r: LookupRecord) => r.middleAt + (r.digitalPostEndsAt - r.baseEndsAt);
/** The end of spraak, before the closing brace (from tailAt). */
export const spraakEnd = (r: LookupRecord) => r.end - 1;

/** `{` and the base members. */
export const headOf = (r: LookupRecord) => r.bytes.subarray(r.headAt, headEnd(r));
/** spraak (with a leading comma) if any, and the closing brace. */
export const tailOf = (r: LookupRecord) => r.bytes.subarray(r.tailAt, r.end);
/** `,"kontaktinformasjon":{...}` or empty. */
export const kontaktOf = (r: LookupRecord) => r.bytes.subarray(r.middleAt, kontaktEnd(r));
/** `,"digital_post":{...}` or empty. */
export const digitalPostOf = (r: LookupRecord) => r.bytes.subarray(kontaktEnd(r), middleEnd(r));
/** `,"spraak":...` or empty. */
export const spraakOf = (r: LookupRecord) => r.bytes.subarray(r.tailAt, spraakEnd(r));

const BAR = 0x7c;
/** decodeLookupRecord's scratch space, used again by each call (it never yields mid-way). */
const HEADER_NUMBERS = new Float64Array(5);
const PID_START = '{"personidentifikator":"'.length;

/**
 * Decodes a record. The ranges are in `record`'s memory (the cache copies what it keeps).
 */
export function decodeLookupRecord(record: Buffer, sertifikat: Buffer | null): LookupRecord {
  // The header `V|basis|flip|baseEndsAt|kontaktEndsAt|digitalPostEndsAt|`, read in one pass into scratch space (no tuple per number).
  const numbers = HEADER_NUMBERS;
  let i = 2;
  for (let n = 0; n < 5; n++) {
    let value = 0;
    for (let byte = record[i]!; byte !== BAR; byte = record[++i]!) value = value * 10 + (byte - 48);
    numbers[n] = value;
    i++;
  }
  const baseEndsAt = numbers[2]!;
  const digitalPostEndsAt = numbers[4]!;
  return {
    personidentifikator: record.toString('latin1', i + PID_START, i + PID_START + 11),
    dependsOnClock: record[0] === 0x56, // 'V'
    basis: numbers[0]!,
    flip: numbers[1]!,
    baseEndsAt,
    kontaktEndsAt: numbers[3]!,
    digitalPostEndsAt,
    bytes: record,
    headAt: i,
    middleAt: i + baseEndsAt,
    tailAt: i + digitalPostEndsAt,
    end: record.length,
    sertifikat,
  };
}

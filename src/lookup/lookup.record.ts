// A person's lookup answer, rendered when the person is written and read back as bytes: one text
// value per person (column person.lookup) that a lookup slices and copies, never parses as JSON.
//
// Layout: `<kind>|<basis>|<flip>|<a>|<b>|<c>|<body>`, where body is the answer for every group
// without varslingsstatus and without sertifikat:
//   `{` base  [`,"kontaktinformasjon":{...}`]  [`,"digital_post":{...}`]  [`,"spraak":...`]  `}`
// and a, b, c are the byte offsets in body where base, kontaktinformasjon and digital_post end.
// kind is `V` when varslingsstatus depends on the clock (AKTIV, not reserved, a confirmed channel;
// basis and flip are then epoch milliseconds), `N` when it is KAN_IKKE_VARSLES whatever the clock.
// The certificate is not in the record: a person without one of their own shows their provider's,
// which can change without the person being rewritten.

import type { RenderedPerson } from '../person/person.render.js';
import { varslingFlip } from '../time/varsling-flip.js';
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
  const a = i - start;
  if (p.epost !== null || p.mobil !== null) {
    i += out.write(KONTAKT_OPEN, i, 'latin1');
    if (p.epost !== null) i += out.write(p.epost, i, 'utf8');
    if (p.mobil !== null) {
      if (p.epost !== null) out[i++] = 0x2c; // ,
      i += out.write(p.mobil, i, 'utf8');
    }
    out[i++] = 0x7d; // }
  }
  const b = i - start;
  if (p.digitalPost !== null) {
    out[i++] = 0x2c;
    i += out.write(p.digitalPost, i, 'utf8');
  }
  const c = i - start;
  if (p.spraak !== null) {
    out[i++] = 0x2c;
    i += out.write(p.spraak, i, 'utf8');
  }
  out[i++] = 0x7d;
  const header = flip === null ? `N|||${a}|${b}|${c}|` : `V|${p.varslingBasis}|${flip}|${a}|${b}|${c}|`;
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
    base: r.head.toString('utf8', 1),
    epost,
    mobil,
    digitalPost: digitalPost.length > 0 ? digitalPost.toString('utf8', 1) : null,
    spraak: spraak.length > 0 ? spraak.toString('utf8', 1) : null,
  };
}

/** The instant the person's varslingsstatus stops being KAN_VARSLES, or null when it never is. */
export function flipOf(p: Pick<RenderedPerson, 'status' | 'reserved' | 'varslingBasis'>): EpochMs | null {
  if (p.status !== 'AKTIV' || p.reserved || p.varslingBasis === null) return null;
  return varslingFlip(p.varslingBasis);
}

/**
 * A decoded record: the parts of the answer as byte slices, ready to be copied into an answer.
 * Only the slices of the common full view are kept as objects (each costs about a hundred bytes
 * in a cache of a million persons); the others are cut when a narrower view asks for them.
 */
export interface LookupRecord {
  readonly personidentifikator: string;
  /** False: KAN_IKKE_VARSLES whatever the clock. */
  readonly dependsOnClock: boolean;
  readonly basis: EpochMs;
  readonly flip: EpochMs;
  /** Where base, kontaktinformasjon and digital_post end in the body (`head` + `middle` + `tail`). */
  readonly a: number;
  readonly b: number;
  readonly c: number;
  /** `{` and the base members. */
  readonly head: Buffer;
  /** kontaktinformasjon and digital_post (with leading commas), or empty. */
  readonly middle: Buffer;
  /** spraak (with a leading comma) if any, and the closing brace. */
  readonly tail: Buffer;
  /** `"sertifikat":"..."` (own or the provider's), or null. */
  readonly sertifikat: Buffer | null;
}

/** `,"kontaktinformasjon":{...}` or empty. */
export const kontaktOf = (r: LookupRecord) => r.middle.subarray(0, r.b - r.a);
/** `,"digital_post":{...}` or empty. */
export const digitalPostOf = (r: LookupRecord) => r.middle.subarray(r.b - r.a, r.c - r.a);
/** `,"spraak":...` or empty. */
export const spraakOf = (r: LookupRecord) => r.tail.subarray(0, r.tail.length - 1);

const BAR = 0x7c;
const PID_START = '{"personidentifikator":"'.length;

function readNumber(buf: Buffer, from: number): [value: number, next: number] {
  let value = 0;
  let i = from;
  for (; buf[i] !== BAR; i++) value = value * 10 + (buf[i]! - 48);
  return [value, i + 1];
}

/**
 * Decodes a record. The slices share `record`'s memory (the cache copies what it keeps).
 */
export function decodeLookupRecord(record: Buffer, sertifikat: Buffer | null): LookupRecord {
  const dependsOnClock = record[0] === 0x56; // 'V'
  let i = 2;
  let basis: number;
  let flip: number;
  [basis, i] = readNumber(record, i);
  [flip, i] = readNumber(record, i);
  let a: number;
  let b: number;
  let c: number;
  [a, i] = readNumber(record, i);
  [b, i] = readNumber(record, i);
  [c, i] = readNumber(record, i);
  const body = record.subarray(i);
  return make(
    body.toString('latin1', PID_START, PID_START + 11),
    dependsOnClock,
    basis,
    flip,
    body,
    a,
    b,
    c,
    sertifikat,
  );
}

function make(
  personidentifikator: string,
  dependsOnClock: boolean,
  basis: number,
  flip: number,
  body: Buffer,
  a: number,
  b: number,
  c: number,
  sertifikat: Buffer | null,
): LookupRecord {
  return {
    personidentifikator,
    dependsOnClock,
    basis,
    flip,
    a,
    b,
    c,
    head: body.subarray(0, a),
    middle: body.subarray(a, c),
    tail: body.subarray(c),
    sertifikat,
  };
}

// The person table's written columns, in ONE place: the single-batch upsert (json_to_recordset),
// the bulk import (COPY rows, the staging table, the merge) and its change test are all generated
// from this list, so a new rendered column is one more entry here. Pure code: no driver, no I/O
// (import workers load it).

import { encodeLookupRecord, lookupRecordMaxBytes, writeLookupRecord } from '../answer/answer.record.js';
import type { EpochMs } from '../time/oslo-time.js';
import type { RenderedPerson } from '../answer/answer.render.js';
import { flipOf } from '../freshness/freshness.js';

/** What two columns derive from the same person, worked out once per person (derivedValuesOf). */
export interface DerivedValues {
  /** When the person's varslingsstatus stops being KAN_VARSLES (flipOf), or null. */
  readonly flip: EpochMs | null;
}

/** The derived values of `p`, for PersonColumn.value. */
export function derivedValuesOf(p: RenderedPerson): DerivedValues {
  return { flip: flipOf(p) };
}

export interface PersonColumn {
  /** The SQL column of `person`. */
  readonly name: string;
  readonly type: 'text' | 'boolean' | 'bigint';
  readonly value: (p: RenderedPerson, derived: DerivedValues) => string | number | boolean | null;
  /**
   * Whether a different value is a change of the person (a new change id). Columns derived from
   * compared ones (the duplicate keys) need not be compared themselves.
   */
  readonly compared: boolean;
  /**
   * For a text column whose value is costly to build as one string: writes the same text as UTF-8
   * straight into a COPY buffer (at most `maxBytes(p)` bytes at `at`) and returns the bytes written.
   */
  readonly copy?: {
    maxBytes(p: RenderedPerson): number;
    write(out: Buffer, at: number, p: RenderedPerson, derived: DerivedValues): number;
  };
}

export const PERSON_COLUMNS: readonly PersonColumn[] = [
  { name: 'personidentifikator', type: 'text', value: (p) => p.personidentifikator, compared: false },
  { name: 'status', type: 'text', value: (p) => p.status, compared: true },
  { name: 'reserved', type: 'boolean', value: (p) => p.reserved, compared: true },
  { name: 'varsling_basis', type: 'bigint', value: (p) => p.varslingBasis, compared: true },
  { name: 'epost_key', type: 'text', value: (p) => p.epostKey, compared: false },
  { name: 'mobil_key', type: 'text', value: (p) => p.mobilKey, compared: false },
  { name: 'sertifikat', type: 'text', value: (p) => p.sertifikat, compared: true },
  { name: 'mailbox_provider', type: 'text', value: (p) => p.mailboxProvider, compared: true },
  // The answer's fragments live only here, as the lookup record's bytes (lookup.record.ts; readers
  // of fragments cut them back out with partsOfLookupRecord), with when its varslingsstatus flips.
  {
    name: 'lookup',
    type: 'text',
    value: (p, d) => encodeLookupRecord(p, d.flip),
    compared: true,
    copy: { maxBytes: lookupRecordMaxBytes, write: (out, at, p, d) => writeLookupRecord(out, at, p, d.flip) },
  },
  { name: 'varsling_flip', type: 'bigint', value: (_p, d) => d.flip, compared: false },
];

/** `a, b, c` of every written column. */
export const PERSON_COLUMN_LIST = PERSON_COLUMNS.map((c) => c.name).join(', ');

/** `a = excluded.a, ...` / `a = s.a, ...`: every written column but the key, taken from `source`. */
export function assignFrom(source: string): string {
  return PERSON_COLUMNS.filter((c) => c.name !== 'personidentifikator')
    .map((c) => `${c.name} = ${source}.${c.name}`)
    .join(', ');
}

/** `(t.a, t.b) is distinct from (s.a, s.b)` over the compared columns: whether the person changed. */
export function changedBetween(target: string, source: string): string {
  const compared = PERSON_COLUMNS.filter((c) => c.compared);
  return `(${compared.map((c) => `${target}.${c.name}`).join(', ')}) is distinct from (${compared
    .map((c) => `${source}.${c.name}`)
    .join(', ')})`;
}

// COPY's binary format (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4): the
// server takes each value as it is (length + bytes) instead of scanning every byte of a 1 kB row
// for escapes, which costs it about a fifth less time than the text format.
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** What starts a binary COPY: the signature, no flags, no header extension. */
export const COPY_HEADER: Uint8Array = Buffer.concat([SIGNATURE, Buffer.alloc(8)]);
/** What ends it: a tuple with -1 fields. */
export const COPY_TRAILER: Uint8Array = Buffer.from([0xff, 0xff]);

/**
 * Persons as tuples of a binary `COPY person (PERSON_COLUMN_LIST) FROM ...` (without the header and
 * trailer, which belong to each COPY statement).
 */
export class CopyTuples {
  private buffer: Buffer;
  private length = 0;

  /** `expectedBytes`: about how many bytes the tuples will take (the input's size will do). */
  constructor(expectedBytes = 1 << 20) {
    this.buffer = CopyTuples.allocate(expectedBytes + (expectedBytes >> 2) + (64 << 10));
  }

  /** Memory of its own (never a slice of Node's shared pool), so it can move to another thread. */
  private static allocate(bytes: number): Buffer {
    return Buffer.allocUnsafeSlow(bytes);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const bigger = CopyTuples.allocate(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(bigger, 0, 0, this.length);
    this.buffer = bigger;
  }

  add(p: RenderedPerson): void {
    this.reserve(2);
    this.length = this.buffer.writeInt16BE(PERSON_COLUMNS.length, this.length);
    const derived = derivedValuesOf(p);
    for (const column of PERSON_COLUMNS) {
      if (column.copy) {
        this.reserve(4 + column.copy.maxBytes(p));
        const bytes = column.copy.write(this.buffer, this.length + 4, p, derived);
        this.buffer.writeInt32BE(bytes, this.length);
        this.length += 4 + bytes;
        continue;
      }
      const v = column.value(p, derived);
      if (v === null) {
        this.reserve(4);
        this.length = this.buffer.writeInt32BE(-1, this.length);
      } else if (column.type === 'text') {
        const text = v as string;
        this.reserve(4 + text.length * 3); // UTF-8 takes at most 3 bytes per UTF-16 unit
        const bytes = this.buffer.write(text, this.length + 4, 'utf8');
        this.buffer.writeInt32BE(bytes, this.length);
        this.length += 4 + bytes;
      } else if (column.type === 'boolean') {
        this.reserve(5);
        this.length = this.buffer.writeInt32BE(1, this.length);
        this.length = this.buffer.writeUInt8(v ? 1 : 0, this.length);
      } else {
        // An int8 as two 32-bit halves (exact for every safe integer; no BigInt per value).
        const n = v as number;
        const high = Math.floor(n / 0x1_0000_0000);
        this.reserve(12);
        this.length = this.buffer.writeInt32BE(8, this.length);
        this.length = this.buffer.writeInt32BE(high, this.length);
        this.length = this.buffer.writeUInt32BE(n - high * 0x1_0000_0000, this.length);
      }
    }
  }

  /**
   * The tuples: a view from the start of memory of their own (its ArrayBuffer, perhaps larger than
   * the view, can move to another thread uncopied). Nothing may be added afterwards.
   */
  finish(): Uint8Array {
    const tuples = new Uint8Array(this.buffer.buffer, 0, this.length);
    this.buffer = Buffer.alloc(0);
    this.length = 0;
    return tuples;
  }
}

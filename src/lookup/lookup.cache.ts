// Where a lookup gets its persons' records: straight from the store, or from a bounded cache in
// front of it that the change log keeps correct.
//
// Correctness of the cache rests on the change ids (docs/change-feed.md#no-missed-changes): every write gives
// each person it changes a new change id in the same transaction, ids are commit-ordered (PersonWriter's
// lock), and a provider's new certificate gives its inheriting persons new ids too. So before each
// lookup the cache asks the store for the highest change id (one probe of an index); when it has
// moved past the cache's watermark, the persons changed since are dropped from the cache. That
// covers writes by this process and by any other (`krr import` against the same PostgreSQL).
//
// What it keeps of a person is the whole answer in the common view (both data scopes), laid out in
// large slabs one after another: an answer of 1000 persons is then 1000 copies of ranges of a few
// slabs, where copying thousands of small slices cost most of a cached lookup (profiled). Memory is
// taken and given back a slab at a time: the oldest slab goes when the cache is full, its entries
// read since it was filled getting a second chance in the newest one (an approximation of LRU).
// Each entry's facts (flip instant, offsets, flags) are a header in the slab before its answer, and
// an IdentifierIndex finds it: a million cached persons are no objects on the JavaScript heap, so
// garbage collections do not grow with the cache.

import type { PersonRepository } from '../register/person.repository.js';
import { CachedAnswer } from '../answer/answer.assemble.js';
import { IdentifierIndex } from './identifier-index.js';
import type { LookupRecord } from '../answer/answer.record.js';

export interface LookupSource {
  /**
   * The records of `identifiers` (sorted, unique), aligned with them; undefined: not registered.
   * A cache answers with its own form of a record (CachedAnswer).
   */
  records(identifiers: readonly string[]): Promise<(LookupRecord | CachedAnswer | undefined)[]>;
}

/** Lays the found records (ascending) out against the asked identifiers (ascending). */
function align(
  identifiers: readonly string[],
  found: readonly LookupRecord[],
  out = new Array<LookupRecord | CachedAnswer | undefined>(identifiers.length),
  positions?: readonly number[],
): (LookupRecord | CachedAnswer | undefined)[] {
  let next = 0;
  for (let i = 0; i < identifiers.length && next < found.length; i++) {
    const r = found[next]!;
    if (r.personidentifikator === identifiers[i]) {
      out[positions ? positions[i]! : i] = r;
      next++;
    }
  }
  return out;
}

export class StoreLookupSource implements LookupSource {
  constructor(private readonly persons: PersonRepository) {}

  async records(identifiers: readonly string[]): Promise<(LookupRecord | undefined)[]> {
    return align(identifiers, await this.persons.findLookupRecords(identifiers)) as (
      LookupRecord | undefined
    )[];
  }
}

interface Slab {
  readonly bytes: Buffer;
  /** Slabs are numbered in the order they were opened; the index points at (serial, offset). */
  readonly serial: number;
  /** Bytes used: the slab's entries lie one after another up to here. */
  fill: number;
}

/** More changes than this since the watermark: the cache starts over instead of dropping them one by one. */
const MAX_CHANGES_PER_REFRESH = 10_000;
/** Slabs of up to this size; smaller caches use slabs of an eighth of their bound. */
const MAX_SLAB_BYTES = 8 << 20;
/** Offsets within a slab are below 2^24 (MAX_SLAB_BYTES): index value = serial * 2^24 + offset. */
const OFFSET_RANGE = 1 << 24;

// An entry in a slab: a header, then the answer (see CachedAnswer).
const KEY = 0; // f64: the identifier as a number
const BASIS = 8; // f64
const FLIP = 16; // f64
const LENGTH = 24; // u32: bytes of the answer after the header
const BASE_ENDS_AT = 28; // u32, u32, u32: where base, kontaktinformasjon and digital_post end in the body
const KONTAKT_ENDS_AT = 32;
const DIGITAL_POST_ENDS_AT = 36;
const CERTIFICATE_LENGTH = 40; // u32
const FLAGS = 44; // u8: DEPENDS_ON_CLOCK | USED
const HEADER = 48;
const DEPENDS_ON_CLOCK = 1;
/** Read since it was placed in its slab (the second chance when its slab is given back). */
const USED = 2;

/**
 * What the cache has done since it was made, for the metrics (docs/operations.md#metrics): counts
 * and sizes only, never which persons.
 */
export interface LookupCacheStats {
  /** Persons held. */
  readonly entries: number;
  /** Bytes held against the bound (slabs and index). */
  readonly bytes: number;
  /**
   * Bytes of the answers of the persons held: what the cache must keep at the least, without the
   * entries' headers, the index, the slabs' unused room and replaced entries not yet given back.
   */
  readonly answerBytes: number;
  /** The change id the cache is correct up to. */
  readonly watermark: number;
  /** Persons asked for that were answered from the cache. */
  readonly hits: number;
  /** Persons asked for that were read from the store (registered or not). */
  readonly misses: number;
}

export class CachedLookupSource implements LookupSource {
  private hits = 0;
  private misses = 0;
  /** Identifier (as a number) to where its entry is: slab serial * OFFSET_RANGE + offset. */
  private readonly index = new IdentifierIndex();
  /** Oldest first; the last is the one being filled. */
  private slabs: Slab[] = [];
  private nextSerial = 0;
  private readonly slabBytes: number;
  private watermark = -1;
  /** The answers' bytes of the entries the index points at (LookupCacheStats.answerBytes). */
  private answerBytes = 0;
  /** Moves whenever entries are dropped for changes: a fetch begun before must not fill the cache. */
  private generation = 0;
  private nextProbe: Promise<void> | undefined;

  /**
   * `persons` is where lookups read. With read replicas (docs/operations.md#replicas) it may be
   * a replica, a different one from one statement to the next, and `primary` is the store's
   * primary: rows from a replica that is behind the watermark are read again there (see records).
   */
  constructor(
    private readonly persons: PersonRepository,
    private readonly maxBytes: number,
    private readonly maxChangesPerRefresh = MAX_CHANGES_PER_REFRESH,
    private readonly primary?: PersonRepository,
  ) {
    this.slabBytes = Math.max(4096, Math.min(MAX_SLAB_BYTES, Math.floor(maxBytes / 8)));
  }

  /** What the cache holds against its bound: its slabs and its index. */
  private get bytes(): number {
    return this.slabs.length * this.slabBytes + this.index.byteLength;
  }

  /** For the metrics, the tests and the benchmark. */
  stats(): LookupCacheStats {
    return {
      entries: this.index.size,
      bytes: this.bytes,
      answerBytes: this.answerBytes,
      watermark: this.watermark,
      hits: this.hits,
      misses: this.misses,
    };
  }

  async records(identifiers: readonly string[]): Promise<(LookupRecord | CachedAnswer | undefined)[]> {
    await this.refresh();
    const generation = this.generation;
    const out = new Array<LookupRecord | CachedAnswer | undefined>(identifiers.length);
    let missing: string[] | undefined;
    let positions: number[] | undefined;
    const first = this.slabs.length > 0 ? this.slabs[0]!.serial : 0;
    for (let i = 0; i < identifiers.length; i++) {
      const at = this.index.get(Number(identifiers[i]));
      if (at >= 0) {
        const serial = Math.floor(at / OFFSET_RANGE);
        out[i] = this.answerAt(
          identifiers[i]!,
          this.slabs[serial - first]!.bytes,
          at - serial * OFFSET_RANGE,
        );
      } else {
        (missing ??= []).push(identifiers[i]!);
        (positions ??= []).push(i);
      }
    }
    this.misses += missing?.length ?? 0;
    this.hits += identifiers.length - (missing?.length ?? 0);
    if (!missing) return out;
    let found: LookupRecord[];
    if (this.primary) {
      // The watermark may come from a fresher server than the one that answered now (another
      // replica, or the primary). Rows from a snapshot that has not reached the watermark could be
      // older than changes the cache has already dropped for, and would then be kept for good:
      // they are read again from the primary, which has every change.
      const read = await this.persons.findLookupRecordsWithPosition(missing);
      found =
        read.latest !== undefined && read.latest < this.watermark
          ? await this.primary.findLookupRecords(missing)
          : read.records;
    } else {
      found = await this.persons.findLookupRecords(missing);
    }
    align(missing, found, out, positions);
    // Rows read before a refresh dropped their persons may be older than the drop: not kept.
    if (generation === this.generation && this.maxBytes > 0) for (const r of found) this.keep(r);
    return out;
  }

  /** The entry at `offset` of `slab`, marked as read. */
  private answerAt(personidentifikator: string, slab: Buffer, offset: number): CachedAnswer {
    slab[offset + FLAGS] = slab[offset + FLAGS]! | USED;
    const start = offset + HEADER;
    return new CachedAnswer(
      personidentifikator,
      slab,
      start,
      start + slab.readUInt32LE(offset + LENGTH),
      (slab[offset + FLAGS]! & DEPENDS_ON_CLOCK) !== 0,
      slab.readDoubleLE(offset + BASIS),
      slab.readDoubleLE(offset + FLIP),
      slab.readUInt32LE(offset + BASE_ENDS_AT),
      slab.readUInt32LE(offset + KONTAKT_ENDS_AT),
      slab.readUInt32LE(offset + DIGITAL_POST_ENDS_AT),
      slab.readUInt32LE(offset + CERTIFICATE_LENGTH),
    );
  }

  /**
   * Lookups that arrive in the same turn of the event loop share one probe. It is sent after all
   * of them arrived, so it sees every write committed before any of them; a lookup arriving once
   * it is sent waits for the next one.
   */
  private refresh(): Promise<void> {
    this.nextProbe ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.nextProbe = undefined;
      return this.probe();
    });
    return this.nextProbe;
  }

  private async probe(): Promise<void> {
    const latest = await this.persons.latestChangeId();
    if (latest <= this.watermark) return;
    if (this.watermark < 0 || this.index.size === 0) {
      this.generation++;
      this.watermark = Math.max(this.watermark, latest);
      return;
    }
    // The changes and the position they reach in one statement: with replicas the probe above and
    // this may be answered by different servers, and the watermark must not pass what the list
    // of changes covers.
    const { latest: upTo, changed } = await this.persons.changesUpTo(
      this.watermark,
      this.maxChangesPerRefresh + 1,
    );
    this.generation++;
    if (changed.length > this.maxChangesPerRefresh) {
      this.index.clear();
      this.slabs = [];
      this.answerBytes = 0;
    } else {
      // The bytes stay in their slab until it is given back; nothing points at them any more.
      for (const { id } of changed) this.forget(Number(id));
    }
    this.watermark = Math.max(this.watermark, upTo);
  }

  /** Copies a record read from the store into the newest slab (a new one when it is full). */
  private keep(r: LookupRecord): void {
    const length = CachedAnswer.byteLength(r);
    if (HEADER + length > this.slabBytes) return; // larger than a slab (a tiny cache): not kept
    let slab = this.slabs[this.slabs.length - 1];
    if (slab === undefined || slab.fill + HEADER + length > this.slabBytes) slab = this.openSlab();
    const out = slab.bytes;
    const offset = slab.fill;
    const key = Number(r.personidentifikator);
    out.writeDoubleLE(key, offset + KEY);
    out.writeDoubleLE(r.basis, offset + BASIS);
    out.writeDoubleLE(r.flip, offset + FLIP);
    out.writeUInt32LE(length, offset + LENGTH);
    out.writeUInt32LE(r.baseEndsAt, offset + BASE_ENDS_AT);
    out.writeUInt32LE(r.kontaktEndsAt, offset + KONTAKT_ENDS_AT);
    out.writeUInt32LE(r.digitalPostEndsAt, offset + DIGITAL_POST_ENDS_AT);
    out.writeUInt32LE(r.sertifikat === null ? 0 : r.sertifikat.length, offset + CERTIFICATE_LENGTH);
    out[offset + FLAGS] = r.dependsOnClock ? DEPENDS_ON_CLOCK : 0;
    slab.fill = CachedAnswer.write(r, out, offset + HEADER);
    this.forget(key); // two lookups that both missed a person both keep it
    this.index.set(key, slab.serial * OFFSET_RANGE + offset);
    this.answerBytes += length;
    while (this.bytes > this.maxBytes && this.slabs.length > 1) this.releaseOldest();
  }

  /** Drops the entry of `key`, if any, from the index (its bytes stay until its slab goes). */
  private forget(key: number): void {
    const at = this.index.get(key);
    if (at < 0) return;
    const serial = Math.floor(at / OFFSET_RANGE);
    const slab = this.slabs[serial - this.slabs[0]!.serial]!;
    this.answerBytes -= slab.bytes.readUInt32LE(at - serial * OFFSET_RANGE + LENGTH);
    this.index.delete(key);
  }

  private openSlab(): Slab {
    const slab: Slab = { bytes: Buffer.allocUnsafeSlow(this.slabBytes), serial: this.nextSerial++, fill: 0 };
    this.slabs.push(slab);
    return slab;
  }

  /**
   * Gives the oldest slab back. Its entries read since they were placed move to the newest slab
   * while it has room (a second chance); the others are dropped. Entries replaced or dropped
   * since are found out by the index no longer pointing at them.
   */
  private releaseOldest(): void {
    const oldest = this.slabs.shift()!;
    const newest = this.slabs[this.slabs.length - 1]!;
    const from = oldest.bytes;
    for (let offset = 0; offset < oldest.fill;) {
      const key = from.readDoubleLE(offset + KEY);
      const size = HEADER + from.readUInt32LE(offset + LENGTH);
      if (this.index.get(key) === oldest.serial * OFFSET_RANGE + offset) {
        if ((from[offset + FLAGS]! & USED) !== 0 && newest.fill + size <= this.slabBytes) {
          from.copy(newest.bytes, newest.fill, offset, offset + size);
          newest.bytes[newest.fill + FLAGS] = newest.bytes[newest.fill + FLAGS]! & ~USED;
          this.index.set(key, newest.serial * OFFSET_RANGE + newest.fill);
          newest.fill += size;
        } else {
          this.index.delete(key);
          this.answerBytes -= size - HEADER;
        }
      }
      offset += size;
    }
  }
}

// Where a lookup gets its persons' records: straight from the store, or from a bounded cache in
// front of it that the change log keeps correct.
//
// Correctness of the cache rests on the change ids (contract section 5): every write gives each
// person it changes a new change id in the same transaction, ids are commit-ordered (PersonWriter's
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

import type { PersonRepository } from '../person/person.repository.js';
import { CachedAnswer, KAN_IKKE_VARSLES, KAN_VARSLES } from './lookup.assemble.js';
import type { LookupRecord } from './lookup.record.js';

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
  out: (LookupRecord | CachedAnswer | undefined)[] = new Array(identifiers.length),
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
  /** The persons placed in it, in order (some since dropped or moved: checked against the map). */
  readonly ids: string[];
}

/** More changes than this since the watermark: the cache starts over instead of dropping them one by one. */
const MAX_CHANGES_PER_REFRESH = 10_000;
/** What an entry costs beyond its bytes: its object, the map slot and key, the slab's list (rounded up). */
const ENTRY_OVERHEAD_BYTES = 200;
/** Slabs of up to this size; smaller caches use slabs of an eighth of their bound. */
const MAX_SLAB_BYTES = 8 << 20;

export class CachedLookupSource implements LookupSource {
  private readonly entries = new Map<string, CachedAnswer>();
  /** Oldest first; the last is the one being filled. */
  private slabs: Slab[] = [];
  private fill = 0;
  private readonly slabBytes: number;
  private watermark = -1;
  /** Moves whenever entries are dropped for changes: a fetch begun before must not fill the cache. */
  private generation = 0;
  private nextProbe: Promise<void> | undefined;

  constructor(
    private readonly persons: PersonRepository,
    private readonly maxBytes: number,
    private readonly maxChangesPerRefresh = MAX_CHANGES_PER_REFRESH,
  ) {
    this.slabBytes = Math.max(4096, Math.min(MAX_SLAB_BYTES, Math.floor(maxBytes / 8)));
  }

  /** What the cache holds against its bound (slabs and entries); for tests and the benchmark. */
  private get bytes(): number {
    return this.slabs.length * this.slabBytes + this.entries.size * ENTRY_OVERHEAD_BYTES;
  }

  /** For tests and the benchmark. */
  stats(): { entries: number; bytes: number; watermark: number } {
    return { entries: this.entries.size, bytes: this.bytes, watermark: this.watermark };
  }

  async records(identifiers: readonly string[]): Promise<(LookupRecord | CachedAnswer | undefined)[]> {
    await this.refresh();
    const generation = this.generation;
    const out: (LookupRecord | CachedAnswer | undefined)[] = new Array(identifiers.length);
    let missing: string[] | undefined;
    let positions: number[] | undefined;
    for (let i = 0; i < identifiers.length; i++) {
      const entry = this.entries.get(identifiers[i]!);
      if (entry) {
        entry.used = true;
        out[i] = entry;
      } else {
        (missing ??= []).push(identifiers[i]!);
        (positions ??= []).push(i);
      }
    }
    if (!missing) return out;
    const found = await this.persons.findLookupRecords(missing);
    align(missing, found, out, positions);
    // Rows read before a refresh dropped their persons may be older than the drop: not kept.
    if (generation === this.generation && this.maxBytes > 0) for (const r of found) this.keep(r);
    return out;
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
    if (this.watermark < 0 || this.entries.size === 0) {
      this.generation++;
      this.watermark = Math.max(this.watermark, latest);
      return;
    }
    const changed = await this.persons.changedSince(this.watermark, this.maxChangesPerRefresh + 1);
    this.generation++;
    if (changed.length > this.maxChangesPerRefresh) {
      this.entries.clear();
      this.slabs = [];
      this.fill = 0;
    } else {
      // The bytes stay in their slab until it is given back; nothing points at them any more.
      for (const { id } of changed) this.entries.delete(id);
    }
    this.watermark = Math.max(this.watermark, latest);
  }

  /** Copies a record read from the store into the newest slab (a new one when it is full). */
  private keep(r: LookupRecord): void {
    const status = r.dependsOnClock ? KAN_VARSLES : KAN_IKKE_VARSLES;
    const size =
      1 +
      r.head.length +
      status.length +
      r.middle.length +
      (r.sertifikat === null ? 0 : 1 + r.sertifikat.length) +
      r.tail.length;
    if (size > this.slabBytes) return; // larger than a slab (a tiny cache): not kept
    if (this.slabs.length === 0 || this.fill + size > this.slabBytes) this.openSlab();
    const slab = this.slabs[this.slabs.length - 1]!;
    const out = slab.bytes;
    const start = this.fill;
    let o = start;
    out[o++] = 0x2c; // the comma before the person; skipped for the answer's first
    o += r.head.copy(out, o);
    o += status.copy(out, o);
    o += r.middle.copy(out, o);
    if (r.sertifikat !== null) {
      out[o++] = 0x2c;
      o += r.sertifikat.copy(out, o);
    }
    o += r.tail.copy(out, o);
    this.fill = o;
    const entry = new CachedAnswer(
      r.personidentifikator,
      out,
      start,
      o,
      r.dependsOnClock,
      r.basis,
      r.flip,
      r.a,
      r.b,
      r.c,
      r.sertifikat === null ? 0 : r.sertifikat.length,
    );
    this.entries.set(r.personidentifikator, entry);
    slab.ids.push(r.personidentifikator);
    while (this.bytes > this.maxBytes && this.slabs.length > 1) this.releaseOldest();
  }

  private openSlab(): void {
    this.slabs.push({ bytes: Buffer.allocUnsafeSlow(this.slabBytes), ids: [] });
    this.fill = 0;
  }

  /**
   * Gives the oldest slab back. Its entries read since they were placed move to the newest slab
   * while it has room (a second chance); the others are dropped.
   */
  private releaseOldest(): void {
    const oldest = this.slabs.shift()!;
    const newest = this.slabs[this.slabs.length - 1]!;
    for (const id of oldest.ids) {
      const entry = this.entries.get(id);
      if (entry === undefined || entry.slab !== oldest.bytes) continue;
      const size = entry.end - entry.start;
      if (entry.used && this.fill + size <= this.slabBytes) {
        entry.slab.copy(newest.bytes, this.fill, entry.start, entry.end);
        this.entries.set(id, entry.movedTo(newest.bytes, this.fill));
        newest.ids.push(id);
        this.fill += size;
      } else {
        this.entries.delete(id);
      }
    }
  }
}

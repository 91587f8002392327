// Where a lookup gets its persons' records: straight from the store, or from a bounded cache in
// front of it that the change log keeps correct.
//
// Correctness of the cache rests on the change ids (contract section 5): every write gives each
// person it changes a new change id in the same transaction, ids are commit-ordered (PersonWriter's
// lock), and a provider's new certificate gives its inheriting persons new ids too. So before each
// lookup the cache asks the store for the highest change id (one probe of an index); when it has
// moved past the cache's watermark, the persons changed since are dropped from the cache. That
// covers writes by this process and by any other (`krr import` against the same PostgreSQL).

import type { PersonRepository } from '../person/person.repository.js';
import { withBody } from './lookup.record.js';
import type { LookupRecord } from './lookup.record.js';

export interface LookupSource {
  /** The records of `identifiers` (sorted, unique), aligned with them; undefined: not registered. */
  records(identifiers: readonly string[]): Promise<(LookupRecord | undefined)[]>;
}

/** Lays the found records (ascending) out against the asked identifiers (ascending). */
function align(
  identifiers: readonly string[],
  found: readonly LookupRecord[],
  out: (LookupRecord | undefined)[] = new Array(identifiers.length),
  positions?: readonly number[],
): (LookupRecord | undefined)[] {
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
    return align(identifiers, await this.persons.findLookupRecords(identifiers));
  }
}

interface Entry {
  readonly record: LookupRecord;
  readonly size: number;
  /** Read since the eviction hand last passed (second-chance, an approximation of LRU). */
  used: boolean;
}

/** More changes than this since the watermark: the cache starts over instead of dropping them one by one. */
const MAX_CHANGES_PER_REFRESH = 10_000;
/** What an entry costs beyond its bytes: the objects, slices and map slot (measured, rounded up). */
const ENTRY_OVERHEAD_BYTES = 700;
/** Distinct certificates kept once for all the persons who show them (providers' certificates). */
const MAX_SHARED_CERTIFICATES = 32;

export class CachedLookupSource implements LookupSource {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private watermark = -1;
  /** Moves whenever entries are dropped for changes: a fetch begun before must not fill the cache. */
  private generation = 0;
  private readonly certificates: Buffer[] = [];
  private nextProbe: Promise<void> | undefined;

  constructor(
    private readonly persons: PersonRepository,
    private readonly maxBytes: number,
    private readonly maxChangesPerRefresh = MAX_CHANGES_PER_REFRESH,
  ) {}

  /** For tests and the benchmark. */
  stats(): { entries: number; bytes: number; watermark: number } {
    return { entries: this.entries.size, bytes: this.bytes, watermark: this.watermark };
  }

  async records(identifiers: readonly string[]): Promise<(LookupRecord | undefined)[]> {
    await this.refresh();
    const generation = this.generation;
    const out: (LookupRecord | undefined)[] = new Array(identifiers.length);
    let missing: string[] | undefined;
    let positions: number[] | undefined;
    for (let i = 0; i < identifiers.length; i++) {
      const entry = this.entries.get(identifiers[i]!);
      if (entry) {
        entry.used = true;
        out[i] = entry.record;
      } else {
        (missing ??= []).push(identifiers[i]!);
        (positions ??= []).push(i);
      }
    }
    if (!missing) return out;
    const found = await this.persons.findLookupRecords(missing);
    align(missing, found, out, positions);
    // Rows read before a refresh dropped their persons may be older than the drop: not kept.
    if (generation === this.generation) for (const r of found) this.keep(r);
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
      this.bytes = 0;
    } else {
      for (const { id } of changed) this.drop(id);
    }
    this.watermark = Math.max(this.watermark, latest);
  }

  private drop(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    this.bytes -= entry.size;
  }

  private shared(certificate: Buffer | null): { cert: Buffer | null; own: number } {
    if (certificate === null) return { cert: null, own: 0 };
    for (const known of this.certificates) if (known.equals(certificate)) return { cert: known, own: 0 };
    const copy = Buffer.from(certificate);
    if (this.certificates.length < MAX_SHARED_CERTIFICATES) {
      this.certificates.push(copy);
      return { cert: copy, own: 0 };
    }
    return { cert: copy, own: copy.length };
  }

  private keep(found: LookupRecord): void {
    if (this.maxBytes <= 0) return;
    // A copy: the record's slices are views of the driver's read buffer, which must not stay alive.
    const body = Buffer.from(found.body);
    const { cert, own } = this.shared(found.sertifikat);
    const record = withBody(found, body, cert);
    const size = body.length + own + ENTRY_OVERHEAD_BYTES;
    this.drop(record.personidentifikator);
    this.entries.set(record.personidentifikator, { record, size, used: false });
    this.bytes += size;
    if (this.bytes > this.maxBytes) this.evict();
  }

  /** Down to 90% of the bound: unused entries go, used ones get a second chance at the back. */
  private evict(): void {
    const target = this.maxBytes * 0.9;
    for (const [id, entry] of this.entries) {
      if (this.bytes <= target) return;
      this.entries.delete(id);
      if (entry.used) {
        entry.used = false;
        this.entries.set(id, entry);
      } else {
        this.bytes -= entry.size;
      }
    }
  }
}

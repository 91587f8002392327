// Entries the dev sign-in keeps in memory for a while (pending sign-ins, issued codes), made by
// callers nobody has authenticated: bounded in count and in bytes, not only in time
// (docs/tokens.md#sign-in-limits). Over either bound the oldest go first.

/** What one entry costs besides its strings: the map slot, the objects, the key's own string. */
const ENTRY_OVERHEAD_BYTES = 256;

/** The characters of `strings` together. */
export function charsOf(strings: readonly (string | undefined)[]): number {
  let chars = 0;
  for (const s of strings) chars += s?.length ?? 0;
  return chars;
}

/**
 * The bytes an entry holding `strings` may take in memory: two per character (a JavaScript string
 * that is not all Latin-1 is stored so), plus the entry's overhead. An upper bound, so the budget
 * holds.
 */
export function entryBytes(strings: readonly (string | undefined)[]): number {
  return 2 * charsOf(strings) + ENTRY_OVERHEAD_BYTES;
}

interface Entry<T> {
  readonly value: T;
  readonly bytes: number;
  readonly expiresAt: number;
}

/**
 * A map from a random key to a value with one lifetime for all: entries are added in the order they
 * expire, so the expired ones and the oldest are both at the front (a Map iterates in insertion
 * order), and pruning is constant time per entry.
 */
export class BoundedEntries<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private totalBytes = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  /** The bytes held now (as entryBytes counts them). */
  get bytes(): number {
    return this.totalBytes;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Keeps `value` for the lifetime, dropping the expired and then the oldest entries until it fits.
   * An entry larger than the whole budget is not kept (the callers refuse such requests before).
   */
  add(key: string, value: T, bytes: number, now: number): void {
    this.dropExpired(now);
    while (
      this.entries.size > 0 &&
      (this.entries.size >= this.maxEntries || this.totalBytes + bytes > this.maxBytes)
    )
      this.delete(this.entries.keys().next().value!);
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { value, bytes, expiresAt: now + this.ttlMs });
    this.totalBytes += bytes;
  }

  /** The value under `key` while it lives. */
  get(key: string, now: number): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > now) return entry.value;
    this.delete(key);
    return undefined;
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.totalBytes -= entry.bytes;
  }

  private dropExpired(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) return;
      this.delete(key);
    }
  }
}

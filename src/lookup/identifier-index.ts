// A hash map from person identifiers (as numbers) to numbers, in one Float64Array: open addressing
// with linear probing, keys and values side by side. It lets the lookup cache hold a million
// persons without a million objects on the JavaScript heap (a Map<string, object> has a key string
// and an object per person, which every major garbage collection marks: pauses of tens of ms
// that showed in single lookups' p99). Pure code: no I/O.

/** Keys are identifiers as numbers: 11 digits, never 0 (0 marks an empty slot). */
export class IdentifierIndex {
  /** [key, value] pairs; key 0: empty. */
  private table: Float64Array;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = 1024) {
    let capacity = 16;
    while (capacity < initialCapacity * 2) capacity *= 2;
    this.table = new Float64Array(capacity * 2);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The memory the table takes. */
  get byteLength(): number {
    return this.table.byteLength;
  }

  private home(key: number): number {
    const low = key % 4294967296;
    const high = (key - low) / 4294967296;
    return (Math.imul((low ^ Math.imul(high, 0x85ebca6b)) >>> 0, 0x9e3779b1) >>> 0) & this.mask;
  }

  /** The value for `key`, or -1. */
  get(key: number): number {
    const table = this.table;
    for (let i = this.home(key); ; i = (i + 1) & this.mask) {
      const k = table[i * 2]!;
      if (k === key) return table[i * 2 + 1]!;
      if (k === 0) return -1;
    }
  }

  set(key: number, value: number): void {
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    const table = this.table;
    for (let i = this.home(key); ; i = (i + 1) & this.mask) {
      const k = table[i * 2]!;
      if (k === key || k === 0) {
        if (k === 0) this.count++;
        table[i * 2] = key;
        table[i * 2 + 1] = value;
        return;
      }
    }
  }

  /** Removes `key`; the entries after it in its run move back (no tombstones). */
  delete(key: number): boolean {
    const table = this.table;
    const mask = this.mask;
    let i = this.home(key);
    for (; ; i = (i + 1) & mask) {
      const k = table[i * 2]!;
      if (k === 0) return false;
      if (k === key) break;
    }
    this.count--;
    // Backward-shift deletion: each later entry of the run that may move into the hole does.
    let hole = i;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const k = table[j * 2]!;
      if (k === 0) break;
      const home = this.home(k);
      // Entry j may not move before its home: it stays when its home is in (hole, j] (cyclically).
      const stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!stays) {
        table[hole * 2] = k;
        table[hole * 2 + 1] = table[j * 2 + 1]!;
        hole = j;
      }
    }
    table[hole * 2] = 0;
    table[hole * 2 + 1] = 0;
    return true;
  }

  clear(): void {
    this.table = new Float64Array(32);
    this.mask = 15;
    this.count = 0;
  }

  private grow(): void {
    const old = this.table;
    this.table = new Float64Array(old.length * 2);
    this.mask = old.length - 1;
    this.count = 0;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0) this.set(old[i]!, old[i + 1]!);
  }
}

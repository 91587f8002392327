// Certificates repeat: most persons carry one of their mailbox providers' few. What is worked out
// from one (whether it is a certificate, its rendered member) is kept for the last few seen.

/**
 * The last few distinct strings seen, each with a value worked out from it, most recent first.
 * Finding one compares with `===` against at most `size` strings, which stops at the first byte
 * that differs and never hashes the string, as a Map key would (1.3 kB for a certificate).
 */
export class RecentStrings<V> {
  private readonly keys: string[] = [];
  private readonly values: V[] = [];

  constructor(private readonly size = 4) {}

  get(key: string): V | undefined {
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] !== key) continue;
      const value = this.values[i]!;
      if (i > 0) {
        // To the front, so that runs of one certificate find it at once.
        keys.splice(i, 1);
        this.values.splice(i, 1);
        keys.unshift(key);
        this.values.unshift(value);
      }
      return value;
    }
    return undefined;
  }

  set(key: string, value: V): void {
    this.keys.unshift(key);
    this.values.unshift(value);
    if (this.keys.length > this.size) {
      this.keys.pop();
      this.values.pop();
    }
  }
}

// Interleaved rounds for `npm run bench`: a ceiling and the service it is compared with are
// measured in turn (ceiling, service, ceiling, service, ...), so a machine whose speed drifts during
// the run (other work, the CPU's clock, the page cache) moves both alike. Each round's ratio is the
// service's round over the ceiling's round just before it; the goal is judged on the median of the
// ratios, printed with their spread (the lowest and the highest).

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface Ratio {
  /** The median of the rounds' ratios. */
  readonly median: number;
  /** The lowest and the highest of them. */
  readonly spread: readonly [number, number];
  /** Each round's ratio, in the order measured. */
  readonly rounds: readonly number[];
}

/** Round i of `service` over round i of `ceiling`. */
export function ratioOf(service: readonly number[], ceiling: readonly number[]): Ratio {
  const rounds = service.map((s, i) => s / ceiling[i]!);
  return { median: median(rounds), spread: [Math.min(...rounds), Math.max(...rounds)], rounds };
}

/**
 * Runs `steps` in turn, `rounds` times (step 0, step 1, ..., step 0, step 1, ...), and returns each
 * step's results in the order measured.
 */
export async function interleave<T>(rounds: number, steps: readonly (() => Promise<T>)[]): Promise<T[][]> {
  const results = steps.map((): T[] => []);
  for (let i = 0; i < rounds; i++) {
    for (let j = 0; j < steps.length; j++) results[j]!.push(await steps[j]!());
  }
  return results;
}

export interface Goal {
  /** What is compared: `>= 0.85`, `<= 2`. */
  readonly goal: string;
  readonly median: number;
  readonly held: boolean;
}

export function atLeast(ratio: Ratio, bound: number): Goal {
  return { goal: `>= ${bound}`, median: ratio.median, held: ratio.median >= bound };
}

export function atMost(ratio: Ratio, bound: number): Goal {
  return { goal: `<= ${bound}`, median: ratio.median, held: ratio.median <= bound };
}

const fixed = (n: number) => (Number.isFinite(n) ? n.toFixed(n >= 10 ? 1 : 3) : String(n));

/** `0.812 (0.790-0.840, 3 rounds) goal >= 0.85: not held` */
export function describeRatio(ratio: Ratio, goal?: Goal): string {
  const [low, high] = ratio.spread;
  const base = `${fixed(ratio.median)} (${fixed(low)}-${fixed(high)}, ${ratio.rounds.length} rounds)`;
  return goal ? `${base}   goal ${goal.goal}: ${goal.held ? 'held' : 'NOT held'}` : base;
}

/** For the JSON results: the ratio's median, spread and rounds, rounded. */
export function ratioJson(ratio: Ratio): { median: number; spread: number[]; rounds: number[] } {
  const r = (n: number) => Number(n.toFixed(3));
  return { median: r(ratio.median), spread: ratio.spread.map(r), rounds: ratio.rounds.map(r) };
}

// Makes valid identifiers with the classic check digits: for demo data, tests and benchmarks.

const W1 = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const W2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

function checkDigit(digits: readonly number[], weights: readonly number[]): number | undefined {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum += digits[i]! * weights[i]!;
  const r = 11 - (sum % 11);
  if (r === 11) return 0;
  return r === 10 ? undefined : r;
}

/** Completes nine digits (DDMMYY + individual number) with check digits; undefined when none exist. */
export function withCheckDigits(nineDigits: string): string | undefined {
  const digits = Array.from(nineDigits, (c) => c.charCodeAt(0) - 48);
  const k1 = checkDigit(digits, W1);
  if (k1 === undefined) return undefined;
  digits.push(k1);
  const k2 = checkDigit(digits, W2);
  if (k2 === undefined) return undefined;
  return `${nineDigits}${k1}${k2}`;
}

export interface IdentifierSpec {
  readonly day: number;
  readonly month: number;
  /** Two-digit year. */
  readonly year: number;
  readonly dNumber?: boolean;
  /** 'tenor' adds 80 to the month, 'nav' adds 40. */
  readonly synthetic?: 'tenor' | 'nav';
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** The first valid identifier for the date at or after `individual` (0..999). */
export function makeIdentifier(spec: IdentifierSpec, individual = 0): string {
  const day = spec.day + (spec.dNumber ? 40 : 0);
  const month = spec.month + (spec.synthetic === 'tenor' ? 80 : spec.synthetic === 'nav' ? 40 : 0);
  for (let i = individual; i < 1000; i++) {
    const id = withCheckDigits(`${pad(day, 2)}${pad(month, 2)}${pad(spec.year, 2)}${pad(i, 3)}`);
    if (id) return id;
  }
  throw new Error('no identifier with valid check digits for that date');
}

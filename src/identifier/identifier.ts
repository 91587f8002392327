// Norwegian person identifiers (fødselsnummer, D-nummer, synthetic test numbers) and
// organisation numbers (docs/register.md#person-identifiers, docs/register.md#organisation-numbers).
// Pure rules: no I/O, no HTTP, no SQL.

export type IdentifierKind = 'FNR' | 'DNR';

export type IdentifierProblem = 'FORMAT' | 'CHECK_DIGIT' | 'DATE' | 'SYNTHETIC_NOT_ALLOWED';

export type IdentifierCheck =
  | { readonly valid: true; readonly kind: IdentifierKind; readonly synthetic: boolean }
  | { readonly valid: false; readonly problem: IdentifierProblem };

export interface IdentifierRules {
  /** Accept Tenor (+80 on the month) and NAV (+40 on the month) synthetic identifiers. */
  readonly allowSynthetic: boolean;
}

const W1 = [3, 7, 6, 1, 8, 9, 4, 5, 2] as const;
const W2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2] as const;
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** Human-readable reasons; they never contain the identifier itself. */
export const IDENTIFIER_PROBLEM_TEXT: Readonly<Record<IdentifierProblem, string>> = {
  FORMAT: 'personidentifikator must be exactly 11 digits',
  CHECK_DIGIT: 'personidentifikator has an invalid check digit',
  DATE: 'personidentifikator does not start with a valid date',
  SYNTHETIC_NOT_ALLOWED: 'synthetic personidentifikator is not accepted by this register',
};

function weightedSum(digits: readonly number[], weights: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum += digits[i]! * weights[i]!;
  return sum;
}

/**
 * Check digits. k2 is the classic mod 11 over the first ten digits. k1 follows the rule for numbers
 * issued from 2032: (Σ w1·d[0..8] + k1) mod 11 ∈ {0,1,2,3}; the classic k1 (sum ≡ 0) is one of those,
 * so one test accepts both generations.
 */
function checkDigitsValid(digits: readonly number[]): boolean {
  const s1 = weightedSum(digits, W1);
  if ((s1 + digits[9]!) % 11 > 3) return false;
  const r2 = 11 - (weightedSum(digits, W2) % 11);
  const k2 = r2 === 11 ? 0 : r2;
  return k2 !== 10 && k2 === digits[10]!;
}

export function checkPersonIdentifier(value: string, rules: IdentifierRules): IdentifierCheck {
  // `^[0-9]{11}$`, by character codes: cheaper than the expression (an import checks millions).
  if (value.length !== 11) return { valid: false, problem: 'FORMAT' };
  const digits = new Array<number>(11);
  for (let i = 0; i < 11; i++) {
    const digit = value.charCodeAt(i) - 48;
    if (!(digit >= 0 && digit <= 9)) return { valid: false, problem: 'FORMAT' };
    digits[i] = digit;
  }
  if (!checkDigitsValid(digits)) return { valid: false, problem: 'CHECK_DIGIT' };

  let day = digits[0]! * 10 + digits[1]!;
  let month = digits[2]! * 10 + digits[3]!;
  let kind: IdentifierKind = 'FNR';
  if (day > 40) {
    day -= 40;
    kind = 'DNR';
  }
  let synthetic = false;
  if (month > 80) {
    month -= 80;
    synthetic = true;
  } else if (month > 40) {
    month -= 40;
    synthetic = true;
  }
  // February 29 is accepted in any year: the century depends on the individual number, and the
  // register has no business rejecting a number Folkeregisteret issued.
  if (month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]!) {
    return { valid: false, problem: 'DATE' };
  }
  if (synthetic && !rules.allowSynthetic) return { valid: false, problem: 'SYNTHETIC_NOT_ALLOWED' };
  return { valid: true, kind, synthetic };
}

const ORGNO_WEIGHTS = [3, 2, 7, 6, 5, 4, 3, 2] as const;

/** Organisation number: 9 digits, mod 11 check digit with weights [3,2,7,6,5,4,3,2]. */
export function isValidOrganisationNumber(value: string): boolean {
  // `^[0-9]{9}$` and the weighted sum in one pass over the character codes.
  if (value.length !== 9) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) {
    const digit = value.charCodeAt(i) - 48;
    if (!(digit >= 0 && digit <= 9)) return false;
    if (i < 8) sum += digit * ORGNO_WEIGHTS[i]!;
  }
  const r = 11 - (sum % 11);
  const check = r === 11 ? 0 : r;
  return check !== 10 && check === value.charCodeAt(8) - 48;
}

// Fødselsnummer, D-nummer, synthetic identifiers and organisation numbers
// (docs/register.md#person-identifiers). Expected values come from an independent check-digit generator
// written here from the formulas of docs/register.md#check-digits, and from examples verified by hand.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkPersonIdentifier, IDENTIFIER_PROBLEM_TEXT, isValidOrganisationNumber } from './identifier.js';
import type { IdentifierRules } from './identifier.js';

const ALLOW: IdentifierRules = { allowSynthetic: true };
const DENY: IdentifierRules = { allowSynthetic: false };

const W1 = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const W2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

function sum(digits: string, weights: number[]): number {
  let s = 0;
  for (let i = 0; i < weights.length; i++) s += Number(digits[i]) * weights[i]!;
  return s;
}

/** Classic mod-11 check digit: 11 − (s mod 11), 11 → 0, 10 → undefined (no valid digit). */
function mod11(s: number): number | undefined {
  const r = 11 - (s % 11);
  if (r === 11) return 0;
  if (r === 10) return undefined;
  return r;
}

/** k2 for ten given digits, or undefined when it would be 10. */
function k2For(ten: string): number | undefined {
  return mod11(sum(ten, W2));
}

/** Nine digits + classic k1 + k2, or undefined when either check digit would be 10. */
function classic(nine: string): string | undefined {
  assert.match(nine, /^[0-9]{9}$/);
  const k1 = mod11(sum(nine, W1));
  if (k1 === undefined) return undefined;
  const k2 = k2For(nine + k1);
  if (k2 === undefined) return undefined;
  return `${nine}${k1}${k2}`;
}

/** Nine digits + the given k1 + the matching k2 (undefined when k2 would be 10). */
function withK1(nine: string, k1: number): string | undefined {
  const k2 = k2For(nine + k1);
  return k2 === undefined ? undefined : `${nine}${k1}${k2}`;
}

/**
 * A valid (classic check digits) identifier for the date part `ddmmyy`, trying individual numbers
 * from `start` until both check digits exist.
 */
function validFor(ddmmyy: string, start = 0): string {
  for (let i = start; i < 1000; i++) {
    const id = classic(ddmmyy + String(i).padStart(3, '0'));
    if (id) return id;
  }
  throw new Error(`no valid identifier for ${ddmmyy}`);
}

function expectValid(id: string, kind: 'FNR' | 'DNR', synthetic: boolean, rules = ALLOW): void {
  assert.deepEqual(checkPersonIdentifier(id, rules), { valid: true, kind, synthetic }, id);
}

function expectProblem(id: string, problem: string, rules = ALLOW): void {
  assert.deepEqual(checkPersonIdentifier(id, rules), { valid: false, problem }, id);
}

describe('test helpers (sanity)', () => {
  it('the generator reproduces hand-computed check digits', () => {
    // 271293241: Σw1 = 192, 192 mod 11 = 5, k1 = 6; Σw2 over 2712932416 = 167, mod 11 = 2, k2 = 9.
    assert.equal(classic('271293241'), '27129324169');
    // 240794123: Σw1 = 169, mod 11 = 4, k1 = 7; Σw2 over 2407941237 = 163, mod 11 = 9, k2 = 2.
    assert.equal(classic('240794123'), '24079412372');
  });
});

describe('checkPersonIdentifier: fødselsnummer', () => {
  it('accepts the documented examples (check digits verified by hand)', () => {
    expectValid('27129324169', 'FNR', false);
    expectValid('24079412372', 'FNR', false);
    expectValid('27129324169', 'FNR', false, DENY);
  });

  it('accepts generated identifiers on many dates, with synthetic identifiers off', () => {
    let count = 0;
    for (const [dd, mm] of [
      ['01', '01'],
      ['31', '01'],
      ['28', '02'],
      ['29', '02'],
      ['31', '03'],
      ['30', '04'],
      ['15', '06'],
      ['31', '07'],
      ['30', '09'],
      ['31', '10'],
      ['30', '11'],
      ['31', '12'],
    ] as const) {
      for (const yy of ['00', '54', '99']) {
        for (let i = 0; i < 1000; i += 97) {
          const id = classic(`${dd}${mm}${yy}${String(i).padStart(3, '0')}`);
          if (!id) continue;
          expectValid(id, 'FNR', false, DENY);
          count++;
        }
      }
    }
    assert.ok(count > 200, `only ${count} identifiers generated`);
  });

  it('refuses a wrong k1 (k2 recomputed so that only k1 is wrong)', () => {
    const nine = '271293241'; // Σw1 = 192 ≡ 5 (mod 11)
    let refused = 0;
    for (let k1 = 0; k1 <= 9; k1++) {
      if ((192 + k1) % 11 <= 3) continue; // acceptable under the 2032 rule
      const id = withK1(nine, k1);
      if (!id) continue;
      expectProblem(id, 'CHECK_DIGIT');
      refused++;
    }
    assert.ok(refused >= 4, `only ${refused} wrong-k1 cases`);
  });

  it('refuses a wrong k2', () => {
    for (const good of ['27129324169', '24079412372', validFor('010190'), validFor('311299', 500)]) {
      for (let k2 = 0; k2 <= 9; k2++) {
        const id = good.slice(0, 10) + k2;
        if (id === good) continue;
        expectProblem(id, 'CHECK_DIGIT');
      }
    }
  });

  it('refuses single-digit changes in the body', () => {
    // Changing one of the first nine digits without updating the check digits must not pass,
    // unless the change happens to satisfy both sums (checked with the generator's own rules).
    const good = '27129324169';
    let refused = 0;
    for (let pos = 0; pos < 9; pos++) {
      for (let d = 0; d <= 9; d++) {
        const id = good.slice(0, pos) + d + good.slice(pos + 1);
        if (id === good) continue;
        const k1ok = (sum(id, W1) + Number(id[9])) % 11 <= 3;
        const k2ok = k2For(id.slice(0, 10)) === Number(id[10]);
        if (k1ok && k2ok) continue;
        const r = checkPersonIdentifier(id, ALLOW);
        assert.equal(r.valid, false, id);
        refused++;
      }
    }
    assert.ok(refused > 70);
  });

  it('accepts a k1 issued under the 2032 rule: (Σw1·d[0..8] + k1) mod 11 ∈ {0,1,2,3}', () => {
    const nine = '010150123';
    const s1 = sum(nine, W1);
    let accepted = 0;
    let refused = 0;
    for (let k1 = 0; k1 <= 9; k1++) {
      const id = withK1(nine, k1);
      if (!id) continue;
      if ((s1 + k1) % 11 <= 3) {
        expectValid(id, 'FNR', false);
        accepted++;
      } else {
        expectProblem(id, 'CHECK_DIGIT');
        refused++;
      }
    }
    assert.ok(accepted >= 3, `accepted ${accepted}`);
    assert.ok(refused >= 4, `refused ${refused}`);
  });

  it('decides k1 by the remainder (Σw1 + k1) mod 11 alone: 0..3 accepted, 4..10 refused', () => {
    const seen = new Array<number>(11).fill(0);
    for (let i = 0; i < 400; i++) {
      const nine = `2${i % 8}0${1 + ((i * 7) % 9)}88${String(i).padStart(3, '0')}`; // days 20..27, months 01..09
      const s1 = sum(nine, W1);
      for (let k1 = 0; k1 <= 9; k1++) {
        const id = withK1(nine, k1);
        if (!id) continue;
        const remainder = (s1 + k1) % 11;
        seen[remainder]!++;
        if (remainder <= 3) expectValid(id, 'FNR', false);
        else expectProblem(id, 'CHECK_DIGIT');
      }
    }
    for (let remainder = 0; remainder <= 10; remainder++)
      assert.ok(seen[remainder]! > 10, `remainder ${remainder}: ${seen[remainder]}`);
  });

  it('accepts 2032-rule numbers whose classic k1 would be 10 (remainder 1)', () => {
    // Find a body whose Σw1 ≡ 1 (mod 11): classic k1 = 10 is impossible, the new rule allows
    // k1 ∈ {0, 1, 2} ((1 + k1) mod 11 ∈ {1, 2, 3}).
    let found = 0;
    for (let i = 0; i < 1000 && found < 3; i++) {
      const nine = `150687${String(i).padStart(3, '0')}`;
      if (sum(nine, W1) % 11 !== 1) continue;
      assert.equal(classic(nine), undefined);
      for (const k1 of [0, 1, 2]) {
        const id = withK1(nine, k1);
        if (id) {
          expectValid(id, 'FNR', false);
          found++;
        }
      }
    }
    assert.ok(found >= 3);
  });

  it('refuses a number whose k2 would be 10, whatever its last digit', () => {
    let cases = 0;
    for (let i = 0; i < 1000 && cases < 3; i++) {
      const nine = `120345${String(i).padStart(3, '0')}`;
      const k1 = mod11(sum(nine, W1));
      if (k1 === undefined) continue;
      const ten = `${nine}${k1}`;
      if (sum(ten, W2) % 11 !== 1) continue; // 11 − 1 = 10
      for (let last = 0; last <= 9; last++) expectProblem(ten + last, 'CHECK_DIGIT');
      cases++;
    }
    assert.ok(cases >= 1, 'no k2 = 10 case found');
  });

  it('refuses anything that is not exactly eleven ASCII digits', () => {
    for (const bad of [
      '',
      '2712932416',
      '271293241690',
      '2712932416a',
      'abcdefghijk',
      ' 27129324169',
      '27129324169 ',
      '27129324169\n',
      '271293-24169',
      '２７１２９３２４１６９',
      '+27129324169',
      '2712932416.',
    ]) {
      expectProblem(bad, 'FORMAT');
    }
  });

  it('refuses impossible dates (with valid check digits)', () => {
    for (const ddmmyy of [
      '011390',
      '010090',
      '001290',
      '321290',
      '300290',
      '310490',
      '310690',
      '310990',
      '311190',
    ]) {
      expectProblem(validFor(ddmmyy), 'DATE');
    }
  });

  it('accepts the last day of every month and 29 February', () => {
    for (const ddmmyy of [
      '310190',
      '290200',
      '290296',
      '310390',
      '300490',
      '310590',
      '300690',
      '310790',
      '310890',
      '300990',
      '311090',
      '301190',
      '311290',
    ]) {
      expectValid(validFor(ddmmyy), 'FNR', false);
    }
  });
});

describe('checkPersonIdentifier: D-nummer (day + 40)', () => {
  it('accepts day 41 to 71 as a D-nummer', () => {
    expectValid(validFor('410190'), 'DNR', false, DENY);
    expectValid(validFor('671293'), 'DNR', false, DENY);
    expectValid(validFor('711290'), 'DNR', false, DENY);
    expectValid(validFor('690290'), 'DNR', false, DENY); // 29 February
  });

  it('refuses D-nummer days that are not dates', () => {
    expectProblem(validFor('721290'), 'DATE'); // 32
    expectProblem(validFor('700290'), 'DATE'); // 30 February
    expectProblem(validFor('710490'), 'DATE'); // 31 April
    expectProblem(validFor('400190'), 'DATE'); // 40: neither a day nor a D-nummer day
    expectProblem(validFor('351290'), 'DATE');
    expectProblem(validFor('801290'), 'DATE');
  });

  it('refuses a D-nummer with a wrong check digit', () => {
    const good = validFor('671293');
    const bad = good.slice(0, 10) + ((Number(good[10]) + 1) % 10);
    expectProblem(bad, 'CHECK_DIGIT');
  });
});

describe('checkPersonIdentifier: synthetic identifiers', () => {
  it('accepts Tenor identifiers (month + 80) when allowed', () => {
    expectValid(validFor('018190'), 'FNR', true); // January
    expectValid(validFor('279293'), 'FNR', true); // December
    expectValid(validFor('298200'), 'FNR', true); // 29 February
  });

  it('accepts NAV identifiers (month + 40) when allowed', () => {
    expectValid(validFor('014190'), 'FNR', true);
    expectValid(validFor('275293'), 'FNR', true);
  });

  it('accepts synthetic D-nummer', () => {
    expectValid(validFor('678193'), 'DNR', true);
    expectValid(validFor('415293'), 'DNR', true);
  });

  it('refuses synthetic identifiers when the operator turns them off', () => {
    for (const ddmmyy of ['018190', '279293', '014190', '275293', '678193']) {
      expectProblem(validFor(ddmmyy), 'SYNTHETIC_NOT_ALLOWED', DENY);
    }
  });

  it('refuses synthetic months that are not months', () => {
    for (const ddmmyy of ['019390', '018090', '015390', '014090', '016090', '012190', '013390', '019990']) {
      expectProblem(validFor(ddmmyy), 'DATE');
    }
    expectProblem(validFor('308290'), 'DATE'); // Tenor 30 February
    expectProblem(validFor('314490'), 'DATE'); // NAV 31 April
  });
});

describe('IDENTIFIER_PROBLEM_TEXT', () => {
  it('has a text for every problem, never containing digits of an identifier', () => {
    for (const problem of ['FORMAT', 'CHECK_DIGIT', 'DATE', 'SYNTHETIC_NOT_ALLOWED'] as const) {
      const text = IDENTIFIER_PROBLEM_TEXT[problem];
      assert.equal(typeof text, 'string');
      assert.ok(text.length > 0);
      assert.doesNotMatch(text, /[0-9]{6}/);
    }
    assert.equal(IDENTIFIER_PROBLEM_TEXT.CHECK_DIGIT, 'personidentifikator has an invalid check digit');
  });
});

describe('isValidOrganisationNumber', () => {
  const ORG_W = [3, 2, 7, 6, 5, 4, 3, 2];

  it('accepts known organisation numbers (verified by hand)', () => {
    // 98466118: Σ = 160, 160 mod 11 = 6, check = 5.
    assert.equal(isValidOrganisationNumber('984661185'), true); // Digipost
    // 99646032: Σ = 154, 154 mod 11 = 0, check = 11 → 0.
    assert.equal(isValidOrganisationNumber('996460320'), true); // e-Boks
    // 99182582: Σ = 158, 158 mod 11 = 4, check = 7.
    assert.equal(isValidOrganisationNumber('991825827'), true);
  });

  it('refuses every single-digit change of a valid number', () => {
    for (const good of ['984661185', '996460320', '991825827']) {
      for (let pos = 0; pos < 9; pos++) {
        for (let d = 0; d <= 9; d++) {
          const id = good.slice(0, pos) + d + good.slice(pos + 1);
          if (id === good) continue;
          // A change in one position changes Σ by w·Δ, w < 11 and |Δ| < 10: never ≡ 0 (mod 11),
          // and a change of the check digit itself is always wrong.
          assert.equal(isValidOrganisationNumber(id), false, id);
        }
      }
    }
  });

  it('agrees with an independent generator, and refuses remainder 1 (check digit 10)', () => {
    let valid = 0;
    let ten = 0;
    for (let i = 0; i < 2000; i++) {
      const eight = String(80000000 + i * 7919).slice(0, 8);
      const s = sum(eight, ORG_W);
      const check = mod11(s);
      if (check === undefined) {
        ten++;
        for (let d = 0; d <= 9; d++) assert.equal(isValidOrganisationNumber(eight + d), false, eight + d);
        continue;
      }
      assert.equal(isValidOrganisationNumber(eight + check), true, eight + check);
      assert.equal(isValidOrganisationNumber(eight + ((check + 1) % 10)), false);
      valid++;
    }
    assert.ok(valid > 1000 && ten > 50);
  });

  it('refuses wrong lengths and non-digits', () => {
    for (const bad of [
      '',
      '98466118',
      '9846611850',
      '98466118a',
      ' 984661185',
      '984 661 185',
      'NO984661185',
      '984661185\n',
    ]) {
      assert.equal(isValidOrganisationNumber(bad), false, JSON.stringify(bad));
    }
  });
});

// Both checks read the digits by character code instead of `^[0-9]{11}$` / `^[0-9]{9}$`: the format
// verdict must be the expression's for any string, digits of other scripts and line ends included.
describe('the digit checks against the regular expressions (property)', () => {
  const nearlyDigits = (length: number) =>
    fc
      .array(fc.constantFrom(...'0123456789'.split(''), '/', ':', ' ', '\n', '\u0660', '\uff10', 'a', '-'), {
        minLength: length - 1,
        maxLength: length + 1,
      })
      .map((chars) => chars.join(''));
  const candidates = (length: number) => fc.oneof(nearlyDigits(length), fc.string(), fc.fullUnicodeString());

  it('checkPersonIdentifier says FORMAT exactly when the value is not 11 ASCII digits', () => {
    fc.assert(
      fc.property(candidates(11), (value) => {
        const check = checkPersonIdentifier(value, { allowSynthetic: true });
        const format = !check.valid && check.problem === 'FORMAT';
        assert.equal(format, !/^[0-9]{11}$/.test(value), JSON.stringify(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('isValidOrganisationNumber refuses whatever is not 9 ASCII digits', () => {
    fc.assert(
      fc.property(candidates(9), (value) => {
        if (!/^[0-9]{9}$/.test(value))
          assert.equal(isValidOrganisationNumber(value), false, JSON.stringify(value));
      }),
      { numRuns: 2000 },
    );
  });
});

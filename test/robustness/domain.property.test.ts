// Domain rules checked with fast-check against independent statements of them: identifier check
// digits against a reference written from docs/register.md#check-digits, and timestamps
// (docs/lookup.md#timestamps) surviving the round trip out and in again.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkPersonIdentifier, isValidOrganisationNumber } from '../../src/identifier/identifier.js';
import { withCheckDigits } from '../../src/identifier/identifier.generate.js';
import { formatOslo, parseInstant } from '../../src/time/oslo-time.js';

const RUNS = Number(process.env.KRR_FUZZ_RUNS ?? 40) * 25;

/** docs/register.md#check-digits, written out plainly: is the pair of check digits of `d` acceptable? */
function referenceCheckDigits(d: readonly number[]): boolean {
  const w1 = [3, 7, 6, 1, 8, 9, 4, 5, 2];
  const w2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
  const s1 = w1.reduce((sum, w, i) => sum + w * d[i]!, 0);
  const classicK1 = (11 - (s1 % 11)) % 11; // 11 means 0; 10 means no classic k1
  const k1Ok = (classicK1 !== 10 && d[9] === classicK1) || [0, 1, 2, 3].includes((s1 + d[9]!) % 11);
  const s2 = w2.reduce((sum, w, i) => sum + w * d[i]!, 0);
  const k2 = (11 - (s2 % 11)) % 11;
  return k1Ok && k2 !== 10 && d[10] === k2;
}

const digits = (n: number) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n });

describe('identifier check digits (property, against a reference)', () => {
  it('an 11-digit string fails on check digits exactly when the reference says so', () => {
    fc.assert(
      fc.property(digits(11), (d) => {
        const check = checkPersonIdentifier(d.join(''), { allowSynthetic: true });
        const checkDigitProblem = !check.valid && check.problem === 'CHECK_DIGIT';
        assert.equal(!checkDigitProblem, referenceCheckDigits(d), d.join(''));
      }),
      { numRuns: RUNS },
    );
  });

  it('withCheckDigits gives what the reference accepts, and changing any digit is refused or another valid number', () => {
    fc.assert(
      fc.property(
        digits(9),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 1, max: 9 }),
        (nine, at, by) => {
          const id = withCheckDigits(nine.join(''));
          if (id === undefined) return;
          assert.ok(referenceCheckDigits([...id].map(Number)), id);
          const changed = [...id].map(Number);
          changed[at] = (changed[at]! + by) % 10;
          const check = checkPersonIdentifier(changed.join(''), { allowSynthetic: true });
          if (!referenceCheckDigits(changed)) assert.ok(!check.valid);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('anything but 11 ASCII digits is a FORMAT problem', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 15 }).filter((s) => !/^[0-9]{11}$/.test(s)),
        (s) => {
          const check = checkPersonIdentifier(s, { allowSynthetic: true });
          assert.ok(!check.valid && check.problem === 'FORMAT', JSON.stringify(s));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('organisation numbers: mod 11 with weights [3,2,7,6,5,4,3,2]', () => {
    fc.assert(
      fc.property(digits(9), (d) => {
        const s = [3, 2, 7, 6, 5, 4, 3, 2].reduce((sum, w, i) => sum + w * d[i]!, 0);
        const k = (11 - (s % 11)) % 11;
        assert.equal(isValidOrganisationNumber(d.join('')), k !== 10 && d[8] === k, d.join(''));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('timestamps (property)', () => {
  // Whole seconds from 1900 to 2100: the register keeps whole seconds.
  const instant = fc
    .integer({ min: Date.UTC(1900, 0, 1) / 1000, max: Date.UTC(2100, 0, 1) / 1000 })
    .map((s) => s * 1000);

  it('what goes out comes back in: parseInstant(formatOslo(t)) = t', () => {
    fc.assert(
      fc.property(instant, (t) => {
        const text = formatOslo(t);
        assert.match(text, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}$/);
        assert.equal(parseInstant(text), t, `${new Date(t).toISOString()} -> ${text}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('any offset, Z, and fractions are read as the same instant (fractions dropped)', () => {
    fc.assert(
      fc.property(
        instant,
        fc.integer({ min: -18 * 60, max: 18 * 60 }),
        fc.integer({ min: 0, max: 999 }),
        (t, offsetMinutes, ms) => {
          const local = new Date(t + offsetMinutes * 60_000).toISOString().slice(0, 19);
          const sign = offsetMinutes < 0 ? '-' : '+';
          const abs = Math.abs(offsetMinutes);
          const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
          const fraction = `.${String(ms).padStart(3, '0')}`;
          const year = Number(local.slice(0, 4));
          if (year < 1900) return; // before the register's first year
          assert.equal(parseInstant(`${local}${fraction}${zone}`), t, `${local}${fraction}${zone}`);
          if (offsetMinutes === 0) assert.equal(parseInstant(`${local}Z`), t);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('garbage is refused, never thrown on', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        const t = parseInstant(s);
        assert.ok(t === undefined || Number.isFinite(t));
      }),
      { numRuns: RUNS },
    );
  });
});

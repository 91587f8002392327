// Random import lines (docs/import-export.md#lines), black-box through importPersons, on both stores: a file
// of good lines (blank lines among them) with bad lines somewhere is refused naming the FIRST bad line,
// with a message that repeats no value from the file, and the register's export is unchanged.
// The good lines change persons the register already holds, so a partial write would show.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { isDerCertificate } from '../../src/certificate/certificate.js';
import { syntheticPersons } from '../../src/demo/synthetic-persons.js';
import { ImportError } from '../../src/errors/errors.js';
import type { PersonRules } from '../../src/person/person.js';
import { renderExportLine, renderPerson } from '../../src/answer/answer.render.js';
import { PersonWriter } from '../../src/register/person.writer.js';
import { exportOf } from '../support/fake-feed.js';
import { openTestStore, skipReason, STORE_KINDS } from '../support/stores.js';
import type { TestStore } from '../support/stores.js';
import { importPersons } from '../../src/transfer/import.service.js';

const RUNS = Number(process.env.KRR_FUZZ_RUNS ?? 40);
const RULES: PersonRules = { allowSynthetic: true, isCertificate: isDerCertificate };
const NOW = Date.UTC(2025, 0, 15, 12);
const SEEDED = [...syntheticPersons(40, { seed: 1, now: NOW })];
// The same identifiers with other data: importing them would change the register.
const GOOD = [...syntheticPersons(30, { seed: 2, now: NOW })].map(
  (p) => JSON.parse(renderExportLine(renderPerson(p))) as Record<string, unknown>,
);

type Line = Record<string, unknown>;

/** A good line with one member made bad; each is refused by the rules of docs/import-export.md#lines. */
const badMutation: fc.Arbitrary<(good: Line) => unknown> = fc.oneof(
  fc
    .constantFrom('1234567890a', 'abcdefghijk', '123', '', '\u0000'.repeat(11), '\ud800')
    .map((id) => (g: Line) => ({ ...g, personidentifikator: id })),
  fc.integer({ min: 1, max: 9 }).map((d) => (g: Line) => {
    const id = String(g.personidentifikator);
    return { ...g, personidentifikator: id.slice(0, 10) + String((Number(id[10]) + d) % 10) };
  }),
  fc.constant((g: Line) => ({ ...g, personidentifikator: Number(g.personidentifikator) })),
  fc.constantFrom('aktiv', 'IKKE_REGISTRERT', '', 1, null).map((status) => (g: Line) => ({ ...g, status })),
  fc.constantFrom('NO', 'nob', '', 7).map((spraak) => (g: Line) => ({ ...g, spraak })),
  fc
    .constantFrom('ola', 'ola@', 'a\u0000b@example.no', 'ola @example.no', `${'x'.repeat(45)}@ex.no`)
    .map((epostadresse) => (g: Line) => ({ ...g, status: 'AKTIV', kontaktinformasjon: { epostadresse } })),
  fc
    .constantFrom('99x99999', '1234', '+47 1234567', '\u000099999999')
    .map((mobiltelefonnummer) => (g: Line) => ({
      ...g,
      status: 'AKTIV',
      kontaktinformasjon: { mobiltelefonnummer },
    })),
  fc
    .constantFrom('yesterday', '2020-13-01T00:00:00Z', '2020-01-01T00:00:00', '', 0)
    .map((at) => (g: Line) => ({ ...g, spraak: 'nb', spraak_oppdatert: at })),
  fc.constantFrom('kort', 'a\u0000bcdefghij', 'ok#adresse\ud800').map((postkasseadresse) => (g: Line) => ({
    ...g,
    status: 'AKTIV',
    digital_post: { postkasseadresse, postkasseleverandoeradresse: '984661185' },
  })),
  fc.constantFrom('not base64!', 'bm90IGEgY2VydA==').map((sertifikat) => (g: Line) => ({ ...g, sertifikat })),
  // Not null: a null kontaktinformasjon is taken as absent (Java clients send null for unset fields).
  fc.constantFrom([], 'x', 42, true).map((kontaktinformasjon) => (g: Line) => ({ ...g, kontaktinformasjon })),
);

/** A bad line's text: a mutated good line, JSON that is not an object, or not JSON at all. */
const badLine: fc.Arbitrary<(good: Line) => string> = fc.oneof(
  badMutation.map((mutate) => (g: Line) => JSON.stringify(mutate(g))),
  fc
    .jsonValue({ maxDepth: 3 })
    .filter((v) => v === null || typeof v !== 'object' || Array.isArray(v))
    .map((v) => () => JSON.stringify(v)),
  fc
    .string({ minLength: 1, maxLength: 40 })
    .filter((s) => s.trim() !== '' && !parses(s))
    .map((s) => () => s),
  fc.constantFrom('{', '{"personidentifikator":', '\u0000', '\ufeff{}', '['.repeat(5000)).map((s) => () => s),
);

function parses(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

// eslint-disable-next-line @typescript-eslint/require-await -- an AsyncIterable, as the import takes; nothing to await
async function* linesOf(lines: readonly string[]): AsyncGenerator<string> {
  for (const l of lines) yield l;
}

for (const kind of STORE_KINDS) {
  describe(`import of random bad lines (${kind})`, { skip: await skipReason(kind) }, () => {
    let store: TestStore;
    let before_ = '';

    before(async () => {
      store = await openTestStore(kind);
      await new PersonWriter(store.db).write(SEEDED);
      before_ = await exportOf(store.db);
    });
    after(async () => store?.dispose());

    it('names the first bad line, echoes nothing, and writes nothing', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 25 }),
          fc.array(fc.boolean(), { maxLength: 25 }), // where blank lines go among the good ones
          badLine,
          fc.option(badLine, { nil: undefined }),
          fc.boolean(), // a duplicate of an earlier good line instead of the bad one
          async (goodCount, blanks, bad, secondBad, duplicate) => {
            const lines: string[] = [];
            const used: string[] = [];
            for (let i = 0; i < goodCount; i++) {
              if (blanks[i]) lines.push(i % 2 ? '' : '   ');
              lines.push(JSON.stringify(GOOD[i]));
              used.push(String(GOOD[i]!.personidentifikator));
            }
            const badSource = GOOD[goodCount]!;
            lines.push(
              duplicate && goodCount > 0 ? JSON.stringify({ ...GOOD[0], spraak: 'en' }) : bad(badSource),
            );
            const firstBad = lines.length; // 1-based
            lines.push(JSON.stringify(GOOD[goodCount + 1]));
            if (secondBad) lines.push(secondBad(GOOD[goodCount + 2]!));

            let error: unknown;
            try {
              await importPersons(new PersonWriter(store.db), linesOf(lines), { rules: RULES, batchSize: 7 });
            } catch (err) {
              error = err;
            }
            assert.ok(
              error instanceof ImportError,
              `expected an ImportError, got ${String(error)}\n${lines.join('\n')}`,
            );
            assert.match(error.message, new RegExp(`^line ${firstBad}\\b`), error.message);
            for (const id of [...used, String(badSource.personidentifikator)]) {
              assert.ok(!error.message.includes(id), `the message names an identifier: ${error.message}`);
            }
            assert.doesNotMatch(error.message, /@example|@ex\.no|99999999/, error.message);
            assert.equal(await exportOf(store.db), before_, 'the register changed');
          },
        ),
        { numRuns: RUNS },
      );
    });
  });
}

// Bad input: property-based bodies (fast-check) and a list of nasty cases, against
// every endpoint that takes a body (endpoints.ts), with a valid token, on both stores. Whatever comes
// in, the answer is never a 5xx: it is 200 where the input is valid, else a 4xx with the error body
// (docs/errors.md#error-body) whose source.pointer resolves in the body sent, and it never echoes a
// submitted value.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { generateSelfSignedCertificate } from '../../src/certificate/certificate-generator.js';
import { makeIdentifier } from '../../src/identifier/identifier.generate.js';
import { ProviderService } from '../../src/provider/provider.service.js';
import { skipReason, STORE_KINDS } from '../support/stores.js';
import { startTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';
import { checkAnswer } from './answer-checks.js';
import { BODY_ENDPOINTS, PROVIDER_ORGNO, REGISTERED, SEED_PERSONS } from './endpoints.js';
import type { BodyEndpoint } from './endpoints.js';

// Enough runs to meet each class of value several times; both stores and every endpoint multiply it.
const RUNS = Number(process.env.KRR_FUZZ_RUNS ?? 40);
const BODY_LIMIT = 1024 * 1024;

const PROVIDER_CERT = (
  await generateSelfSignedCertificate({ commonName: 'fuzz provider', keyUsage: 'encryption' })
).certificateDerBase64;

/** Any UTF-16 code units, lone surrogates and NUL included. */
const codeUnits = (maxLength: number) =>
  fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength }).map((units) => String.fromCharCode(...units));

/** Strings a client might send where an identifier belongs. */
const identifierLike = fc.oneof(
  // 11 characters of digits and letters
  fc
    .array(fc.constantFrom(...'0123456789abcXYZæøå'), { minLength: 11, maxLength: 11 })
    .map((c) => c.join('')),
  // a valid identifier with one digit changed: a wrong check digit (or another valid number)
  fc.tuple(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 1, max: 9 })).map(([i, d]) => {
    const digits = [...REGISTERED];
    digits[i] = String((Number(digits[i]) + d) % 10);
    return digits.join('');
  }),
  fc.string({ maxLength: 30 }),
  codeUnits(20),
  fc.constantFrom('', ' ', '\u0000', '\ud800', '\udfff', '\ufeff' + REGISTERED, `${REGISTERED}\u0000`),
);

/** Any JSON value, some deep, including the prototype-pollution keys. */
const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  identifierLike,
  fc.integer(),
  fc.double(),
  fc.constantFrom(null, true, [], {}, 12345678901, 1e308, -1, 2 ** 53, 0.5),
  fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString'), fc.jsonValue(), {
    maxKeys: 2,
  }),
);

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'Application/JSON;Charset=UTF-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/json; charset=latin1',
  '',
];

const encode = (e: BodyEndpoint, body: Record<string, unknown>) => (e.encode ?? JSON.stringify)(body);

function parseOrUndefined(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

for (const kind of STORE_KINDS) {
  describe(`bad input never gives a 5xx (${kind})`, { skip: await skipReason(kind) }, () => {
    let t: TestApp;
    const tokens = new Map<BodyEndpoint, string>();

    before(async () => {
      t = await startTestApp(kind);
      await new ProviderService(t.store.db).add({
        orgno: PROVIDER_ORGNO,
        name: 'Digipost',
        certificate: PROVIDER_CERT,
      });
      await t.write(SEED_PERSONS);
      for (const e of BODY_ENDPOINTS) {
        // A logged-in person's endpoint takes an ID-porten token (docs/tokens.md#issuer-kinds).
        tokens.set(
          e,
          e.pid
            ? await t.personToken(e.scopes, e.pid)
            : await t.token(e.scopes, e.consumer ? { consumer: e.consumer } : {}),
        );
      }
    });
    after(async () => t?.close());

    /** Sends `payload` (text or bytes) to the endpoint with its token. */
    function send(e: BodyEndpoint, payload: string | Buffer, contentType?: string) {
      const headers: Record<string, string> = { authorization: `Bearer ${tokens.get(e)!}` };
      if (contentType !== '') headers['content-type'] = contentType ?? e.contentType ?? 'application/json';
      return t.app.inject({ method: e.method, url: e.path, headers, payload });
    }

    async function sendJsonText(e: BodyEndpoint, text: string, what: string, contentType?: string) {
      const res = await send(e, text, contentType);
      checkAnswer(e, res, parseOrUndefined(text), what);
      return res;
    }

    for (const e of BODY_ENDPOINTS) {
      describe(`${e.method} ${e.path}`, () => {
        it('answers its valid body with 200', async () => {
          const res = await sendJsonText(e, encode(e, e.valid()), 'its valid body');
          assert.equal(res.statusCode, 200, res.body);
        });

        it('property: any JSON value as the whole body', async () => {
          await fc.assert(
            fc.asyncProperty(anyJson, async (value) => {
              await sendJsonText(e, JSON.stringify(value) ?? 'null', 'a random JSON body');
            }),
            { numRuns: RUNS },
          );
        });

        it('property: one member of a valid body replaced by any value (wrong types)', async () => {
          const keys = Object.keys(e.valid());
          await fc.assert(
            fc.asyncProperty(fc.constantFrom(...keys), anyJson, async (key, value) => {
              const body = { ...e.valid(), [key]: value };
              await sendJsonText(e, encode(e, body), `${key} replaced`);
            }),
            { numRuns: RUNS },
          );
        });

        it('property: identifier-like strings wherever a string is', async () => {
          const valid = e.valid();
          const stringKeys = Object.keys(valid).filter(
            (k) => typeof valid[k] === 'string' || Array.isArray(valid[k]),
          );
          if (stringKeys.length === 0) return; // the feed takes a number only; covered above
          await fc.assert(
            fc.asyncProperty(
              fc.constantFrom(...stringKeys),
              fc.array(identifierLike, { minLength: 1, maxLength: 5 }),
              async (key, values) => {
                const body = { ...e.valid(), [key]: Array.isArray(valid[key]) ? values : values[0] };
                const res = await sendJsonText(e, encode(e, body), `${key} identifier-like`);
                // An identifier list with a bad value is a 422 naming it (docs/errors.md#statuses).
                if (key === 'personidentifikatorer' && res.statusCode === 422) {
                  const errors = (JSON.parse(res.body) as { errors: { source?: { pointer: string } }[] })
                    .errors;
                  for (const err of errors)
                    assert.match(err.source!.pointer, /^\/personidentifikatorer\/\d+$/);
                }
              },
            ),
            { numRuns: RUNS },
          );
        });

        if (e.path.endsWith('/personer')) {
          it('property: valid identifiers (any date, D-numbers, synthetic, duplicates) are answered 200, ascending, once each', async () => {
            const identifier = fc
              .record({
                day: fc.integer({ min: 1, max: 28 }),
                month: fc.integer({ min: 1, max: 12 }),
                year: fc.integer({ min: 0, max: 99 }),
                individual: fc.integer({ min: 0, max: 900 }),
                dNumber: fc.boolean(),
                synthetic: fc.constantFrom(undefined, 'tenor' as const, 'nav' as const),
              })
              .map(({ individual, ...spec }) => makeIdentifier(spec, individual));
            await fc.assert(
              fc.asyncProperty(
                fc.array(fc.oneof(identifier, fc.constant(REGISTERED)), { minLength: 1, maxLength: 30 }),
                fc.boolean(),
                async (ids, inkluder) => {
                  const body = {
                    ...e.valid(),
                    personidentifikatorer: ids,
                    inkluderIkkeRegistrerte: inkluder,
                  };
                  const res = await sendJsonText(e, encode(e, body), 'valid identifiers');
                  assert.equal(res.statusCode, 200, res.body);
                  const got = (
                    JSON.parse(res.body) as { personer: { personidentifikator: string }[] }
                  ).personer.map((p) => p.personidentifikator);
                  const unique = [...new Set(ids)].sort();
                  const expected =
                    e.path.includes('/v1/') || inkluder ? unique : unique.filter((id) => id === REGISTERED);
                  assert.deepEqual(got, expected);
                },
              ),
              { numRuns: RUNS },
            );
          });
        }

        it('property: random bytes as the body', async () => {
          await fc.assert(
            fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
              const buffer = Buffer.from(bytes);
              const res = await send(e, buffer);
              checkAnswer(e, res, parseOrUndefined(buffer.toString('utf8')), 'random bytes');
            }),
            { numRuns: RUNS },
          );
        });

        it('property: a valid body under any content type', async () => {
          await fc.assert(
            fc.asyncProperty(fc.constantFrom(...CONTENT_TYPES), async (contentType) => {
              await sendJsonText(e, encode(e, e.valid()), `content type "${contentType}"`, contentType);
            }),
            { numRuns: Math.min(RUNS, CONTENT_TYPES.length * 2) },
          );
        });

        // The nasty list: each a known way to break a parser, a validator or the store.
        const valid = e.valid();
        const firstKey = Object.keys(valid)[0]!;
        const withFirst = (raw: string) => {
          const rest = JSON.stringify({ ...valid, [firstKey]: undefined }).slice(1, -1);
          return `{"${firstKey}":${raw}${rest ? `,${rest}` : ''}}`;
        };
        const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
        const NASTY: ReadonlyArray<readonly [string, string | Buffer, number[]?]> = [
          ['an empty body', '', [400]],
          ['whitespace only', '  \n\t ', [400]],
          ['null', 'null', [400]],
          ['an array', '[]', [400]],
          ['a string', '"x"', [400]],
          ['a number', '42', [400]],
          ['truncated JSON', JSON.stringify(valid).slice(0, -1), [400]],
          ['10,000 levels of [', deep(10_000), [400]],
          ['100,000 unclosed [', '['.repeat(100_000), [400]],
          ['10,000 levels of [ as the first member', withFirst(deep(10_000)), [400]],
          [
            '5,000 levels of objects in an extra member',
            JSON.stringify(valid).slice(0, -1) +
              ',"extra":' +
              '{"a":'.repeat(5000) +
              '1' +
              '}'.repeat(5000) +
              '}',
          ],
          ['a NUL in a string', withFirst(JSON.stringify(['\u0000', 'a\u0000b']).replace(/^\[|\]$/g, ''))],
          ['a NUL as the first member', withFirst('"\\u0000"')],
          ['NUL identifiers', withFirst('["\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000"]')],
          ['a lone surrogate', withFirst('"\\ud800"')],
          ['lone surrogates in a list', withFirst('["\\ud800","\\udfff12345678901"]')],
          ['control characters', withFirst('"\\u0001\\u001f\\b\\f\\n\\r\\t"')],
          ['a BOM before the body', `\ufeff${JSON.stringify(valid)}`, [200, 400]],
          [
            'invalid UTF-8 bytes',
            Buffer.concat([Buffer.from(withFirst('"')), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]),
          ],
          [
            'an overlong UTF-8 NUL',
            Buffer.concat([Buffer.from(withFirst('"')), Buffer.from([0xc0, 0x80]), Buffer.from('"}')]),
          ],
          ['duplicate keys', `{"${firstKey}":"first",${JSON.stringify(valid).slice(1)}`],
          ['a number where a string belongs', withFirst('12345678901')],
          ['numbers where strings belong', withFirst('[12345678901, 27129324169]')],
          ['a huge number', withFirst('1e999999')],
          ['a negative number', withFirst('-1')],
          ['a fraction', withFirst('0.5')],
          ['letters in identifiers', withFirst('["1234567890a","abcdefghijk"]')],
          [
            'identifiers with a wrong check digit',
            withFirst(JSON.stringify([REGISTERED.slice(0, 10) + ((Number(REGISTERED[10]) + 1) % 10)])),
          ],
          ['1001 identifiers', withFirst(JSON.stringify(Array.from({ length: 1001 }, () => REGISTERED)))],
          ['100,000 identifiers', withFirst(JSON.stringify(Array.from({ length: 100_000 }, () => 'x')))],
          ['a 900 KB string', withFirst(JSON.stringify('9'.repeat(900_000)))],
          ['a 900 KB string in a list', withFirst(JSON.stringify(['9'.repeat(900_000)]))],
          ['a body just over the size limit', `{"x":"${'a'.repeat(BODY_LIMIT)}"}`, [413]],
          ['__proto__ member', JSON.stringify(valid).slice(0, -1) + ',"__proto__":{"polluted":true}}'],
          [
            'constructor.prototype member',
            JSON.stringify(valid).slice(0, -1) + ',"constructor":{"prototype":{"polluted":true}}}',
          ],
          ['__proto__ as the first member', withFirst('{"__proto__":{"isAdmin":true}}')],
          ['null as the first member', withFirst('null')],
          ['an object as the first member', withFirst('{}')],
          [
            'personal data in an unknown member',
            JSON.stringify({
              ...valid,
              epost: 'ola@example.no',
              fnr: makeIdentifier({ day: 1, month: 1, year: 90 }),
            }),
          ],
        ];
        for (const [name, payload, expected] of NASTY) {
          it(`nasty: ${name}`, async () => {
            const res = await send(e, payload);
            const text = Buffer.isBuffer(payload) ? payload.toString('utf8') : payload;
            checkAnswer(e, res, parseOrUndefined(text), name);
            if (expected)
              assert.ok(
                expected.includes(res.statusCode),
                `${name}: ${res.statusCode} ${res.body.slice(0, 300)}`,
              );
            assert.equal(
              ({} as Record<string, unknown>).polluted,
              undefined,
              'Object.prototype was polluted',
            );
            assert.equal(({} as Record<string, unknown>).isAdmin, undefined, 'Object.prototype was polluted');
          });
        }
      });
    }
  });
}

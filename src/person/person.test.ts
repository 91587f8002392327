// The register's fields and their rules (docs/register.md#the-person-record, docs/register.md#record-rules)
// and the import shape (docs/import-export.md#lines).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isValidEmail, isValidMobile, latestChannelConfirmation, parsePerson } from './person.js';
import type { FieldProblem, Person, PersonRules } from './person.js';

const utc = Date.UTC;
const CERT = 'MIIBdGVzdC1jZXJ0aWZpY2F0ZQ==';
const RULES: PersonRules = { allowSynthetic: true, isCertificate: (b64) => b64 === CERT };
const NO_SYNTHETIC: PersonRules = { allowSynthetic: false, isCertificate: (b64) => b64 === CERT };

// 27129324169 and 24079412372 are valid fødselsnummer (check digits verified by hand in
// identifier.test.ts).
const PID = '27129324169';

function fullInput(): Record<string, unknown> {
  return {
    personidentifikator: PID,
    reservasjon: 'JA',
    reservasjonstidspunkt: '2017-11-07T09:48:38+01',
    reservasjon_oppdatert: '2017-11-07T09:48:38+01:00',
    status: 'AKTIV',
    kontaktinformasjon: {
      epostadresse: 'ola.nordmann@example.no',
      epostadresse_oppdatert: '2015-03-11T19:57:52+01',
      epostadresse_sist_verifisert: '2017-11-07T08:48:38Z',
      mobiltelefonnummer: '+4799999999',
      mobiltelefonnummer_oppdatert: '2015-03-11T19:57:52+0100',
      mobiltelefonnummer_sist_verifisert: '2018-07-31T23:19:02+02',
    },
    digital_post: { postkasseadresse: 'ola.nordmann#9YDT', postkasseleverandoeradresse: '984661185' },
    sertifikat: CERT,
    spraak: 'nb',
    spraak_oppdatert: '2020-11-12T11:00:58+01',
  };
}

function parseOk(input: unknown, rules = RULES): { value: Person; ignoredFields: readonly string[] } {
  const r = parsePerson(input, rules);
  if (!r.ok) assert.fail(`expected ok, got ${JSON.stringify(r.problems)}`);
  return r;
}

function parseProblems(input: unknown, rules = RULES): readonly FieldProblem[] {
  const r = parsePerson(input, rules);
  if (r.ok) assert.fail(`expected problems, got ${JSON.stringify(r.value)}`);
  assert.ok(r.problems.length > 0);
  return r.problems;
}

function pointers(input: unknown, rules = RULES): string[] {
  return parseProblems(input, rules).map((p) => p.pointer);
}

function withContact(extra: Record<string, unknown>): Record<string, unknown> {
  const input = fullInput();
  input.kontaktinformasjon = { ...(input.kontaktinformasjon as object), ...extra };
  return input;
}

describe('parsePerson: accepted persons', () => {
  it('reads a full AKTIV person, every timestamp as an instant', () => {
    const { value, ignoredFields } = parseOk(fullInput());
    assert.deepEqual(value, {
      personidentifikator: PID,
      status: 'AKTIV',
      reservasjon: 'JA',
      reservasjonstidspunkt: utc(2017, 10, 7, 8, 48, 38),
      reservasjon_oppdatert: utc(2017, 10, 7, 8, 48, 38),
      kontaktinformasjon: {
        epostadresse: 'ola.nordmann@example.no',
        epostadresse_oppdatert: utc(2015, 2, 11, 18, 57, 52),
        epostadresse_sist_verifisert: utc(2017, 10, 7, 8, 48, 38),
        mobiltelefonnummer: '+4799999999',
        mobiltelefonnummer_oppdatert: utc(2015, 2, 11, 18, 57, 52),
        mobiltelefonnummer_sist_verifisert: utc(2018, 6, 31, 21, 19, 2),
      },
      digital_post: { postkasseadresse: 'ola.nordmann#9YDT', postkasseleverandoeradresse: '984661185' },
      sertifikat: CERT,
      spraak: 'nb',
      spraak_oppdatert: utc(2020, 10, 12, 10, 0, 58),
    });
    assert.deepEqual(ignoredFields, []);
  });

  it('reads a minimal person: reservasjon defaults to NEI, nothing else is invented', () => {
    const { value } = parseOk({ personidentifikator: PID, status: 'AKTIV' });
    assert.deepEqual(value, { personidentifikator: PID, status: 'AKTIV', reservasjon: 'NEI' });
    assert.equal('kontaktinformasjon' in value, false);
    assert.equal('digital_post' in value, false);
  });

  it('treats null like an absent field', () => {
    const { value } = parseOk({
      personidentifikator: PID,
      status: 'AKTIV',
      reservasjon: null,
      kontaktinformasjon: null,
      digital_post: null,
      sertifikat: null,
      spraak: null,
    });
    assert.deepEqual(value, { personidentifikator: PID, status: 'AKTIV', reservasjon: 'NEI' });
  });

  it('drops reservasjonstidspunkt when reservasjon is NEI', () => {
    const input = { ...fullInput(), reservasjon: 'NEI' };
    const { value } = parseOk(input);
    assert.equal(value.reservasjon, 'NEI');
    assert.equal(value.reservasjonstidspunkt, undefined);
    assert.equal('reservasjonstidspunkt' in value, false);
    assert.equal(value.reservasjon_oppdatert, utc(2017, 10, 7, 8, 48, 38));
  });

  it('keeps no contact data, mailbox or certificate for a SLETTET person', () => {
    const input = { ...fullInput(), status: 'SLETTET' };
    const { value } = parseOk(input);
    assert.equal(value.personidentifikator, PID);
    assert.equal(value.status, 'SLETTET');
    assert.equal('kontaktinformasjon' in value, false);
    assert.equal('digital_post' in value, false);
    assert.equal('sertifikat' in value, false);
    assert.equal('reservasjonstidspunkt' in value, false);
  });

  it('leaves out an empty kontaktinformasjon and empty strings', () => {
    assert.equal(
      'kontaktinformasjon' in
        parseOk({ personidentifikator: PID, status: 'AKTIV', kontaktinformasjon: {} }).value,
      false,
    );
    const { value } = parseOk({
      personidentifikator: PID,
      status: 'AKTIV',
      kontaktinformasjon: { epostadresse: '', mobiltelefonnummer: '99999999' },
    });
    assert.deepEqual(value.kontaktinformasjon, { mobiltelefonnummer: '99999999' });
  });

  it('accepts every language of the person record', () => {
    for (const spraak of ['nb', 'nn', 'en', 'se']) {
      assert.equal(parseOk({ personidentifikator: PID, status: 'AKTIV', spraak }).value.spraak, spraak);
    }
  });

  it('accepts a D-nummer and, when allowed, a synthetic identifier', () => {
    // 67129324xxx: D-nummer of the 27.12.93 example (Σw1 over 671293240 = 202 ≡ 4, k1 = 7;
    // Σw2 over 6712932407 = 186 ≡ 10, k2 = 1).
    parseOk({ personidentifikator: '67129324071', status: 'AKTIV' }, NO_SYNTHETIC);
    // 27929324xxx: Tenor month 92 (Σw1 over 279293240 = 238 ≡ 7, k1 = 4; Σw2 over 2792932404 = 184 ≡ 8, k2 = 3).
    parseOk({ personidentifikator: '27929324043', status: 'AKTIV' });
    assert.deepEqual(pointers({ personidentifikator: '27929324043', status: 'AKTIV' }, NO_SYNTHETIC), [
      '/personidentifikator',
    ]);
  });

  it('reports unknown fields by name, also inside kontaktinformasjon and digital_post, without values', () => {
    const input = {
      ...fullInput(),
      fornavn: 'Ola',
      kontaktinformasjon: { ...(fullInput().kontaktinformasjon as object), telefaks: '22222222' },
      digital_post: {
        postkasseadresse: 'ola.nordmann#9YDT',
        postkasseleverandoeradresse: '984661185',
        hemmelig: 'x-secret-x',
      },
    };
    const { value, ignoredFields } = parseOk(input);
    assert.equal(ignoredFields.length, 3, JSON.stringify(ignoredFields));
    for (const name of ['fornavn', 'telefaks', 'hemmelig']) {
      assert.ok(
        ignoredFields.some((f) => f === name || f.endsWith(`/${name}`)),
        `${name} not in ${JSON.stringify(ignoredFields)}`,
      );
    }
    assert.ok(ignoredFields.some((f) => f.includes('kontaktinformasjon') && f.endsWith('telefaks')));
    assert.ok(ignoredFields.some((f) => f.includes('digital_post') && f.endsWith('hemmelig')));
    for (const f of ignoredFields)
      assert.ok(!f.includes('Ola') && !f.includes('22222222') && !f.includes('secret'));
    assert.equal('fornavn' in value, false);
    assert.equal('telefaks' in (value.kontaktinformasjon ?? {}), false);
  });

  it('never reports the register’s own fields as unknown', () => {
    assert.deepEqual(parseOk(fullInput()).ignoredFields, []);
  });
});

describe('parsePerson: problems, located by JSON pointer', () => {
  it('refuses what is not an object', () => {
    for (const bad of [null, 'x', 42, [fullInput()], true]) parseProblems(bad);
  });

  it('requires a valid personidentifikator', () => {
    const noPid = fullInput();
    delete noPid.personidentifikator;
    assert.deepEqual(pointers(noPid), ['/personidentifikator']);
    assert.deepEqual(pointers({ ...fullInput(), personidentifikator: '27129324168' }), [
      '/personidentifikator',
    ]);
    assert.deepEqual(pointers({ ...fullInput(), personidentifikator: '2712932416' }), [
      '/personidentifikator',
    ]);
    assert.deepEqual(pointers({ ...fullInput(), personidentifikator: 27129324169 }), [
      '/personidentifikator',
    ]);
  });

  it('requires status AKTIV or SLETTET (IKKE_REGISTRERT is never stored)', () => {
    const noStatus = fullInput();
    delete noStatus.status;
    assert.ok(pointers(noStatus).includes('/status'));
    assert.deepEqual(pointers({ ...fullInput(), status: 'IKKE_REGISTRERT' }), ['/status']);
    assert.deepEqual(pointers({ ...fullInput(), status: 'aktiv' }), ['/status']);
  });

  it('refuses a reservasjon other than JA/NEI', () => {
    assert.deepEqual(pointers({ ...fullInput(), reservasjon: 'KANSKJE' }), ['/reservasjon']);
    assert.deepEqual(pointers({ ...fullInput(), reservasjon: true }), ['/reservasjon']);
  });

  it('refuses an invalid e-mail address', () => {
    for (const epostadresse of ['not-an-address', 'a@', `${'a'.repeat(40)}@example.no`, 42]) {
      assert.deepEqual(
        pointers(withContact({ epostadresse })),
        ['/kontaktinformasjon/epostadresse'],
        String(epostadresse),
      );
    }
  });

  it('refuses an invalid mobile number', () => {
    for (const mobiltelefonnummer of [
      '12345678',
      '+4712345678',
      'abc12345678',
      '1234567',
      '+47 999 99 999 999 999',
    ]) {
      assert.deepEqual(
        pointers(withContact({ mobiltelefonnummer })),
        ['/kontaktinformasjon/mobiltelefonnummer'],
        mobiltelefonnummer,
      );
    }
  });

  it('never repeats the refused value in a problem', () => {
    const problems = parseProblems(
      withContact({ epostadresse: 'secret.person@', mobiltelefonnummer: '+4712398765' }),
    );
    assert.equal(problems.length, 2);
    for (const p of problems) {
      assert.ok(!p.detail.includes('secret.person') && !p.detail.includes('12398765'), p.detail);
      assert.ok(p.detail.length > 0);
    }
  });

  it('refuses an unknown spraak', () => {
    for (const spraak of ['sv', 'NB', 'no', 'nob', '']) {
      assert.deepEqual(pointers({ ...fullInput(), spraak }), ['/spraak'], spraak);
    }
  });

  it('refuses an invalid mailbox provider organisation number', () => {
    for (const leverandoer of ['984661186', '98466118', 'Digipost']) {
      assert.deepEqual(
        pointers({
          ...fullInput(),
          digital_post: { postkasseadresse: 'ola.nordmann#9YDT', postkasseleverandoeradresse: leverandoer },
        }),
        ['/digital_post/postkasseleverandoeradresse'],
      );
    }
    assert.deepEqual(pointers({ ...fullInput(), digital_post: { postkasseadresse: 'ola.nordmann#9YDT' } }), [
      '/digital_post/postkasseleverandoeradresse',
    ]);
  });

  it('requires a postkasseadresse of 8 to 100 characters', () => {
    const dp = (postkasseadresse: string) => ({
      ...fullInput(),
      digital_post: { postkasseadresse, postkasseleverandoeradresse: '996460320' },
    });
    assert.deepEqual(pointers(dp('a#9YDT7')), ['/digital_post/postkasseadresse']); // 7
    assert.deepEqual(pointers(dp('x'.repeat(101))), ['/digital_post/postkasseadresse']);
    assert.equal(parseOk(dp('a#9YDT78')).value.digital_post?.postkasseadresse, 'a#9YDT78');
    assert.equal(parseOk(dp('x'.repeat(100))).value.digital_post?.postkasseadresse.length, 100);
  });

  it('refuses a sertifikat that is not a certificate', () => {
    assert.deepEqual(pointers({ ...fullInput(), sertifikat: 'bm90IGEgY2VydA==' }), ['/sertifikat']);
  });

  it('refuses timestamps without an offset or with impossible dates, at their pointer', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...fullInput(), reservasjonstidspunkt: '2017-11-07T09:48:38' }, '/reservasjonstidspunkt'],
      [{ ...fullInput(), reservasjon_oppdatert: '2017-02-30T09:48:38Z' }, '/reservasjon_oppdatert'],
      [{ ...fullInput(), spraak_oppdatert: 'yesterday' }, '/spraak_oppdatert'],
      [withContact({ epostadresse_oppdatert: '2015-03-11' }), '/kontaktinformasjon/epostadresse_oppdatert'],
      [
        withContact({ epostadresse_sist_verifisert: 1426100272000 }),
        '/kontaktinformasjon/epostadresse_sist_verifisert',
      ],
      [
        withContact({ mobiltelefonnummer_oppdatert: '2015-13-11T19:57:52+01' }),
        '/kontaktinformasjon/mobiltelefonnummer_oppdatert',
      ],
      [
        withContact({ mobiltelefonnummer_sist_verifisert: '2015-03-11 19:57:52' }),
        '/kontaktinformasjon/mobiltelefonnummer_sist_verifisert',
      ],
    ];
    for (const [input, pointer] of cases) assert.deepEqual(pointers(input), [pointer], pointer);
  });

  it('refuses kontaktinformasjon and digital_post that are not objects', () => {
    assert.deepEqual(pointers({ ...fullInput(), kontaktinformasjon: 'ola@example.no' }), [
      '/kontaktinformasjon',
    ]);
    assert.deepEqual(pointers({ ...fullInput(), digital_post: ['x'] }), ['/digital_post']);
  });

  it('reports one problem per invalid value', () => {
    const input = {
      ...withContact({ epostadresse: 'nope', mobiltelefonnummer: '12345678' }),
      spraak: 'sv',
      digital_post: { postkasseadresse: 'ola.nordmann#9YDT', postkasseleverandoeradresse: '984661186' },
    };
    assert.deepEqual([...pointers(input)].sort(), [
      '/digital_post/postkasseleverandoeradresse',
      '/kontaktinformasjon/epostadresse',
      '/kontaktinformasjon/mobiltelefonnummer',
      '/spraak',
    ]);
  });
});

describe('isValidEmail', () => {
  it('accepts ordinary addresses up to 50 characters', () => {
    for (const ok of [
      'ola.nordmann@example.no',
      'a@b.no',
      "o'brien+krr@mail.sub.example.com",
      'first_last-1@ex-ample.org',
      `${'a'.repeat(41)}@test.no`, // 41 + 1 + 7 = 49
      `${'a'.repeat(42)}@test.no`, // exactly 50
      'øyvind.ås@blåbær.no', // Norwegian letters in both parts
    ]) {
      assert.equal(isValidEmail(ok), true, ok);
    }
  });

  it('refuses malformed and over-long addresses', () => {
    for (const bad of [
      '',
      'ola.nordmann',
      'ola@',
      '@example.no',
      'ola@@example.no',
      'ola@exa@mple.no',
      'ola nordmann@example.no',
      'ola@example .no',
      'ola@-example.no',
      'ola@example..no',
      'ola@example.no ',
      ' ola@example.no',
      'ola@example.no\n',
      `${'a'.repeat(43)}@test.no`, // 51
    ]) {
      assert.equal(isValidEmail(bad), false, JSON.stringify(bad));
    }
  });
});

describe('isValidMobile', () => {
  it('accepts Norwegian mobile numbers starting with 4 or 9', () => {
    for (const ok of [
      '+4799999999',
      '+4741234567',
      '004791234567',
      '99999999',
      '41234567',
      '+47 999 99 999',
      '+47-412-34-567',
      '0047 912 34 567',
      '912 34 567',
      '912_34_567',
    ]) {
      assert.equal(isValidMobile(ok), true, ok);
    }
  });

  it('refuses Norwegian numbers that do not start with 4 or 9', () => {
    for (const bad of [
      '12345678',
      '22225555',
      '+4722225555',
      '004722225555',
      '+47 222 25 555',
      '81549300',
      '+4781549300',
      '0047 512 34 567',
    ]) {
      assert.equal(isValidMobile(bad), false, bad);
    }
  });

  it('accepts foreign numbers', () => {
    for (const ok of ['+46701234567', '+4915112345678', '004670123456', '+1 415 555 2671', '+358401234567']) {
      assert.equal(isValidMobile(ok), true, ok);
    }
  });

  it('enforces 8..20 characters', () => {
    assert.equal(isValidMobile('9999999'), false); // 7
    assert.equal(isValidMobile('+4670123456'), true); // 11
    assert.equal(isValidMobile(`+1${'2'.repeat(18)}`), true); // 20
    assert.equal(isValidMobile(`+1${'2'.repeat(19)}`), false); // 21
    assert.equal(isValidMobile('+46 70 123 45 67 8 9'), true); // 20
    assert.equal(isValidMobile('+46 70 123 45 67 8 90'), false); // 21
  });

  it('refuses characters outside ^\\+?[- _0-9]+$', () => {
    for (const bad of [
      '++4799999999',
      '47+99999999',
      '+47(999)99999',
      '+47.999.99.999',
      '99999999a',
      'tel:99999999',
      '+47 999 99 999\n',
      '９９９９９９９９',
      '',
    ]) {
      assert.equal(isValidMobile(bad), false, JSON.stringify(bad));
    }
  });
});

// The rule as three regular expressions, as isValidMobile had it before it became one pass.
function mobileByPattern(value: string): boolean {
  if (value.length < 8 || value.length > 20 || !/^\+?[- _0-9]+$/.test(value)) return false;
  const digits = value.replace(/[- _]/g, '');
  let national: string | undefined;
  if (digits.startsWith('+47')) national = digits.slice(3);
  else if (digits.startsWith('0047')) national = digits.slice(4);
  else if (/^[0-9]{8}$/.test(digits)) national = digits;
  return national === undefined || national[0] === '4' || national[0] === '9';
}

describe('isValidMobile against the regular expressions (property)', () => {
  it('agrees for strings of the characters that matter, and for any string', () => {
    const mobileLike = fc
      .tuple(
        fc.constantFrom('', '+', '+47', '0047', '+470', '004', '+4', '00', '47'),
        fc.array(
          fc.constantFrom(...'0123456789'.split(''), '4', '9', '-', ' ', '_', '+', '.', '\n', '\u0660'),
          {
            maxLength: 22,
          },
        ),
      )
      .map(([prefix, chars]) => prefix + chars.join(''));
    fc.assert(
      fc.property(fc.oneof(mobileLike, fc.string({ minLength: 6, maxLength: 22 })), (value) => {
        assert.equal(isValidMobile(value), mobileByPattern(value), JSON.stringify(value));
      }),
      { numRuns: 20000 },
    );
  });
});

describe('latestChannelConfirmation', () => {
  it('is undefined without contact information or dates', () => {
    assert.equal(latestChannelConfirmation(undefined), undefined);
    assert.equal(latestChannelConfirmation({}), undefined);
    assert.equal(latestChannelConfirmation({ epostadresse: 'a@b.no' }), undefined);
  });

  it('is the later of _oppdatert and _sist_verifisert of a channel', () => {
    assert.equal(
      latestChannelConfirmation({
        epostadresse: 'a@b.no',
        epostadresse_oppdatert: 5000,
        epostadresse_sist_verifisert: 3000,
      }),
      5000,
    );
    assert.equal(
      latestChannelConfirmation({
        epostadresse: 'a@b.no',
        epostadresse_oppdatert: 3000,
        epostadresse_sist_verifisert: 5000,
      }),
      5000,
    );
    assert.equal(
      latestChannelConfirmation({ mobiltelefonnummer: '99999999', mobiltelefonnummer_oppdatert: 7000 }),
      7000,
    );
    assert.equal(
      latestChannelConfirmation({ mobiltelefonnummer: '99999999', mobiltelefonnummer_sist_verifisert: 8000 }),
      8000,
    );
  });

  it('is the latest over both channels', () => {
    const k = {
      epostadresse: 'a@b.no',
      epostadresse_oppdatert: 1000,
      epostadresse_sist_verifisert: 2000,
      mobiltelefonnummer: '99999999',
      mobiltelefonnummer_oppdatert: 9000,
      mobiltelefonnummer_sist_verifisert: 4000,
    };
    assert.equal(latestChannelConfirmation(k), 9000);
    assert.equal(latestChannelConfirmation({ ...k, epostadresse_sist_verifisert: 12000 }), 12000);
  });

  it('ignores the dates of a channel that has no address', () => {
    assert.equal(
      latestChannelConfirmation({
        epostadresse_oppdatert: 9000,
        mobiltelefonnummer: '99999999',
        mobiltelefonnummer_oppdatert: 1000,
      }),
      1000,
    );
    assert.equal(
      latestChannelConfirmation({ epostadresse_oppdatert: 9000, epostadresse_sist_verifisert: 9500 }),
      undefined,
    );
    assert.equal(
      latestChannelConfirmation({
        epostadresse: 'a@b.no',
        epostadresse_oppdatert: 1000,
        mobiltelefonnummer_sist_verifisert: 9000,
      }),
      1000,
    );
    assert.equal(
      latestChannelConfirmation({
        mobiltelefonnummer_oppdatert: 9000,
        mobiltelefonnummer_sist_verifisert: 9500,
      }),
      undefined,
    );
  });
});

// The answer's field order (docs/lookup.md#field-order), omissions (docs/lookup.md#omissions), SLETTET
// shape (docs/lookup.md#slettet-and-ikke_registrert) and timestamp format (docs/lookup.md#timestamps),
// and the round trip (docs/import-export.md#round-trip: the export line is what import reads).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  emailKey,
  jsonString,
  kontaktinformasjonMember,
  mobileKey,
  renderExportLine,
  renderPerson,
} from './answer.render.js';
import { parsePerson } from '../person/person.js';
import type { Person, PersonRules } from '../person/person.js';

const utc = Date.UTC;
const CERT = 'MIIBdGVzdC1jZXJ0aWZpY2F0ZQ==';
const RULES: PersonRules = { allowSynthetic: true, isCertificate: (b64) => b64 === CERT };

/** The field order of docs/lookup.md#field-order, without the derived varslingsstatus. */
const STORED_ORDER = [
  'personidentifikator',
  'reservasjon',
  'reservasjonstidspunkt',
  'reservasjon_oppdatert',
  'status',
  'kontaktinformasjon',
  'digital_post',
  'sertifikat',
  'spraak',
  'spraak_oppdatert',
];
const CONTACT_ORDER = [
  'epostadresse',
  'epostadresse_oppdatert',
  'epostadresse_sist_verifisert',
  'mobiltelefonnummer',
  'mobiltelefonnummer_oppdatert',
  'mobiltelefonnummer_sist_verifisert',
];
const MAILBOX_ORDER = ['postkasseadresse', 'postkasseleverandoeradresse'];

const FULL: Person = {
  // Deliberately built in an order different from the documented one, so the renderer must impose it.
  spraak_oppdatert: utc(2020, 10, 12, 10, 0, 58),
  spraak: 'nb',
  sertifikat: CERT,
  digital_post: { postkasseleverandoeradresse: '984661185', postkasseadresse: 'ola.nordmann#9YDT' },
  kontaktinformasjon: {
    mobiltelefonnummer_sist_verifisert: utc(2018, 6, 31, 21, 19, 2),
    mobiltelefonnummer_oppdatert: utc(2015, 2, 11, 18, 57, 52),
    mobiltelefonnummer: '+4799999999',
    epostadresse_sist_verifisert: utc(2017, 10, 7, 8, 48, 38),
    epostadresse_oppdatert: utc(2015, 2, 11, 18, 57, 52),
    epostadresse: 'ola.nordmann@example.no',
  },
  reservasjon_oppdatert: utc(2016, 0, 1, 0, 0, 0),
  reservasjonstidspunkt: utc(2016, 0, 1, 0, 0, 0),
  status: 'AKTIV',
  reservasjon: 'JA',
  personidentifikator: '27129324169',
};

function exported(p: Person): Record<string, unknown> {
  const line = renderExportLine(renderPerson(p));
  assert.doesNotMatch(line, /\n/);
  return JSON.parse(line) as Record<string, unknown>;
}

function assertNoNullsOrEmptyObjects(v: unknown, path = ''): void {
  assert.notEqual(v, null, `null at ${path}`);
  if (typeof v === 'object' && v !== null) {
    assert.ok(Object.keys(v).length > 0, `empty object at ${path}`);
    for (const [k, x] of Object.entries(v)) assertNoNullsOrEmptyObjects(x, `${path}/${k}`);
  }
}

function assertOrder(keys: string[], order: string[]): void {
  for (const k of keys) assert.ok(order.includes(k), `unexpected field ${k}`);
  assert.deepEqual(
    keys,
    order.filter((k) => keys.includes(k)),
  );
}

describe('renderExportLine(renderPerson(...))', () => {
  it('renders a full person in the documented field order with Oslo timestamps', () => {
    const o = exported(FULL);
    assert.deepEqual(Object.keys(o), STORED_ORDER);
    assert.deepEqual(Object.keys(o.kontaktinformasjon as object), CONTACT_ORDER);
    assert.deepEqual(Object.keys(o.digital_post as object), MAILBOX_ORDER);
    assert.deepEqual(o, {
      personidentifikator: '27129324169',
      reservasjon: 'JA',
      reservasjonstidspunkt: '2016-01-01T01:00:00+01',
      reservasjon_oppdatert: '2016-01-01T01:00:00+01',
      status: 'AKTIV',
      kontaktinformasjon: {
        epostadresse: 'ola.nordmann@example.no',
        epostadresse_oppdatert: '2015-03-11T19:57:52+01',
        epostadresse_sist_verifisert: '2017-11-07T09:48:38+01',
        mobiltelefonnummer: '+4799999999',
        mobiltelefonnummer_oppdatert: '2015-03-11T19:57:52+01',
        mobiltelefonnummer_sist_verifisert: '2018-07-31T23:19:02+02',
      },
      digital_post: { postkasseadresse: 'ola.nordmann#9YDT', postkasseleverandoeradresse: '984661185' },
      sertifikat: CERT,
      spraak: 'nb',
      spraak_oppdatert: '2020-11-12T11:00:58+01',
    });
  });

  it('leaves out absent fields; never null, never an empty object', () => {
    const minimal = exported({ personidentifikator: '24079412372', status: 'AKTIV', reservasjon: 'NEI' });
    assert.deepEqual(Object.keys(minimal), ['personidentifikator', 'reservasjon', 'status']);
    assert.deepEqual(minimal, { personidentifikator: '24079412372', reservasjon: 'NEI', status: 'AKTIV' });

    const emptyContact = exported({
      personidentifikator: '24079412372',
      status: 'AKTIV',
      reservasjon: 'NEI',
      kontaktinformasjon: {},
    });
    assert.equal('kontaktinformasjon' in emptyContact, false);

    const mobileOnly = exported({
      personidentifikator: '24079412372',
      status: 'AKTIV',
      reservasjon: 'NEI',
      kontaktinformasjon: {
        mobiltelefonnummer: '41234567',
        mobiltelefonnummer_sist_verifisert: utc(2019, 0, 1, 12),
      },
      spraak_oppdatert: utc(2019, 5, 1, 12),
    });
    assert.deepEqual(mobileOnly, {
      personidentifikator: '24079412372',
      reservasjon: 'NEI',
      status: 'AKTIV',
      kontaktinformasjon: {
        mobiltelefonnummer: '41234567',
        mobiltelefonnummer_sist_verifisert: '2019-01-01T13:00:00+01',
      },
      spraak_oppdatert: '2019-06-01T14:00:00+02',
    });
    for (const o of [minimal, emptyContact, mobileOnly, exported(FULL)]) {
      assertNoNullsOrEmptyObjects(o);
      assertOrder(Object.keys(o), STORED_ORDER);
    }
  });

  it('keeps the order for every combination of present fields', () => {
    const optional = [
      'reservasjonstidspunkt',
      'reservasjon_oppdatert',
      'kontaktinformasjon',
      'digital_post',
      'sertifikat',
      'spraak',
      'spraak_oppdatert',
    ] as const;
    for (let mask = 0; mask < 1 << optional.length; mask++) {
      const p: Record<string, unknown> = {
        personidentifikator: '27129324169',
        status: 'AKTIV',
        reservasjon: 'JA',
      };
      optional.forEach((k, i) => {
        if (mask & (1 << i)) p[k] = FULL[k];
      });
      const o = exported(p as unknown as Person);
      assert.equal(Object.keys(o).length, 3 + optional.filter((_, i) => mask & (1 << i)).length);
      assertOrder(Object.keys(o), STORED_ORDER);
      assertNoNullsOrEmptyObjects(o);
    }
    for (let mask = 1; mask < 1 << CONTACT_ORDER.length; mask++) {
      const k: Record<string, unknown> = {};
      CONTACT_ORDER.forEach((name, i) => {
        if (mask & (1 << i)) k[name] = (FULL.kontaktinformasjon as Record<string, unknown>)[name];
      });
      const o = exported({
        personidentifikator: '27129324169',
        status: 'AKTIV',
        reservasjon: 'NEI',
        kontaktinformasjon: k,
      });
      assertOrder(Object.keys(o.kontaktinformasjon as object), CONTACT_ORDER);
    }
  });

  it('renders a SLETTET person as personidentifikator and status only', () => {
    const o = exported({ personidentifikator: '27129324169', status: 'SLETTET', reservasjon: 'NEI' });
    assert.deepEqual(Object.keys(o), ['personidentifikator', 'status']);
    assert.deepEqual(o, { personidentifikator: '27129324169', status: 'SLETTET' });
    // Even a record that wrongly still carries data renders without it.
    const leaky = exported({ ...FULL, status: 'SLETTET' });
    assert.deepEqual(leaky, { personidentifikator: '27129324169', status: 'SLETTET' });
  });

  it('escapes strings so the line is valid JSON', () => {
    const addr = 'ola"nord\\mann#9YDT\u2028æøå\t';
    const o = exported({
      personidentifikator: '27129324169',
      status: 'AKTIV',
      reservasjon: 'NEI',
      digital_post: { postkasseadresse: addr, postkasseleverandoeradresse: '996460320' },
    });
    assert.equal((o.digital_post as Record<string, string>).postkasseadresse, addr);
  });

  it('is read back by parsePerson as the same record (export → import)', () => {
    const persons: Person[] = [
      FULL,
      { personidentifikator: '24079412372', status: 'AKTIV', reservasjon: 'NEI' },
      { personidentifikator: '24079412372', status: 'SLETTET', reservasjon: 'NEI' },
      {
        personidentifikator: '24079412372',
        status: 'AKTIV',
        reservasjon: 'NEI',
        reservasjon_oppdatert: utc(2018, 9, 28, 0, 30, 0), // first 02:30 of the doubled hour
        kontaktinformasjon: {
          epostadresse: 'kari@example.no',
          epostadresse_oppdatert: utc(2018, 9, 28, 1, 30, 0),
        }, // second 02:30
        spraak: 'se',
      },
    ];
    for (const p of persons) {
      const r = parsePerson(JSON.parse(renderExportLine(renderPerson(p))), RULES);
      if (!r.ok) assert.fail(JSON.stringify(r.problems));
      assert.deepEqual(r.value, p);
      assert.deepEqual(r.ignoredFields, []);
    }
  });
});

describe('renderPerson: the facts a lookup needs', () => {
  it('carries identifier, status, reservation and the latest channel confirmation', () => {
    const r = renderPerson(FULL);
    assert.equal(r.personidentifikator, '27129324169');
    assert.equal(r.status, 'AKTIV');
    assert.equal(r.reserved, true);
    assert.equal(r.varslingBasis, utc(2018, 6, 31, 21, 19, 2)); // the mobile's sist_verifisert, the latest date
    const plain = renderPerson({ personidentifikator: '24079412372', status: 'AKTIV', reservasjon: 'NEI' });
    assert.equal(plain.reserved, false);
    assert.equal(plain.varslingBasis, null);
    assert.equal(kontaktinformasjonMember(plain), null);
    assert.equal(plain.epost, null);
    assert.equal(plain.mobil, null);
    assert.equal(plain.digitalPost, null);
    assert.equal(plain.sertifikat, null);
    assert.equal(plain.spraak, null);
  });

  it('gives a SLETTET person no basis for notification and no data', () => {
    const r = renderPerson({ ...FULL, status: 'SLETTET' });
    assert.equal(r.status, 'SLETTET');
    assert.equal(r.varslingBasis, null);
    assert.equal(kontaktinformasjonMember(r), null);
    assert.equal(r.epostKey, null);
    assert.equal(r.mobilKey, null);
    assert.equal(r.digitalPost, null);
    assert.equal(r.sertifikat, null);
    assert.equal(r.spraak, null);
  });

  it('renders each fragment as members that parse inside braces', () => {
    const r = renderPerson(FULL);
    for (const part of [
      r.base,
      kontaktinformasjonMember(r),
      r.epost,
      r.mobil,
      r.digitalPost,
      r.sertifikat,
      r.spraak,
    ]) {
      assert.notEqual(part, null);
      JSON.parse(`{${part}}`);
    }
    assert.deepEqual(Object.keys(JSON.parse(`{${r.base}}`) as Record<string, unknown>), [
      'personidentifikator',
      'reservasjon',
      'reservasjonstidspunkt',
      'reservasjon_oppdatert',
      'status',
    ]);
    assert.deepEqual(JSON.parse(`{${r.spraak}}`), {
      spraak: 'nb',
      spraak_oppdatert: '2020-11-12T11:00:58+01',
    });
  });
});

describe('renderPerson: certificates', () => {
  it("renders each person's own certificate, also after many others and from a string of its own", () => {
    // More distinct certificates than the renderer remembers, in turn and again, each time as a new
    // string (as each import line gives one); one of them needs escaping.
    const certificates = Array.from({ length: 7 }, (_, i) => `${'MIIB'.repeat(300)}${i}==`);
    certificates.push('MIIB"\\/==');
    for (let round = 0; round < 3; round++)
      for (const c of round === 1 ? [...certificates].reverse() : certificates) {
        const sertifikat = JSON.parse(JSON.stringify(c)) as string;
        assert.equal(renderPerson({ ...FULL, sertifikat }).sertifikat, `"sertifikat":${JSON.stringify(c)}`);
      }
  });
});

/** The kontaktinformasjon member, parsed. */
interface WithKontaktinformasjon {
  readonly kontaktinformasjon: Record<string, unknown>;
}

describe("the change feed's duplicate flags", () => {
  it('compares e-mail without letter case and mobile numbers as digits with the country code', () => {
    assert.equal(emailKey('Ola.Nordmann@Example.NO'), 'ola.nordmann@example.no');
    assert.equal(mobileKey('+47 912 34 567'), '+4791234567');
    assert.equal(mobileKey('004791234567'), '+4791234567');
    assert.equal(mobileKey('91234567'), '+4791234567');
    assert.equal(mobileKey('+46701234567'), '+46701234567');
  });

  it('adds epostadresse_duplisert and mobiltelefonnummer_duplisert after each channel that has an address', () => {
    const r = renderPerson(FULL);
    const k = (
      JSON.parse(`{${kontaktinformasjonMember(r, { epost: true, mobil: false })}}`) as WithKontaktinformasjon
    ).kontaktinformasjon;
    assert.deepEqual(Object.keys(k), [
      'epostadresse',
      'epostadresse_oppdatert',
      'epostadresse_sist_verifisert',
      'epostadresse_duplisert',
      'mobiltelefonnummer',
      'mobiltelefonnummer_oppdatert',
      'mobiltelefonnummer_sist_verifisert',
      'mobiltelefonnummer_duplisert',
    ]);
    assert.equal(k.epostadresse_duplisert, 'JA');
    assert.equal(k.mobiltelefonnummer_duplisert, 'NEI');
    const mobileOnly = renderPerson({
      personidentifikator: '24079412372',
      status: 'AKTIV',
      reservasjon: 'NEI',
      kontaktinformasjon: { mobiltelefonnummer: '+4791234567', epostadresse_oppdatert: Date.UTC(2020, 0, 1) },
    });
    const m = (
      JSON.parse(
        `{${kontaktinformasjonMember(mobileOnly, { epost: true, mobil: true })}}`,
      ) as WithKontaktinformasjon
    ).kontaktinformasjon;
    assert.deepEqual(Object.keys(m), [
      'epostadresse_oppdatert',
      'mobiltelefonnummer',
      'mobiltelefonnummer_duplisert',
    ]);
  });
});

// The renderer writes a string without JSON.stringify when no character needs escaping.
describe('jsonString', () => {
  it('is JSON.stringify for any string: quotes, backslashes, controls, lone surrogates, any script', () => {
    const special = fc
      .array(
        fc.oneof(
          fc.constantFrom(
            '"',
            '\\',
            '/',
            '\u007f',
            '\u0080',
            '\u2028',
            '\ud800',
            '\udfff',
            '\ud83d\ude00',
            'ø',
            '~',
            ' ',
          ),
          fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)),
          fc.string(),
        ),
      )
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.fullUnicodeString(), fc.string16bits(), special), (value) => {
        assert.equal(jsonString(value), JSON.stringify(value));
      }),
      { numRuns: 5000 },
    );
  });

  it('is JSON.stringify for every single UTF-16 code unit', () => {
    for (let c = 0; c <= 0xffff; c++) {
      const value = `a${String.fromCharCode(c)}b`;
      assert.equal(jsonString(value), JSON.stringify(value), c.toString(16));
    }
  });
});

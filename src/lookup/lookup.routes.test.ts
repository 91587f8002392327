// The lookup endpoints (docs/lookup.md) and their errors (docs/errors.md#statuses), on both stores,
// through HTTP.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditRepository } from '../audit/audit.repository.js';
import { DEMO_DIGIPOST_CERTIFICATE } from '../demo/demo-certificates.js';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import type { Person } from '../person/person.js';
import { assertErrorBody } from '../../test/support/error-body.js';
import { skipReason, STORE_KINDS } from '../../test/support/stores.js';
import { startTestApp } from '../../test/support/test-app.js';
import type { TestApp } from '../../test/support/test-app.js';
import { parseInstant } from '../time/oslo-time.js';

const at = (iso: string) => {
  const t = parseInstant(iso);
  assert.ok(t !== undefined, iso);
  return t;
};

// The 18-month example (docs/freshness.md#example): now 2018-06-01T12:00:00+02:00, boundary
// 2016-12-01T12:00:00+01:00.
const NOW = at('2018-06-01T12:00:00+02:00');
const BOUNDARY = at('2016-12-01T12:00:00+01:00');

const BOTH = ['krr:global/kontaktinformasjon.read', 'krr:global/digitalpost.read'];

const FULL = makeIdentifier({ day: 27, month: 12, year: 93 });
const RESERVED = makeIdentifier({ day: 24, month: 7, year: 94 });
const DELETED = makeIdentifier({ day: 1, month: 1, year: 70 });
const AT_BOUNDARY = makeIdentifier({ day: 2, month: 2, year: 80 });
const JUST_STALE = makeIdentifier({ day: 3, month: 3, year: 81 });
const NO_CONTACT = makeIdentifier({ day: 4, month: 4, year: 82 });
const MOBILE_ONLY = makeIdentifier({ day: 5, month: 5, year: 83, dNumber: true });
const UNKNOWN = makeIdentifier({ day: 6, month: 6, year: 84 });
const UNKNOWN_2 = makeIdentifier({ day: 7, month: 7, year: 85 });

const PERSONS: Person[] = [
  {
    personidentifikator: FULL,
    status: 'AKTIV',
    reservasjon: 'NEI',
    reservasjon_oppdatert: at('2014-01-02T10:00:00+01:00'),
    kontaktinformasjon: {
      epostadresse: 'ola.nordmann@example.no',
      epostadresse_oppdatert: at('2015-03-11T19:57:52+01:00'),
      epostadresse_sist_verifisert: at('2017-11-07T09:48:38+01:00'),
      mobiltelefonnummer: '+4799999999',
      mobiltelefonnummer_oppdatert: at('2015-03-11T19:57:52+01:00'),
      mobiltelefonnummer_sist_verifisert: at('2018-07-31T21:19:02Z'),
    },
    digital_post: { postkasseadresse: 'ola.nordmann#9YDT', postkasseleverandoeradresse: '984661185' },
    sertifikat: DEMO_DIGIPOST_CERTIFICATE,
    spraak: 'nb',
    spraak_oppdatert: at('2020-11-12T10:00:58Z'),
  },
  {
    personidentifikator: RESERVED,
    status: 'AKTIV',
    reservasjon: 'JA',
    reservasjonstidspunkt: at('2017-05-05T08:00:00Z'),
    reservasjon_oppdatert: at('2017-05-05T08:00:00Z'),
    kontaktinformasjon: {
      epostadresse: 'kari@example.no',
      epostadresse_oppdatert: at('2018-05-01T12:00:00+02:00'),
      epostadresse_sist_verifisert: at('2018-05-01T12:00:00+02:00'),
    },
  },
  { personidentifikator: DELETED, status: 'SLETTET', reservasjon: 'NEI' },
  {
    personidentifikator: AT_BOUNDARY,
    status: 'AKTIV',
    reservasjon: 'NEI',
    kontaktinformasjon: { epostadresse: 'edge@example.no', epostadresse_sist_verifisert: BOUNDARY },
  },
  {
    personidentifikator: JUST_STALE,
    status: 'AKTIV',
    reservasjon: 'NEI',
    kontaktinformasjon: { mobiltelefonnummer: '41234567', mobiltelefonnummer_oppdatert: BOUNDARY - 1000 },
    digital_post: { postkasseadresse: 'stale.person#AB12', postkasseleverandoeradresse: '996460320' },
    sertifikat: DEMO_DIGIPOST_CERTIFICATE,
    spraak: 'en',
  },
  { personidentifikator: NO_CONTACT, status: 'AKTIV', reservasjon: 'NEI' },
  {
    personidentifikator: MOBILE_ONLY,
    status: 'AKTIV',
    reservasjon: 'NEI',
    kontaktinformasjon: {
      mobiltelefonnummer: '+47 912 34 567',
      mobiltelefonnummer_sist_verifisert: at('2018-01-01T00:00:00Z'),
    },
  },
];

const FULL_ANSWER =
  `{"personidentifikator":"${FULL}","reservasjon":"NEI","reservasjon_oppdatert":"2014-01-02T10:00:00+01","status":"AKTIV",` +
  `"varslingsstatus":"KAN_VARSLES","kontaktinformasjon":{"epostadresse":"ola.nordmann@example.no",` +
  `"epostadresse_oppdatert":"2015-03-11T19:57:52+01","epostadresse_sist_verifisert":"2017-11-07T09:48:38+01",` +
  `"mobiltelefonnummer":"+4799999999","mobiltelefonnummer_oppdatert":"2015-03-11T19:57:52+01",` +
  `"mobiltelefonnummer_sist_verifisert":"2018-07-31T23:19:02+02"},` +
  `"digital_post":{"postkasseadresse":"ola.nordmann#9YDT","postkasseleverandoeradresse":"984661185"},` +
  `"sertifikat":"${DEMO_DIGIPOST_CERTIFICATE}","spraak":"nb","spraak_oppdatert":"2020-11-12T11:00:58+01"}`;

type AnswerPerson = Record<string, unknown> & { personidentifikator: string };

function personer(body: string): AnswerPerson[] {
  const parsed = JSON.parse(body) as { personer: AnswerPerson[] };
  assert.deepEqual(Object.keys(parsed), ['personer']);
  return parsed.personer;
}

for (const kind of STORE_KINDS) {
  describe(`lookups (${kind})`, { skip: await skipReason(kind) }, () => {
    let t: TestApp;
    let both: string;

    before(async () => {
      t = await startTestApp(kind, { now: NOW });
      await t.write(PERSONS);
      both = await t.token(BOTH);
    });
    after(async () => t?.close());

    describe('answers', () => {
      it('renders a full person exactly: field order, Oslo timestamps with hours-only offsets', async () => {
        const res = await t.post('/rest/v2/personer', { personidentifikatorer: [FULL] }, both);
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['content-type'], 'application/json');
        assert.equal(res.body, `{"personer":[${FULL_ANSWER}]}`);
      });

      it('answers v1 with the same person', async () => {
        const res = await t.post('/rest/v1/personer', { personidentifikatorer: [FULL] }, both);
        assert.equal(res.body, `{"personer":[${FULL_ANSWER}]}`);
      });

      it('sorts by identifier and answers duplicates once', async () => {
        const ids = [NO_CONTACT, FULL, DELETED, FULL, RESERVED, NO_CONTACT];
        const res = await t.post('/rest/v2/personer', { personidentifikatorer: ids }, both);
        const got = personer(res.body).map((p) => p.personidentifikator);
        assert.deepEqual(got, [...new Set(ids)].sort());
      });

      it('v2 leaves unknown identifiers out unless inkluderIkkeRegistrerte is true', async () => {
        const ids = [UNKNOWN, FULL, UNKNOWN_2];
        const without = personer(
          (await t.post('/rest/v2/personer', { personidentifikatorer: ids }, both)).body,
        );
        assert.deepEqual(
          without.map((p) => p.personidentifikator),
          [FULL],
        );
        const explicitFalse = personer(
          (
            await t.post(
              '/rest/v2/personer',
              { personidentifikatorer: ids, inkluderIkkeRegistrerte: false },
              both,
            )
          ).body,
        );
        assert.deepEqual(
          explicitFalse.map((p) => p.personidentifikator),
          [FULL],
        );
        const withUnknown = personer(
          (
            await t.post(
              '/rest/v2/personer',
              { personidentifikatorer: ids, inkluderIkkeRegistrerte: true },
              both,
            )
          ).body,
        );
        assert.deepEqual(
          withUnknown.map((p) => p.personidentifikator),
          [...ids].sort(),
        );
        const unknown = withUnknown.find((p) => p.personidentifikator === UNKNOWN);
        assert.deepEqual(unknown, {
          personidentifikator: UNKNOWN,
          status: 'IKKE_REGISTRERT',
          varslingsstatus: 'KAN_IKKE_VARSLES',
        });
        assert.deepEqual(Object.keys(unknown), ['personidentifikator', 'status', 'varslingsstatus']);
      });

      it('v1 always includes unknown identifiers, whatever inkluderIkkeRegistrerte says', async () => {
        const res = await t.post(
          '/rest/v1/personer',
          { personidentifikatorer: [UNKNOWN], inkluderIkkeRegistrerte: false },
          both,
        );
        assert.equal(
          res.body,
          `{"personer":[{"personidentifikator":"${UNKNOWN}","status":"IKKE_REGISTRERT","varslingsstatus":"KAN_IKKE_VARSLES"}]}`,
        );
      });

      it('answers a deleted person with identifier, status and varslingsstatus only', async () => {
        const res = await t.post('/rest/v2/personer', { personidentifikatorer: [DELETED] }, both);
        assert.equal(
          res.body,
          `{"personer":[{"personidentifikator":"${DELETED}","status":"SLETTET","varslingsstatus":"KAN_IKKE_VARSLES"}]}`,
        );
      });

      it('leaves out empty objects and absent fields, and never sends null', async () => {
        const res = await t.post(
          '/rest/v2/personer',
          { personidentifikatorer: [NO_CONTACT, MOBILE_ONLY] },
          both,
        );
        assert.ok(!res.body.includes('null'));
        const [none, mobile] = personer(res.body); // 0404... sorts before the D-nummer 4505...
        assert.deepEqual(none, {
          personidentifikator: NO_CONTACT,
          reservasjon: 'NEI',
          status: 'AKTIV',
          varslingsstatus: 'KAN_IKKE_VARSLES',
        });
        assert.deepEqual(mobile!.kontaktinformasjon, {
          mobiltelefonnummer: '+47 912 34 567',
          mobiltelefonnummer_sist_verifisert: '2018-01-01T01:00:00+01',
        });
        assert.deepEqual(Object.keys(mobile!), [
          'personidentifikator',
          'reservasjon',
          'status',
          'varslingsstatus',
          'kontaktinformasjon',
        ]);
      });

      it('shows reservasjonstidspunkt for a reserved person, who cannot be notified', async () => {
        const [p] = personer(
          (await t.post('/rest/v2/personer', { personidentifikatorer: [RESERVED] }, both)).body,
        );
        assert.deepEqual(Object.keys(p!).slice(0, 6), [
          'personidentifikator',
          'reservasjon',
          'reservasjonstidspunkt',
          'reservasjon_oppdatert',
          'status',
          'varslingsstatus',
        ]);
        assert.equal(p!.reservasjon, 'JA');
        assert.equal(p!.reservasjonstidspunkt, '2017-05-05T10:00:00+02');
        assert.equal(p!.varslingsstatus, 'KAN_IKKE_VARSLES');
        // Contact data is still delivered: only informasjonsbehov with VarslingsStatus withholds it.
        assert.ok(p!.kontaktinformasjon);
      });

      it('accepts 1000 identifiers in one request', async () => {
        const ids = Array.from({ length: 1000 }, (_, i) =>
          makeIdentifier(
            { day: 1 + (i % 28), month: 1 + (Math.floor(i / 28) % 12), year: 50 + Math.floor(i / 336) },
            (i * 7) % 900,
          ),
        );
        ids[500] = FULL;
        const res = await t.post('/rest/v2/personer', { personidentifikatorer: ids }, both);
        assert.equal(res.statusCode, 200, res.body);
        assert.ok(personer(res.body).some((p) => p.personidentifikator === FULL));
      });

      it('shows a write to the next lookup', async () => {
        const id = makeIdentifier({ day: 9, month: 9, year: 99 });
        await t.write([{ personidentifikator: id, status: 'AKTIV', reservasjon: 'NEI', spraak: 'nn' }]);
        const first = personer(
          (await t.post('/rest/v2/personer', { personidentifikatorer: [id] }, both)).body,
        );
        assert.equal(first[0]!.spraak, 'nn');
        await t.write([{ personidentifikator: id, status: 'AKTIV', reservasjon: 'NEI', spraak: 'se' }]);
        const second = personer(
          (await t.post('/rest/v2/personer', { personidentifikatorer: [id] }, both)).body,
        );
        assert.equal(second[0]!.spraak, 'se');
      });
    });

    describe('the 18-month rule', () => {
      it('counts a channel confirmed exactly at the boundary as fresh, one second earlier as stale', async () => {
        const res = await t.post(
          '/rest/v2/personer',
          { personidentifikatorer: [AT_BOUNDARY, JUST_STALE] },
          both,
        );
        const [edge, stale] = personer(res.body);
        assert.equal(edge!.varslingsstatus, 'KAN_VARSLES');
        assert.equal(stale!.varslingsstatus, 'KAN_IKKE_VARSLES');
        // Stale contact data is still delivered.
        assert.deepEqual(stale!.kontaktinformasjon, {
          mobiltelefonnummer: '41234567',
          mobiltelefonnummer_oppdatert: '2016-12-01T11:59:59+01',
        });
      });

      it('flips when the clock moves', async () => {
        t.setNow(NOW + 1000);
        try {
          const [edge] = personer(
            (await t.post('/rest/v2/personer', { personidentifikatorer: [AT_BOUNDARY] }, both)).body,
          );
          assert.equal(edge!.varslingsstatus, 'KAN_IKKE_VARSLES');
          t.setNow(NOW - 1000);
          const [stale] = personer(
            (await t.post('/rest/v2/personer', { personidentifikatorer: [JUST_STALE] }, both)).body,
          );
          assert.equal(stale!.varslingsstatus, 'KAN_VARSLES');
        } finally {
          t.setNow(NOW);
        }
      });
    });

    describe('scopes', () => {
      const cases: Array<[string[], string[]]> = [
        [
          ['krr:global/kontaktinformasjon.read'],
          ['varslingsstatus', 'kontaktinformasjon', 'spraak', 'spraak_oppdatert'],
        ],
        [
          ['krr:global/kontaktinfo.read'],
          ['varslingsstatus', 'kontaktinformasjon', 'spraak', 'spraak_oppdatert'],
        ],
        [['krr:global/digitalpost.read'], ['digital_post', 'sertifikat']],
        [['krr:global/postkasse.read'], ['digital_post', 'sertifikat']],
        [['global/kontaktinformasjon.read'], ['kontaktinformasjon']],
        [['global/varslingsstatus.read'], ['varslingsstatus']],
        [['global/spraak.read'], ['spraak', 'spraak_oppdatert']],
        [['global/sikkerdigitalpost.read'], ['digital_post']],
        [['global/sertifikat.read'], ['sertifikat']],
        [
          ['global/sikkerdigitalpost.read', 'global/spraak.read', 'openid'],
          ['digital_post', 'spraak', 'spraak_oppdatert'],
        ],
      ];
      const basic = ['personidentifikator', 'reservasjon', 'reservasjon_oppdatert', 'status'];
      const order = [
        'personidentifikator',
        'reservasjon',
        'reservasjon_oppdatert',
        'status',
        'varslingsstatus',
        'kontaktinformasjon',
        'digital_post',
        'sertifikat',
        'spraak',
        'spraak_oppdatert',
      ];
      for (const [scopes, granted] of cases) {
        it(`${scopes.join(' ')} gives ${granted.join(', ')}`, async () => {
          const token = await t.token(scopes);
          const [p] = personer(
            (await t.post('/rest/v2/personer', { personidentifikatorer: [FULL] }, token)).body,
          );
          const expected = order.filter((f) => basic.includes(f) || granted.includes(f));
          assert.deepEqual(Object.keys(p!), expected);
        });
      }
    });

    describe('informasjonsbehov', () => {
      const ask = async (ids: string[], informasjonsbehov: unknown, scopes = BOTH) =>
        personer(
          (
            await t.post(
              '/rest/v2/personer',
              { personidentifikatorer: ids, informasjonsbehov },
              await t.token(scopes),
            )
          ).body,
        );

      it('returns only the named groups (Person implied), unknown and repeated codes ignored', async () => {
        const [p] = await ask([FULL], ['Kontaktinfo', 'Kontaktinfo', 'Ukjent']);
        assert.deepEqual(Object.keys(p!), [
          'personidentifikator',
          'reservasjon',
          'reservasjon_oppdatert',
          'status',
          'kontaktinformasjon',
        ]);
        const [q] = await ask([FULL], ['Person']);
        assert.deepEqual(Object.keys(q!), [
          'personidentifikator',
          'reservasjon',
          'reservasjon_oppdatert',
          'status',
        ]);
        const [r] = await ask([FULL], ['Kontaktinformasjon', 'Sertifikat', 'SikkerDigitalPost', 'Spraak']);
        assert.deepEqual(Object.keys(r!), [
          'personidentifikator',
          'reservasjon',
          'reservasjon_oppdatert',
          'status',
          'kontaktinformasjon',
          'digital_post',
          'sertifikat',
          'spraak',
          'spraak_oppdatert',
        ]);
      });

      it('never gives more than the scopes allow', async () => {
        const [p] = await ask(
          [FULL],
          ['Kontaktinfo', 'Sertifikat', 'SikkerDigitalPost'],
          ['krr:global/digitalpost.read'],
        );
        assert.deepEqual(Object.keys(p!), [
          'personidentifikator',
          'reservasjon',
          'reservasjon_oppdatert',
          'status',
          'digital_post',
          'sertifikat',
        ]);
      });

      it('with VarslingsStatus, withholds contact data, mailbox and certificate of persons who cannot be notified', async () => {
        const all = ['VarslingsStatus', 'Kontaktinfo', 'SikkerDigitalPost', 'Sertifikat', 'Spraak'];
        const [full, stale, reserved] = await ask([FULL, JUST_STALE, RESERVED], all);
        const byId = new Map([full, stale, reserved].map((p) => [p!.personidentifikator, p!]));
        const fresh = byId.get(FULL)!;
        assert.equal(fresh.varslingsstatus, 'KAN_VARSLES');
        assert.ok(fresh.kontaktinformasjon && fresh.digital_post && fresh.sertifikat);
        const staleP = byId.get(JUST_STALE)!;
        assert.deepEqual(staleP, {
          personidentifikator: JUST_STALE,
          reservasjon: 'NEI',
          status: 'AKTIV',
          varslingsstatus: 'KAN_IKKE_VARSLES',
          spraak: 'en',
        });
        const reservedP = byId.get(RESERVED)!;
        assert.equal(reservedP.kontaktinformasjon, undefined);
      });

      it('without informasjonsbehov nothing is withheld', async () => {
        const [stale] = await ask([JUST_STALE], undefined);
        assert.ok(stale!.kontaktinformasjon && stale!.digital_post && stale!.sertifikat);
      });
    });

    describe('tolerance', () => {
      it('ignores unknown body fields and odd-but-valid headers', async () => {
        const res = await t.post(
          '/rest/v2/personer',
          { personidentifikatorer: [FULL], personIdentifiersAsString: FULL, somethingElse: { a: [1] } },
          both,
          { 'Http-metode': 'POST', 'content-type': 'application/json;charset=UTF-8' },
        );
        assert.equal(res.body, `{"personer":[${FULL_ANSWER}]}`);
      });

      for (const contentType of [
        'APPLICATION/JSON',
        'application/json; charset=utf-8',
        'text/plain',
        'application/x-www-form-urlencoded',
      ]) {
        it(`reads the body as JSON with Content-Type: ${contentType}`, async () => {
          const res = await t.post('/rest/v2/personer', { personidentifikatorer: [FULL] }, both, {
            'content-type': contentType,
          });
          assert.equal(res.statusCode, 200, res.body);
        });
      }

      it('treats null inkluderIkkeRegistrerte and informasjonsbehov as absent (Java clients send them)', async () => {
        const res = await t.post(
          '/rest/v2/personer',
          { personidentifikatorer: [FULL, UNKNOWN], inkluderIkkeRegistrerte: null, informasjonsbehov: null },
          both,
        );
        assert.equal(res.body, `{"personer":[${FULL_ANSWER}]}`);
      });

      it('reads a body sent without a Content-Type', async () => {
        const res = await t.app.inject({
          method: 'POST',
          url: '/rest/v2/personer',
          headers: { authorization: `Bearer ${both}` },
          payload: Buffer.from(JSON.stringify({ personidentifikatorer: [FULL] })),
        });
        assert.equal(res.statusCode, 200, res.body);
      });
    });

    describe('errors', () => {
      it('400 for a body that is not JSON', async () => {
        const res = await t.post('/rest/v2/personer', '{"personidentifikatorer": [', both);
        assertErrorBody(res, 400);
      });

      it('400 for an empty body', async () => {
        assertErrorBody(await t.post('/rest/v2/personer', '', both), 400);
      });

      it('400 with a pointer when personidentifikatorer is missing, empty, too long or not strings', async () => {
        const missing = assertErrorBody(
          await t.post('/rest/v2/personer', { inkluderIkkeRegistrerte: true }, both),
          400,
        );
        assert.deepEqual(missing[0]!.source, { pointer: '/personidentifikatorer' });
        const empty = assertErrorBody(
          await t.post('/rest/v2/personer', { personidentifikatorer: [] }, both),
          400,
        );
        assert.deepEqual(empty[0]!.source, { pointer: '/personidentifikatorer' });
        const tooMany = Array.from({ length: 1001 }, () => FULL);
        const long = assertErrorBody(
          await t.post('/rest/v2/personer', { personidentifikatorer: tooMany }, both),
          400,
        );
        assert.deepEqual(long[0]!.source, { pointer: '/personidentifikatorer' });
        const notStrings = assertErrorBody(
          await t.post('/rest/v1/personer', { personidentifikatorer: [FULL, 27129324169] }, both),
          400,
        );
        assert.deepEqual(notStrings[0]!.source, { pointer: '/personidentifikatorer/1' });
        const notArray = assertErrorBody(
          await t.post('/rest/v1/personer', { personidentifikatorer: FULL }, both),
          400,
        );
        assert.deepEqual(notArray[0]!.source, { pointer: '/personidentifikatorer' });
      });

      it('400 for a JSON body that is not an object, and for inkluderIkkeRegistrerte of the wrong type', async () => {
        assertErrorBody(await t.post('/rest/v2/personer', '[]', both), 400);
        assertErrorBody(await t.post('/rest/v2/personer', '"x"', both), 400);
        const wrong = assertErrorBody(
          await t.post(
            '/rest/v2/personer',
            { personidentifikatorer: [FULL], inkluderIkkeRegistrerte: 'true' },
            both,
          ),
          400,
        );
        assert.deepEqual(wrong[0]!.source, { pointer: '/inkluderIkkeRegistrerte' });
      });

      it('422 with one error per invalid identifier, pointing at each, never echoing it', async () => {
        const badCheck = `${FULL.slice(0, 10)}${(Number(FULL[10]) + 1) % 10}`;
        const ids = [FULL, '1234567890', badCheck, 'abcdefghijk', '320199' + FULL.slice(6)];
        const res = await t.post('/rest/v2/personer', { personidentifikatorer: ids }, both);
        const errors = assertErrorBody(res, 422);
        assert.deepEqual(
          errors.map((e) => (e.source as { pointer: string }).pointer),
          [
            '/personidentifikatorer/1',
            '/personidentifikatorer/2',
            '/personidentifikatorer/3',
            '/personidentifikatorer/4',
          ],
        );
        assert.equal(errors[0]!.title, 'Invalid value');
        assert.ok(!res.body.includes(badCheck) && !res.body.includes('1234567890'));
      });

      it('413 for a body over the size limit', async () => {
        const huge = JSON.stringify({
          personidentifikatorer: [FULL],
          padding: 'x'.repeat(t.config.http.bodyLimitBytes),
        });
        assertErrorBody(await t.post('/rest/v2/personer', huge, both), 413);
      });

      it('404 for an unknown path, 405 for a wrong method', async () => {
        assertErrorBody(await t.app.inject({ method: 'GET', url: '/rest/v3/personer' }), 404);
        const res = await t.app.inject({ method: 'GET', url: '/rest/v2/personer' });
        assertErrorBody(res, 405);
        assert.equal(res.headers.allow, 'POST');
        assertErrorBody(await t.app.inject({ method: 'DELETE', url: '/rest/v1/personer' }), 405);
      });

      it('401 without a token comes before any body check', async () => {
        const res = await t.post('/rest/v2/personer', { personidentifikatorer: [] });
        assertErrorBody(res, 401);
        assert.match(String(res.headers['www-authenticate']), /^Bearer error="invalid_token"/);
      });
    });

    describe('audit', () => {
      it('records every lookup with the caller, the identifiers asked and the status', async () => {
        const token = await t.token(BOTH, {
          clientId: 'audit-client',
          consumer: '0192:974761076',
          supplier: '0192:991825827',
        });
        await t.post('/rest/v2/personer', { personidentifikatorer: [FULL, UNKNOWN, FULL] }, token);
        const [ok] = await new AuditRepository(t.store.db).latest(1);
        assert.equal(ok!.clientId, 'audit-client');
        assert.equal(ok!.consumer, '974761076');
        assert.equal(ok!.supplier, '991825827');
        assert.equal(ok!.endpoint, '/rest/v2/personer');
        assert.deepEqual([...ok!.identifiers], [FULL, UNKNOWN].sort());
        assert.equal(ok!.status, 200);
        assert.ok(Math.abs(ok!.at.getTime() - Date.now()) < 60_000);

        await t.post('/rest/v1/personer', { personidentifikatorer: ['123'] }, token);
        const [bad] = await new AuditRepository(t.store.db).latest(1);
        assert.equal(bad!.status, 422);
        assert.equal(bad!.endpoint, '/rest/v1/personer');
        assert.deepEqual([...bad!.identifiers], ['123']);
      });
    });
  });
}

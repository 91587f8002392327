// The test-data API (docs/testdata.md) through HTTP (inject), on both stores: persons put, read,
// removed and made from templates, imports with notes, resets, and the register's clock turned
// across the 18-month boundary and back, seen by lookups (cache on and off), the person endpoint
// and the change feed. One app per store (and one without the lookup cache) for the whole file.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditRepository } from '../audit/audit.repository.js';
import { demoPersons } from '../demo/demo-data.js';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import { checkPersonIdentifier } from '../identifier/identifier.js';
import { addDuration, parseDuration } from '../time/duration.js';
import { formatOslo, parseInstant } from '../time/oslo-time.js';
import { assertErrorBody } from '../../test/support/error-body.js';
import { skipReason, STORE_KINDS } from '../../test/support/stores.js';
import { startTestApp } from '../../test/support/test-app.js';
import type { TestApp } from '../../test/support/test-app.js';
import { NOTE_CHANNEL_WITHOUT_TIME, NOTE_UNREGISTERED_PROVIDER } from '../transfer/import.block.js';
import { TEMPLATE_NAMES } from './testdata.templates.js';
import { DIGDIR_TEST_USERS } from './testdata.digdir.js';

const TESTDATA = ['krr:testdata.write'];
const LOOKUP = ['krr:global/kontaktinformasjon.read', 'krr:global/digitalpost.read'];
const FEED = ['krr:global/hentendring.read', ...LOOKUP];
const NOW = parseInstant('2026-06-15T12:00:00+02:00')!;
const later = (duration: string, from = NOW) => addDuration(from, parseDuration(duration)!);

type Answer = Record<string, unknown> & {
  personidentifikator: string;
  status: string;
  varslingsstatus?: string;
  kontaktinformasjon?: Record<string, unknown>;
  digital_post?: Record<string, unknown>;
};

const id = (n: number) =>
  makeIdentifier(
    { day: 1 + (n % 28), month: 1 + (n % 12), year: 80 + (n % 20), synthetic: 'tenor' },
    100 + n,
  );

function body(res: { statusCode: number; body: string }, status: number): unknown {
  assert.equal(res.statusCode, status, res.body);
  return JSON.parse(res.body) as unknown;
}

for (const kind of STORE_KINDS) {
  describe(`the test-data API (${kind})`, { skip: await skipReason(kind) }, () => {
    let t: TestApp;
    let uncached: TestApp;
    let write: string;
    let lookupToken: string;
    let feedToken: string;

    before(async () => {
      [t, uncached] = await Promise.all([
        startTestApp(kind, { registerClock: true, now: NOW }),
        startTestApp(kind, { registerClock: true, now: NOW, env: { KRR_LOOKUP_CACHE_BYTES: '0' } }),
      ]);
      [write, lookupToken, feedToken] = await Promise.all([
        t.token(TESTDATA),
        t.token(LOOKUP),
        t.token(FEED),
      ]);
    });
    after(async () => Promise.all([t?.close(), uncached?.close()]));

    const req = (
      app: TestApp,
      method: 'GET' | 'PUT' | 'POST' | 'DELETE',
      url: string,
      payload?: unknown,
      token: string = write,
    ) =>
      app.app.inject({
        method,
        url,
        headers: {
          ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        ...(payload !== undefined
          ? { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }
          : {}),
      });

    async function lookup(app: TestApp, pid: string): Promise<Answer> {
      const res = await app.post(
        '/rest/v2/personer',
        { personidentifikatorer: [pid], inkluderIkkeRegistrerte: true },
        lookupToken,
      );
      return (body(res, 200) as { personer: Answer[] }).personer[0]!;
    }

    async function feedFrom(app: TestApp, from: number) {
      const seen = new Map<string, Answer>();
      let fra = from;
      for (;;) {
        const page = body(
          await app.post('/rest/v2/krr/hentEndringer', { fraEndringsId: fra }, feedToken),
          200,
        ) as {
          list: Answer[];
          tilEndringsId: number;
          sisteEndringsId: number;
        };
        for (const p of page.list) seen.set(p.personidentifikator, p);
        if (page.tilEndringsId === page.sisteEndringsId) return { seen, last: page.tilEndringsId };
        fra = page.tilEndringsId;
      }
    }

    const setClock = async (app: TestApp, change: Record<string, unknown>) =>
      body(await req(app, 'PUT', '/testdata/klokke', change), 200) as { naa: string; fryst: boolean };

    it('takes only a token with krr:testdata.write', async () => {
      assertErrorBody(await req(t, 'GET', '/testdata/klokke', undefined, ''), 401);
      const items = assertErrorBody(await req(t, 'GET', '/testdata/klokke', undefined, lookupToken), 403);
      assert.match(String(items[0]!.detail), /krr:testdata\.write/);
      const person = await t.personToken(TESTDATA, id(1));
      assertErrorBody(await req(t, 'GET', '/testdata/klokke', undefined, person), 403);
      assert.deepEqual(body(await req(t, 'GET', '/testdata/klokke'), 200), {
        naa: formatOslo(NOW),
        fryst: true,
      });
    });

    it('PUT creates (201) and replaces (200), with timestamps relative to the register’s now; GET answers the import format', async () => {
      const pid = id(2);
      const url = `/testdata/personer/${pid}`;
      const created = body(
        await req(t, 'PUT', url, {
          status: 'AKTIV',
          reservasjon: 'NEI',
          kontaktinformasjon: {
            epostadresse: 'relativ@example.no',
            epostadresse_oppdatert: '-P2Y3DT4H',
            epostadresse_sist_verifisert: '-P17M',
          },
          spraak: 'nn',
          spraak_oppdatert: '2020-01-01T00:00:00Z',
        }),
        201,
      ) as Answer;
      assert.equal(created.personidentifikator, pid);
      assert.equal(created.varslingsstatus, 'KAN_VARSLES');
      assert.equal(created.kontaktinformasjon!.epostadresse_sist_verifisert, formatOslo(later('-P17M')));
      assert.equal(created.kontaktinformasjon!.epostadresse_oppdatert, formatOslo(later('-P2Y3DT4H')));
      assert.equal(created.spraak_oppdatert, '2020-01-01T01:00:00+01');

      const replaced = body(
        await req(t, 'PUT', url, { personidentifikator: pid, status: 'AKTIV', reservasjon: 'JA' }),
        200,
      ) as Answer;
      assert.equal(replaced.reservasjon, 'JA');
      assert.equal(replaced.kontaktinformasjon, undefined, 'a PUT replaces the whole entry');
      assert.deepEqual(body(await req(t, 'GET', url), 200), {
        personidentifikator: pid,
        reservasjon: 'JA',
        status: 'AKTIV',
      });
      assert.deepEqual(await lookup(t, pid), replaced, 'the answer is what a lookup shows');

      const audit = await new AuditRepository(t.store.db).latest(20);
      assert.ok(
        audit.some(
          (e) =>
            e.endpoint === 'testdata PUT /testdata/personer' &&
            e.identifiers.includes(pid) &&
            e.status === 201,
        ),
      );
    });

    it('answers bad bodies with the contract’s 400 and 422 bodies and pointers', async () => {
      const url = `/testdata/personer/${id(3)}`;
      const wrongType = assertErrorBody(await req(t, 'PUT', url, { status: 7 }), 400);
      assert.equal(wrongType[0]!.source?.pointer, '/status');
      const missing = assertErrorBody(await req(t, 'PUT', url, { reservasjon: 'NEI' }), 400);
      assert.equal(missing[0]!.source?.pointer, '/status');
      const values = assertErrorBody(
        await req(t, 'PUT', url, {
          status: 'AKTIV',
          kontaktinformasjon: { epostadresse: 'not an address', mobiltelefonnummer_oppdatert: '-P17X' },
          spraak: 'xx',
        }),
        422,
      );
      assert.deepEqual(values.map((e) => e.source?.pointer).sort(), [
        '/kontaktinformasjon/epostadresse',
        '/kontaktinformasjon/mobiltelefonnummer_oppdatert',
        '/spraak',
      ]);
      const other = assertErrorBody(
        await req(t, 'PUT', url, { personidentifikator: id(4), status: 'AKTIV' }),
        422,
      );
      assert.equal(other[0]!.source?.pointer, '/personidentifikator');
      assertErrorBody(await req(t, 'PUT', '/testdata/personer/12345678901', { status: 'AKTIV' }), 422);
      assertErrorBody(await req(t, 'GET', url), 404);
    });

    it('DELETE: the entry is gone, the identifier IKKE_REGISTRERT in lookups (also cached) and in the feed', async () => {
      const pid = id(5);
      const url = `/testdata/personer/${pid}`;
      body(
        await req(t, 'PUT', url, {
          status: 'AKTIV',
          kontaktinformasjon: { mobiltelefonnummer: '+4791234567', mobiltelefonnummer_oppdatert: '-P1D' },
        }),
        201,
      );
      const { last: seenUpTo } = await feedFrom(t, 0);
      assert.equal((await lookup(t, pid)).status, 'AKTIV');
      assert.equal((await lookup(t, pid)).status, 'AKTIV', 'now from the cache');

      assert.equal((await req(t, 'DELETE', url)).statusCode, 204);
      assert.deepEqual(await lookup(t, pid), {
        personidentifikator: pid,
        status: 'IKKE_REGISTRERT',
        varslingsstatus: 'KAN_IKKE_VARSLES',
      });
      assertErrorBody(await req(t, 'GET', url), 404);
      assertErrorBody(await req(t, 'DELETE', url), 404);
      const removed = await feedFrom(t, seenUpTo);
      assert.deepEqual(removed.seen.get(pid), {
        personidentifikator: pid,
        status: 'IKKE_REGISTRERT',
        varslingsstatus: 'KAN_IKKE_VARSLES',
      });
      assert.ok(removed.last > seenUpTo, 'the removal has a change id of its own');

      // Written again, the feed shows the person, not the removal.
      body(await req(t, 'PUT', url, { status: 'SLETTET' }), 201);
      const again = await feedFrom(t, 0);
      assert.equal(again.seen.get(pid)!.status, 'SLETTET');
      assert.ok(again.last > removed.last);
    });

    it('POST /testdata/personer makes each template’s state under a new synthetic identifier; parallel callers never share one', async () => {
      const made = new Map<string, Answer>();
      for (const mal of TEMPLATE_NAMES) {
        const res = await req(t, 'POST', '/testdata/personer', { mal, spraak: 'en' });
        const answer = body(res, 201) as Answer;
        assert.equal(res.headers.location, `/testdata/personer/${answer.personidentifikator}`);
        const check = checkPersonIdentifier(answer.personidentifikator, { allowSynthetic: true });
        assert.ok(check.valid && check.synthetic, mal);
        assert.ok(Number(answer.personidentifikator.slice(2, 4)) > 80, `${mal}: Tenor style, month + 80`);
        assert.deepEqual(
          await lookup(t, answer.personidentifikator),
          answer,
          `${mal}: the answer is the lookup's`,
        );
        made.set(mal, answer);
      }
      const get = (mal: string) => made.get(mal)!;
      const status = (mal: string) => get(mal).varslingsstatus;
      assert.equal(status('aktiv'), 'KAN_VARSLES');
      assert.equal(get('aktiv').spraak, 'en');
      assert.ok(
        get('aktiv').kontaktinformasjon!.epostadresse && get('aktiv').kontaktinformasjon!.mobiltelefonnummer,
      );
      assert.equal(status('utgaatt'), 'KAN_IKKE_VARSLES');
      assert.ok(get('utgaatt').kontaktinformasjon!.epostadresse);
      assert.equal(status('snart-utgaatt'), 'KAN_VARSLES');
      assert.equal(get('reservert').reservasjon, 'JA');
      assert.equal(status('reservert'), 'KAN_IKKE_VARSLES');
      assert.equal(get('slettet').status, 'SLETTET');
      assert.equal(get('uten-kontaktinformasjon').kontaktinformasjon, undefined);
      assert.equal(status('uten-kontaktinformasjon'), 'KAN_IKKE_VARSLES');
      assert.deepEqual(
        Object.keys(get('kun-epost').kontaktinformasjon!).filter((k) => !k.includes('_')),
        ['epostadresse'],
      );
      assert.deepEqual(
        Object.keys(get('kun-mobil').kontaktinformasjon!).filter((k) => !k.includes('_')),
        ['mobiltelefonnummer'],
      );
      assert.equal(get('digipost').digital_post!.postkasseleverandoeradresse, '984661185');
      assert.equal(get('eboks').digital_post!.postkasseleverandoeradresse, '996460320');
      assert.ok(Number(get('d-nummer').personidentifikator[0]) >= 4, 'a D-nummer: day + 40');
      assert.equal(status('delt-epost'), 'KAN_VARSLES');
      const { seen } = await feedFrom(t, 0);
      assert.equal(
        seen.get(get('delt-epost').personidentifikator)!.kontaktinformasjon!.epostadresse_duplisert,
        'JA',
      );
      assert.equal(
        seen.get(get('aktiv').personidentifikator)!.kontaktinformasjon!.epostadresse_duplisert,
        'NEI',
      );

      // snart-utgaatt turns within 7 days.
      await setClock(t, { forskyv: 'P7D' });
      assert.equal(
        (await lookup(t, get('snart-utgaatt').personidentifikator)).varslingsstatus,
        'KAN_IKKE_VARSLES',
      );
      assert.equal((await lookup(t, get('aktiv').personidentifikator)).varslingsstatus, 'KAN_VARSLES');
      await setClock(t, { naa: formatOslo(NOW) });

      const parallel = await Promise.all(
        Array.from(
          { length: 8 },
          async () =>
            (body(await req(t, 'POST', '/testdata/personer', { mal: 'aktiv' }), 201) as Answer)
              .personidentifikator,
        ),
      );
      assert.equal(
        new Set([...parallel, ...[...made.values()].map((a) => a.personidentifikator)]).size,
        parallel.length + made.size,
      );

      const bad = assertErrorBody(
        await req(t, 'POST', '/testdata/personer', { mal: 'ukjent', spraak: 'xx' }),
        422,
      );
      assert.deepEqual(
        bad.map((e) => e.source?.pointer),
        ['/mal', '/spraak'],
      );
      const provider = assertErrorBody(
        await req(t, 'POST', '/testdata/personer', { mal: 'aktiv', leverandoer: '984661185' }),
        422,
      );
      assert.equal(provider[0]!.source?.pointer, '/leverandoer');
      const withProvider = body(
        await req(t, 'POST', '/testdata/personer', { mal: 'digipost', leverandoer: '991825827' }),
        201,
      ) as Answer;
      assert.equal(withProvider.digital_post!.postkasseleverandoeradresse, '991825827');
    });

    it('POST /testdata/import: all or nothing, with notes on valid lines and pointers on a bad one', async () => {
      const [a, b, c] = [id(6), id(7), id(8)];
      const lines = [
        {
          personidentifikator: a,
          status: 'AKTIV',
          kontaktinformasjon: {
            epostadresse: 'a@example.no',
            epostadresse_oppdatert: '2026-01-01T00:00:00+01',
          },
        },
        { personidentifikator: b, status: 'AKTIV', kontaktinformasjon: { epostadresse: 'b@example.no' } },
        {
          personidentifikator: c,
          status: 'AKTIV',
          digital_post: { postkasseadresse: 'c.person#ABCD', postkasseleverandoeradresse: '991825827' },
        },
      ];
      const res = await t.app.inject({
        method: 'POST',
        url: '/testdata/import',
        headers: { authorization: `Bearer ${write}`, 'content-type': 'application/x-ndjson' },
        payload: lines.map((l) => JSON.stringify(l)).join('\n'),
      });
      assert.deepEqual(body(res, 200), {
        personer: 3,
        linjer: 3,
        antallMerknader: 2,
        merknader: [
          { linje: 2, peker: '/kontaktinformasjon/epostadresse', detalj: NOTE_CHANNEL_WITHOUT_TIME },
          {
            linje: 3,
            peker: '/digital_post/postkasseleverandoeradresse',
            detalj: NOTE_UNREGISTERED_PROVIDER,
          },
        ],
      });
      assert.equal((await lookup(t, b)).varslingsstatus, 'KAN_IKKE_VARSLES', 'as the note said');

      const d = id(9);
      const invalid = assertErrorBody(
        await req(
          t,
          'POST',
          '/testdata/import',
          `{"personidentifikator":"${d}","status":"AKTIV"}\n{"personidentifikator":"${id(10)}","status":"AKTIV","kontaktinformasjon":{"epostadresse":"x"}}`,
        ),
        422,
      );
      assert.equal(invalid[0]!.source?.pointer, '/1/kontaktinformasjon/epostadresse');
      assert.match(String(invalid[0]!.detail), /^line 2: /);
      assertErrorBody(await req(t, 'GET', `/testdata/personer/${d}`), 404);
      const malformed = assertErrorBody(await req(t, 'POST', '/testdata/import', 'not json'), 400);
      assert.equal(malformed[0]!.source?.pointer, '/0');
    });

    it('turns the clock across the 18-month boundary and back: lookups with and without the cache, the person endpoint, the feed, and written timestamps follow; tokens do not', async () => {
      for (const app of [t, uncached]) {
        const pid = id(11);
        body(
          await req(app, 'PUT', `/testdata/personer/${pid}`, {
            status: 'AKTIV',
            kontaktinformasjon: {
              epostadresse: 'grense@example.no',
              epostadresse_oppdatert: '-P17M',
              epostadresse_sist_verifisert: '-P17M',
            },
          }),
          201,
        );
        const self = await app.personToken(
          ['krr:user/kontaktinformasjon.read', 'krr:user/spraak.write'],
          pid,
        );
        const personEndpoint = async () =>
          (
            body(
              await app.app.inject({
                method: 'GET',
                url: '/rest/v1/person',
                headers: { authorization: `Bearer ${self}` },
              }),
              200,
            ) as Answer
          ).varslingsstatus;
        const feedStatus = async () => (await feedFrom(app, 0)).seen.get(pid)!.varslingsstatus;
        const all = async () => [
          (await lookup(app, pid)).varslingsstatus,
          (await lookup(app, pid)).varslingsstatus,
          await personEndpoint(),
          await feedStatus(),
        ];

        assert.deepEqual(await all(), ['KAN_VARSLES', 'KAN_VARSLES', 'KAN_VARSLES', 'KAN_VARSLES']);
        assert.deepEqual(await setClock(app, { forskyv: 'P2M' }), {
          naa: formatOslo(later('P2M')),
          fryst: true,
        });
        assert.deepEqual(await all(), [
          'KAN_IKKE_VARSLES',
          'KAN_IKKE_VARSLES',
          'KAN_IKKE_VARSLES',
          'KAN_IKKE_VARSLES',
        ]);

        // A write stamps the register's now.
        const patched = await app.app.inject({
          method: 'PATCH',
          url: '/rest/v1/person',
          headers: { authorization: `Bearer ${self}`, 'content-type': 'application/json' },
          payload: JSON.stringify({ spraak: 'se' }),
        });
        assert.equal((body(patched, 200) as Answer).spraak_oppdatert, formatOslo(later('P2M')));

        await setClock(app, { forskyv: '-P2M' });
        assert.deepEqual(await all(), ['KAN_VARSLES', 'KAN_VARSLES', 'KAN_VARSLES', 'KAN_VARSLES']);

        // Ten years on and back: the tokens, minted in real time, stay valid.
        await setClock(app, { forskyv: 'P10Y' });
        assert.equal((await lookup(app, pid)).varslingsstatus, 'KAN_IKKE_VARSLES');
        await setClock(app, { forskyv: '-P20Y' });
        assert.equal((await lookup(app, pid)).status, 'AKTIV');

        const real = await setClock(app, { reell: true });
        assert.equal(real.fryst, false);
        assert.ok(Math.abs(parseInstant(real.naa)! - Date.now()) < 60_000);
        assert.deepEqual(await setClock(app, { naa: formatOslo(NOW) }), {
          naa: formatOslo(NOW),
          fryst: true,
        });
      }
      assertErrorBody(await req(t, 'PUT', '/testdata/klokke', {}), 400);
      const two = assertErrorBody(
        await req(t, 'PUT', '/testdata/klokke', { naa: formatOslo(NOW), reell: true }),
        422,
      );
      assert.deepEqual(
        two.map((e) => e.source?.pointer),
        ['/naa', '/reell'],
      );
      assert.equal(
        assertErrorBody(await req(t, 'PUT', '/testdata/klokke', { forskyv: '18M' }), 422)[0]!.source?.pointer,
        '/forskyv',
      );
      assert.equal(
        assertErrorBody(await req(t, 'PUT', '/testdata/klokke', { forskyv: 'P999999Y' }), 422)[0]!.source
          ?.pointer,
        '/forskyv',
      );
      assert.equal(
        assertErrorBody(await req(t, 'PUT', '/testdata/klokke', { reell: false }), 422)[0]!.source?.pointer,
        '/reell',
      );
    });

    it('POST /testdata/nullstill resets to nothing, to the demo persons', async () => {
      const some = (body(await req(t, 'POST', '/testdata/personer', { mal: 'aktiv' }), 201) as Answer)
        .personidentifikator;
      const { last } = await feedFrom(t, 0);
      const emptied = body(await req(t, 'POST', '/testdata/nullstill', { datasett: 'tomt' }), 200) as Record<
        string,
        unknown
      >;
      assert.equal(emptied.datasett, 'tomt');
      assert.ok(Number(emptied.fjernet) > 10);
      assert.equal(emptied.personer, 0);
      assert.equal((await lookup(t, some)).status, 'IKKE_REGISTRERT');
      const removals = await feedFrom(t, last);
      assert.equal(removals.seen.size, emptied.fjernet, 'every removal in the feed');
      assert.ok([...removals.seen.values()].every((p) => p.status === 'IKKE_REGISTRERT'));

      const demo = body(await req(t, 'POST', '/testdata/nullstill', { datasett: 'demo' }), 200) as Record<
        string,
        unknown
      >;
      const persons = demoPersons(NOW);
      assert.deepEqual(demo, { datasett: 'demo', fjernet: 0, personer: persons.length });
      const digipost = persons.find(
        (p) => p.person.digital_post?.postkasseleverandoeradresse === '984661185' && !p.person.sertifikat,
      )!;
      const shown = await lookup(t, digipost.person.personidentifikator);
      assert.equal(shown.status, 'AKTIV');
      assert.equal(typeof shown.sertifikat, 'string', 'the demo providers are registered');
      assert.equal(
        assertErrorBody(await req(t, 'POST', '/testdata/nullstill', { datasett: 'alt' }), 422)[0]!.source
          ?.pointer,
        '/datasett',
      );
    });

    it('POST /testdata/nullstill {"datasett":"digdir"}: every test user of Digdir’s table answers as the table says', async () => {
      const reset = body(await req(t, 'POST', '/testdata/nullstill', { datasett: 'digdir' }), 200) as Record<
        string,
        unknown
      >;
      assert.equal(reset.personer, DIGDIR_TEST_USERS.length);
      const res = await t.post(
        '/rest/v2/personer',
        { personidentifikatorer: DIGDIR_TEST_USERS.map((u) => u.fnr), inkluderIkkeRegistrerte: true },
        lookupToken,
      );
      const answers = new Map(
        (body(res, 200) as { personer: Answer[] }).personer.map((p) => [p.personidentifikator, p]),
      );
      assert.equal(answers.size, DIGDIR_TEST_USERS.length);
      for (const u of DIGDIR_TEST_USERS) {
        const p = answers.get(u.fnr)!;
        const label = `${u.fnr} (${u.merknad})`;
        assert.equal(p.status, u.status, label);
        assert.equal(p.varslingsstatus, u.varslingsstatus, label);
        assert.equal(p.reservasjon, u.reservert === '-' ? undefined : u.reservert, label);
        assert.equal(
          p.kontaktinformasjon?.mobiltelefonnummer !== undefined,
          u.mobil === 'JA',
          `${label}: mobil`,
        );
        assert.equal(p.kontaktinformasjon?.epostadresse !== undefined, u.epost === 'JA', `${label}: epost`);
        const provider = { Digipost: '984661185', eBOKS: '996460320', '-': undefined }[u.postkasse];
        assert.equal(p.digital_post?.postkasseleverandoeradresse, provider, `${label}: postkasse`);
        assert.equal(p.spraak, u.spraak === '-' ? undefined : u.spraak, `${label}: språk`);
      }
    });

    it('is in the OpenAPI document under its own tag, every operation with an operationId', async () => {
      const doc = body(await t.app.inject({ method: 'GET', url: '/v3/api-docs' }), 200) as {
        paths: Record<string, Record<string, { tags?: string[]; operationId?: string }>>;
      };
      const ops = Object.entries(doc.paths)
        .filter(([path]) => path.startsWith('/testdata'))
        .flatMap(([, methods]) => Object.values(methods));
      assert.equal(ops.length, 8);
      for (const op of ops) {
        assert.deepEqual(op.tags, ['testdata']);
        assert.match(String(op.operationId), /^[a-z][A-Za-z]+$/);
      }
      assert.equal(doc.paths['/testdata/personer/{personidentifikator}']!.put!.operationId, 'putTestPerson');
    });
  });
}

describe(
  'the test-data API is off unless dev mode or the configuration turns it on',
  { skip: await skipReason('embedded') },
  () => {
    it('answers 404 when KRR_TESTDATA_API is false', async () => {
      const t = await startTestApp('embedded', { env: { KRR_TESTDATA_API: 'false' } });
      try {
        const token = await t.token(TESTDATA);
        const res = await t.app.inject({
          method: 'GET',
          url: '/testdata/klokke',
          headers: { authorization: `Bearer ${token}` },
        });
        assertErrorBody(res, 404);
      } finally {
        await t.close();
      }
    });
  },
);

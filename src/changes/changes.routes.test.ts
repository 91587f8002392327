// The change feed (docs/change-feed.md#answer) through HTTP, on both stores, including readers paging
// while concurrent writers commit.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import { syntheticPersons } from '../demo/synthetic-persons.js';
import type { Person } from '../person/person.js';
import { PersonWriter } from '../register/person.writer.js';
import { skipReason, STORE_KINDS } from '../../test/support/stores.js';
import { assertErrorBody } from '../../test/support/error-body.js';
import { startTestApp } from '../../test/support/test-app.js';
import type { TestApp } from '../../test/support/test-app.js';
import { exportPersons } from '../transfer/export.service.js';

const FEED = '/rest/v2/krr/hentEndringer';
const ALL_SCOPES = [
  'krr:global/hentendring.read',
  'krr:global/kontaktinformasjon.read',
  'krr:global/digitalpost.read',
];

interface FeedAnswer {
  list: Array<Record<string, unknown> & { personidentifikator: string }>;
  fraEndringsId: number;
  tilEndringsId: number;
  sisteEndringsId: number;
}

async function feed(t: TestApp, token: string, fraEndringsId: unknown): Promise<FeedAnswer> {
  const res = await t.post(FEED, { fraEndringsId }, token);
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers['content-type'], 'application/json');
  const body = JSON.parse(res.body) as FeedAnswer;
  assert.deepEqual(Object.keys(body), ['list', 'fraEndringsId', 'tilEndringsId', 'sisteEndringsId']);
  return body;
}

/** Pages from `from` until tilEndringsId == sisteEndringsId; the last state seen per person. */
async function drain(t: TestApp, token: string, from = 0, into = new Map<string, string>()) {
  let fra = from;
  let pages = 0;
  for (;;) {
    const page = await feed(t, token, fra);
    for (const p of page.list) into.set(p.personidentifikator, JSON.stringify(p));
    pages++;
    if (page.tilEndringsId === page.sisteEndringsId) return { copy: into, last: page.tilEndringsId, pages };
    assert.ok(page.tilEndringsId > fra, 'paging makes progress');
    fra = page.tilEndringsId;
  }
}

/** The feed's person without the derived fields: the export line's content. */
function withoutDerived(json: string): string {
  const p = JSON.parse(json) as Record<string, unknown>;
  delete p.varslingsstatus;
  const k = p.kontaktinformasjon as Record<string, unknown> | undefined;
  if (k) {
    delete k.epostadresse_duplisert;
    delete k.mobiltelefonnummer_duplisert;
  }
  return JSON.stringify(p);
}

async function exportLines(t: TestApp): Promise<string[]> {
  let text = '';
  for await (const chunk of exportPersons(t.store.db)) text += chunk;
  return text.split('\n').filter(Boolean);
}

const person = (id: string, extra: Partial<Person> = {}): Person => ({
  personidentifikator: id,
  status: 'AKTIV',
  reservasjon: 'NEI',
  ...extra,
});

for (const kind of STORE_KINDS) {
  describe(`change feed (${kind})`, { skip: await skipReason(kind) }, () => {
    let t: TestApp;
    let token: string;
    before(async () => {
      t = await startTestApp(kind);
      token = await t.token(ALL_SCOPES);
    });
    after(async () => t?.close());

    it('answers an empty register with no list and the starting id', async () => {
      const page = await feed(t, token, 0);
      assert.deepEqual(page, {
        list: [],
        fraEndringsId: 0,
        tilEndringsId: 200_000_000,
        sisteEndringsId: 200_000_000,
      });
    });

    it('pages 1000 at a time, ascending, ids above 200 000 000, until tilEndringsId == sisteEndringsId', async () => {
      const persons = [...syntheticPersons(2500, { seed: 7 })];
      await t.write(persons.slice(0, 1200));
      await t.write(persons.slice(1200));
      const first = await feed(t, token, 0);
      assert.equal(first.list.length, 1000);
      assert.equal(first.fraEndringsId, 0);
      assert.ok(first.tilEndringsId > 200_000_000);
      assert.ok(first.tilEndringsId < first.sisteEndringsId);
      const second = await feed(t, token, first.tilEndringsId);
      assert.equal(second.list.length, 1000);
      assert.equal(second.fraEndringsId, first.tilEndringsId);
      const third = await feed(t, token, second.tilEndringsId);
      assert.equal(third.list.length, 500);
      assert.equal(third.tilEndringsId, third.sisteEndringsId);
      const ids = [...first.list, ...second.list, ...third.list].map((p) => p.personidentifikator);
      assert.equal(new Set(ids).size, 2500);
      // Every status is AKTIV or SLETTET, never IKKE_REGISTRERT.
      for (const p of [...first.list, ...second.list, ...third.list])
        assert.ok(p.status === 'AKTIV' || p.status === 'SLETTET');
      // Past the end: nothing more, and tilEndringsId is sisteEndringsId.
      const end = await feed(t, token, third.tilEndringsId);
      assert.deepEqual(end.list, []);
      assert.equal(end.tilEndringsId, end.sisteEndringsId);
      assert.equal(end.sisteEndringsId, third.sisteEndringsId);
      // A larger fraEndringsId than anything seen is not an error.
      assert.deepEqual((await feed(t, token, end.sisteEndringsId + 10)).list, []);
    });

    it('lists a person once, in its current state, at its latest change id; an unchanged rewrite is no change', async () => {
      const start = (await feed(t, token, 0)).sisteEndringsId;
      const id = makeIdentifier({ day: 8, month: 8, year: 88 });
      await t.write([person(id, { spraak: 'nb' })]);
      await t.write([person(id, { spraak: 'nn' })]);
      await t.write([person(id, { spraak: 'nn' })]);
      const page = await feed(t, token, start);
      assert.deepEqual(
        page.list.map((p) => [p.personidentifikator, p.spraak]),
        [[id, 'nn']],
      );
      assert.equal(page.tilEndringsId, page.sisteEndringsId);
    });

    it('shows a deleted person with identifier and status only', async () => {
      const start = (await feed(t, token, 0)).sisteEndringsId;
      const id = makeIdentifier({ day: 9, month: 9, year: 89 });
      await t.write([person(id, { kontaktinformasjon: { epostadresse: 'going@example.no' }, spraak: 'en' })]);
      await t.write([{ personidentifikator: id, status: 'SLETTET', reservasjon: 'NEI' }]);
      const page = await feed(t, token, start);
      assert.deepEqual(page.list, [
        { personidentifikator: id, status: 'SLETTET', varslingsstatus: 'KAN_IKKE_VARSLES' },
      ]);
    });

    it('flags e-mail addresses and mobile numbers that another AKTIV person has', async () => {
      const start = (await feed(t, token, 0)).sisteEndringsId;
      const a = makeIdentifier({ day: 10, month: 1, year: 71 });
      const b = makeIdentifier({ day: 11, month: 1, year: 71 });
      const c = makeIdentifier({ day: 12, month: 1, year: 71 });
      const gone = makeIdentifier({ day: 13, month: 1, year: 71 });
      await t.write([
        person(a, {
          kontaktinformasjon: { epostadresse: 'Shared@Example.no', mobiltelefonnummer: '+4791111111' },
        }),
        person(b, {
          kontaktinformasjon: { epostadresse: 'shared@example.no', mobiltelefonnummer: '92222222' },
        }),
        person(c, { kontaktinformasjon: { mobiltelefonnummer: '0047 92222222' } }),
        { personidentifikator: gone, status: 'SLETTET', reservasjon: 'NEI' },
      ]);
      const page = await feed(t, token, start);
      const k = new Map(
        page.list.map((p) => [
          p.personidentifikator,
          p.kontaktinformasjon as Record<string, string> | undefined,
        ]),
      );
      assert.equal(k.get(a)!.epostadresse_duplisert, 'JA');
      assert.equal(k.get(a)!.mobiltelefonnummer_duplisert, 'NEI');
      assert.equal(k.get(b)!.epostadresse_duplisert, 'JA');
      assert.equal(k.get(b)!.mobiltelefonnummer_duplisert, 'JA');
      assert.equal(k.get(c)!.mobiltelefonnummer_duplisert, 'JA');
      assert.equal(
        k.get(c)!.epostadresse_duplisert,
        undefined,
        'no flag for a channel the person does not have',
      );
      assert.deepEqual(Object.keys(k.get(b)!), [
        'epostadresse',
        'epostadresse_duplisert',
        'mobiltelefonnummer',
        'mobiltelefonnummer_duplisert',
      ]);
      // Lookups never carry the flags.
      const lookup = await t.post('/rest/v2/personer', { personidentifikatorer: [a] }, token);
      assert.ok(!lookup.body.includes('_duplisert'));
    });

    it('chooses fields by the data scopes; the feed scope alone gives the basic fields', async () => {
      const start = (await feed(t, token, 0)).sisteEndringsId;
      const id = makeIdentifier({ day: 14, month: 2, year: 72 });
      await t.write([
        person(id, {
          kontaktinformasjon: { epostadresse: 'scoped@example.no' },
          digital_post: { postkasseadresse: 'scoped.person#1234', postkasseleverandoeradresse: '984661185' },
          spraak: 'se',
        }),
      ]);
      const post = await feed(
        t,
        await t.token(['krr:global/hentendring.read', 'krr:global/digitalpost.read']),
        start,
      );
      assert.deepEqual(Object.keys(post.list[0]!), [
        'personidentifikator',
        'reservasjon',
        'status',
        'digital_post',
      ]);
    });

    it('refuses a token with the feed scope but no data scope (403): it would list the whole register', async () => {
      const res = await t.post(FEED, { fraEndringsId: 0 }, await t.token(['krr:global/hentendring.read']));
      assert.equal(res.statusCode, 403, res.body);
      assert.match(String(res.headers['www-authenticate']), /insufficient_scope/);
      assertErrorBody(res, 403);
      assert.doesNotMatch(res.body, /\d{11}/);
      // An unrelated scope beside it grants nothing either.
      const unrelated = await t.post(
        FEED,
        { fraEndringsId: 0 },
        await t.token(['krr:global/hentendring.read', 'openid']),
      );
      assert.equal(unrelated.statusCode, 403);
    });

    it('refuses a token without the feed scope (403) and no token (401)', async () => {
      const res = await t.post(
        FEED,
        { fraEndringsId: 0 },
        await t.token(['krr:global/kontaktinformasjon.read']),
      );
      assert.equal(res.statusCode, 403);
      assert.match(String(res.headers['www-authenticate']), /insufficient_scope/);
      assert.equal((await t.post(FEED, { fraEndringsId: 0 })).statusCode, 401);
    });

    for (const [what, body, pointer] of [
      ['a missing fraEndringsId', {}, '/fraEndringsId'],
      ['a string', { fraEndringsId: '0' }, '/fraEndringsId'],
      ['a negative id', { fraEndringsId: -1 }, '/fraEndringsId'],
      ['a fraction', { fraEndringsId: 1.5 }, '/fraEndringsId'],
      ['null', { fraEndringsId: null }, '/fraEndringsId'],
    ] as const) {
      it(`answers ${what} with 400 and a pointer`, async () => {
        const res = await t.post(FEED, body, token);
        assert.equal(res.statusCode, 400, res.body);
        const errors = (
          JSON.parse(res.body) as { errors: Array<{ status: string; source?: { pointer: string } }> }
        ).errors;
        assert.equal(errors[0]!.status, '400');
        assert.equal(errors[0]!.source?.pointer, pointer);
      });
    }

    it('answers a body that is not JSON with 400', async () => {
      assert.equal((await t.post(FEED, '{"fraEndringsId":', token)).statusCode, 400);
    });

    it('a reader paging while concurrent writers commit ends with every person in its latest state', async () => {
      const base = [...syntheticPersons(1500, { seed: 11 })];
      await t.write(base);
      const writers = 4;
      const rounds = 25;
      const writer = new PersonWriter(t.store.db);
      let writing = true;
      const reader = (async () => {
        const copy = new Map<string, string>();
        let from = 0;
        let passes = 0;
        // Page continuously while the writers work, then once more after they are done.
        while (writing || passes === 0) {
          const result = await drain(t, token, from, copy);
          from = result.last;
          passes++;
        }
        await drain(t, token, from, copy);
        return copy;
      })();
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let round = 0; round < rounds; round++) {
            // Each transaction changes 20 persons; writers overlap on the same persons.
            const batch = Array.from({ length: 20 }, (_, i) => {
              const p = base[(w * 97 + round * 31 + i * 13) % base.length]!;
              return {
                ...p,
                status: 'AKTIV' as const,
                spraak: (['nb', 'nn', 'en', 'se'] as const)[(w + round + i) % 4],
              };
            });
            await writer.session(async (s) => {
              await s.write(batch.slice(0, 10));
              await new Promise((r) => setTimeout(r, w)); // keep transactions open across each other
              await s.write(batch.slice(10));
            });
          }
        }),
      );
      writing = false;
      const copy = await reader;
      const truth = (await drain(t, token)).copy;
      assert.equal(copy.size, truth.size);
      for (const [id, json] of truth)
        assert.equal(copy.get(id), json, `the reader's copy of a person differs`);
      // And the copy is the register: the export, person for person.
      const exported = await exportLines(t);
      assert.equal(exported.length, copy.size);
      for (const line of exported) {
        const id = (JSON.parse(line) as { personidentifikator: string }).personidentifikator;
        assert.equal(withoutDerived(copy.get(id)!), line);
      }
    });
  });
}

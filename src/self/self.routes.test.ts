// GET and PATCH /rest/v1/person (docs/person-endpoint.md#get, docs/person-endpoint.md#patch) through
// HTTP, on both stores: the person is the token's pid, the user scopes grant as their global twins, the
// language change is a register change in the feed, both are audited.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditRepository } from '../audit/audit.repository.js';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import { assertErrorBody } from '../../test/support/error-body.js';
import { skipReason, STORE_KINDS } from '../../test/support/stores.js';
import { startTestApp } from '../../test/support/test-app.js';
import type { TestApp } from '../../test/support/test-app.js';
import { parseInstant } from '../time/oslo-time.js';

const URL = '/rest/v1/person';
const NOW = parseInstant('2024-05-10T12:00:00+02:00')!;
const KONTAKT = 'krr:user/kontaktinformasjon.read';
const POST = 'krr:user/digitalpost.read';
const WRITE = 'krr:user/spraak.write';
const PERSON = makeIdentifier({ day: 14, month: 2, year: 77 });
const DELETED = makeIdentifier({ day: 15, month: 2, year: 77 });
const NOBODY = makeIdentifier({ day: 16, month: 2, year: 77 });
const FEED = '/rest/v2/krr/hentEndringer';
const FEED_SCOPES = ['krr:global/hentendring.read', 'krr:global/kontaktinformasjon.read'];

for (const kind of STORE_KINDS) {
  describe(`the logged-in person (${kind})`, { skip: await skipReason(kind) }, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(kind, { now: NOW });
      await t.write([
        {
          personidentifikator: PERSON,
          status: 'AKTIV',
          reservasjon: 'NEI',
          kontaktinformasjon: {
            epostadresse: 'kari@example.no',
            epostadresse_oppdatert: parseInstant('2024-01-01T10:00:00+01:00')!,
          },
          digital_post: { postkasseadresse: 'kari.nordmann#1234', postkasseleverandoeradresse: '984661185' },
          spraak: 'nn',
          spraak_oppdatert: parseInstant('2020-01-01T10:00:00+01:00')!,
        },
        { personidentifikator: DELETED, status: 'SLETTET', reservasjon: 'NEI' },
      ]);
    });
    after(async () => t?.close());

    /** An ID-porten token; `pid` null: one without pid. */
    const personToken = (scopes: string[], pid: string | null = PERSON) => t.personToken(scopes, pid);
    const get = async (token: string, headers: Record<string, string> = {}) =>
      t.app.inject({ method: 'GET', url: URL, headers: { authorization: `Bearer ${token}`, ...headers } });
    const patch = async (token: string, body: unknown) =>
      t.app.inject({
        method: 'PATCH',
        url: URL,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload: typeof body === 'string' ? body : JSON.stringify(body),
      });

    it('answers the token’s person as one object, with the groups of krr:user/kontaktinformasjon.read', async () => {
      const res = await get(await personToken(['openid', KONTAKT]));
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(res.body), {
        personidentifikator: PERSON,
        reservasjon: 'NEI',
        status: 'AKTIV',
        varslingsstatus: 'KAN_VARSLES',
        kontaktinformasjon: {
          epostadresse: 'kari@example.no',
          epostadresse_oppdatert: '2024-01-01T10:00:00+01',
        },
        spraak: 'nn',
        spraak_oppdatert: '2020-01-01T10:00:00+01',
      });
    });

    it('grants digital_post with krr:user/digitalpost.read, and only the legacy group with user/*.read', async () => {
      const post = JSON.parse((await get(await personToken([POST]))).body) as Record<string, unknown>;
      assert.deepEqual(post.digital_post, {
        postkasseadresse: 'kari.nordmann#1234',
        postkasseleverandoeradresse: '984661185',
      });
      assert.equal(post.kontaktinformasjon, undefined);
      assert.equal(post.varslingsstatus, undefined);
      const legacy = JSON.parse(
        (await get(await personToken(['user/kontaktinformasjon.read']))).body,
      ) as Record<string, unknown>;
      assert.ok(legacy.kontaktinformasjon);
      assert.equal(legacy.varslingsstatus, undefined);
      assert.equal(legacy.spraak, undefined);
    });

    it('answers IKKE_REGISTRERT for a person with no record, and SLETTET as the lookups do', async () => {
      assert.deepEqual(JSON.parse((await get(await personToken([KONTAKT], NOBODY))).body), {
        personidentifikator: NOBODY,
        status: 'IKKE_REGISTRERT',
        varslingsstatus: 'KAN_IKKE_VARSLES',
      });
      assert.deepEqual(JSON.parse((await get(await personToken([POST], DELETED))).body), {
        personidentifikator: DELETED,
        status: 'SLETTET',
      });
    });

    it('refuses: no token 401, global or write-only scopes 403 insufficient_scope, a Maskinporten token or one without pid 403', async () => {
      const none = await t.app.inject({ method: 'GET', url: URL });
      assertErrorBody(none, 401);
      for (const scopes of [['krr:global/kontaktinformasjon.read'], [WRITE], ['openid']]) {
        const res = await get(await personToken(scopes));
        assertErrorBody(res, 403);
        assert.match(String(res.headers['www-authenticate']), /insufficient_scope/);
      }
      const system = await get(await t.token([KONTAKT]));
      const [wrongKind] = assertErrorBody(system, 403);
      assert.match(String(wrongKind!.detail), /ID-porten/);
      assert.equal(system.headers['www-authenticate'], undefined);
      const noPid = await get(await personToken([KONTAKT], null));
      const [error] = assertErrorBody(noPid, 403);
      assert.match(String(error!.detail), /pid/);
      assertErrorBody(await get(await personToken([KONTAKT], '12345678901')), 403);
    });

    it('PATCH sets the language, answers the updated person, and the change is in the feed', async () => {
      const feedToken = await t.token(FEED_SCOPES);
      const before = JSON.parse((await t.post(FEED, { fraEndringsId: 0 }, feedToken)).body) as {
        sisteEndringsId: number;
      };
      t.setNow(parseInstant('2024-05-11T08:30:00+02:00')!);
      const res = await patch(await personToken([WRITE]), { spraak: 'en' });
      assert.equal(res.statusCode, 200, res.body);
      const answer = JSON.parse(res.body) as Record<string, unknown>;
      assert.equal(answer.personidentifikator, PERSON);
      assert.equal(answer.spraak, 'en');
      assert.equal(answer.spraak_oppdatert, '2024-05-11T08:30:00+02');
      assert.equal(answer.kontaktinformasjon, undefined, 'only spraak.write: no contact data in the answer');

      const changes = JSON.parse(
        (await t.post(FEED, { fraEndringsId: before.sisteEndringsId }, feedToken)).body,
      ) as { list: Record<string, unknown>[]; sisteEndringsId: number };
      assert.equal(changes.list.length, 1);
      assert.equal(changes.list[0]!.personidentifikator, PERSON);
      assert.equal(changes.list[0]!.spraak, 'en');
      assert.ok(changes.sisteEndringsId > before.sisteEndringsId);

      const read = JSON.parse((await get(await personToken([KONTAKT]))).body) as Record<string, unknown>;
      assert.equal(read.spraak, 'en');

      // The same language again is no change.
      assert.equal((await patch(await personToken([WRITE]), { spraak: 'en' })).statusCode, 200);
      const after = JSON.parse(
        (await t.post(FEED, { fraEndringsId: changes.sisteEndringsId }, feedToken)).body,
      ) as { list: unknown[] };
      assert.equal(after.list.length, 0);
    });

    it('PATCH with "" removes the language (the time of the change stays)', async () => {
      t.setNow(parseInstant('2024-05-12T09:00:00+02:00')!);
      const res = await patch(await personToken([WRITE, KONTAKT]), { spraak: '' });
      assert.equal(res.statusCode, 200, res.body);
      const answer = JSON.parse(res.body) as Record<string, unknown>;
      assert.equal(answer.spraak, undefined);
      assert.equal(answer.spraak_oppdatert, '2024-05-12T09:00:00+02');
      assert.ok(answer.kontaktinformasjon, 'with a read scope, the answer has the read groups');
      assert.equal((await patch(await personToken([WRITE]), { spraak: 'nb' })).statusCode, 200);
    });

    it('PATCH refuses other fields and unknown languages with 422 and pointers; a non-object with 400', async () => {
      const token = await personToken([WRITE]);
      const other = assertErrorBody(await patch(token, { spraak: 'en', reservasjon: 'JA', 'a/b': 1 }), 422);
      assert.deepEqual(other.map((e) => e.source?.pointer).sort(), ['/a~1b', '/reservasjon']);
      for (const body of [{ spraak: 'de' }, { spraak: 5 }, { spraak: null }, {}]) {
        const [error] = assertErrorBody(await patch(token, body), 422);
        assert.equal(error!.source?.pointer, '/spraak');
      }
      for (const body of ['[1]', '"en"', '{not json']) assertErrorBody(await patch(token, body), 400);
      const read = JSON.parse((await get(await personToken([KONTAKT]))).body) as Record<string, unknown>;
      assert.equal(read.spraak, 'nb', 'nothing was written');
    });

    it('PATCH needs krr:user/spraak.write and a person with an active record (404 otherwise)', async () => {
      assertErrorBody(await patch(await personToken([KONTAKT]), { spraak: 'en' }), 403);
      assertErrorBody(await patch(await personToken([WRITE], null), { spraak: 'en' }), 403);
      assertErrorBody(await patch(await personToken([WRITE], NOBODY), { spraak: 'en' }), 404);
      assertErrorBody(await patch(await personToken([WRITE], DELETED), { spraak: 'en' }), 404);
      const nobody = JSON.parse((await get(await personToken([KONTAKT], NOBODY))).body) as Record<
        string,
        unknown
      >;
      assert.equal(nobody.status, 'IKKE_REGISTRERT', 'no record was created');
    });

    it('audits GET and PATCH with the person and the outcome', async () => {
      await get(await personToken([KONTAKT]));
      await patch(await personToken([WRITE], NOBODY), { spraak: 'en' });
      const [patched, got] = await new AuditRepository(t.store.db).latest(2);
      assert.equal(got!.endpoint, 'GET /rest/v1/person');
      assert.deepEqual(got!.identifiers, [PERSON]);
      assert.equal(got!.status, 200);
      assert.equal(got!.clientId, 'krr-dev-client');
      assert.equal(patched!.endpoint, 'PATCH /rest/v1/person');
      assert.deepEqual(patched!.identifiers, [NOBODY]);
      assert.equal(patched!.status, 404);
    });
  });
}

// The dev ID-porten's confirm step (docs/minprofil.md#confirm-prompt) through HTTP (inject), on both
// stores: who is interrupted (contact information older than 90 days, none, no entry; a reserved
// person too, as Digdir's module does), what "Bekreft" stamps (through Min profil's write path, in
// the feed and the audit trail), the way to Min profil and back, and the sign-in going on where it was.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { AuditRepository } from '../audit/audit.repository.js';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import type { Person } from '../person/person.js';
import { PersonRepository } from '../register/person.repository.js';
import { parseInstant } from '../time/oslo-time.js';
import { skipReason, STORE_KINDS } from '../../test/support/stores.js';
import { startTestApp } from '../../test/support/test-app.js';
import type { TestApp } from '../../test/support/test-app.js';

const ISSUER = 'http://127.0.0.1:8080/idporten';
const CLIENT = 'some-agency';
const REDIRECT = 'http://127.0.0.1:9999/callback';
const MINPROFIL_REDIRECT = 'http://127.0.0.1:8080/minprofil/innlogget';
const FORM = 'application/x-www-form-urlencoded';
const NOW = parseInstant('2026-06-01T12:00:00+02:00')!;
const DAY = 86_400_000;

const FRESH = makeIdentifier({ day: 1, month: 2, year: 70 });
const STALE = makeIdentifier({ day: 2, month: 2, year: 70 });
const EMPTY = makeIdentifier({ day: 3, month: 2, year: 70 });
const NOBODY = makeIdentifier({ day: 4, month: 2, year: 70 });
const RESERVED = makeIdentifier({ day: 5, month: 2, year: 70 });
const EMAIL_ONLY = makeIdentifier({ day: 6, month: 2, year: 70 });

const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');
const ago = (days: number) => Math.floor((NOW - days * DAY) / 1000) * 1000;

class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
}

function persons(): Person[] {
  return [
    {
      personidentifikator: FRESH,
      status: 'AKTIV',
      reservasjon: 'NEI',
      kontaktinformasjon: { epostadresse: 'fresh@example.no', epostadresse_sist_verifisert: ago(10) },
    },
    {
      personidentifikator: STALE,
      status: 'AKTIV',
      reservasjon: 'NEI',
      kontaktinformasjon: {
        epostadresse: 'stale<b>@example.no',
        epostadresse_oppdatert: ago(100),
        mobiltelefonnummer: '+4791234567',
        mobiltelefonnummer_oppdatert: ago(95),
        mobiltelefonnummer_sist_verifisert: ago(91),
      },
    },
    { personidentifikator: EMPTY, status: 'AKTIV', reservasjon: 'NEI' },
    {
      personidentifikator: RESERVED,
      status: 'AKTIV',
      reservasjon: 'JA',
      reservasjonstidspunkt: ago(400),
      kontaktinformasjon: { mobiltelefonnummer: '41234567', mobiltelefonnummer_sist_verifisert: ago(200) },
    },
    {
      personidentifikator: EMAIL_ONLY,
      status: 'AKTIV',
      reservasjon: 'NEI',
      kontaktinformasjon: { epostadresse: 'only@example.no', epostadresse_oppdatert: ago(300) },
    },
  ];
}

for (const kind of STORE_KINDS) {
  describe(`the dev ID-porten's confirm step (${kind})`, { skip: await skipReason(kind) }, () => {
    let t: TestApp;
    const logs = new LogCapture();
    const confirmIds: string[] = [];
    before(async () => {
      t = await startTestApp(kind, { now: NOW, logLevel: 'trace', logDestination: logs });
      await t.write(persons());
    });
    after(async () => t?.close());

    const postForm = (url: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
      t.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': FORM, ...headers },
        payload: new URLSearchParams(body).toString(),
      });

    /**
     * Starts a sign-in to `redirectUri` (with `extra` in its query, `headers` on both requests) and
     * picks `pid`: the answer to the pick.
     */
    async function signIn(
      pid: string,
      redirectUri = REDIRECT,
      extra: Record<string, string> = {},
      headers: Record<string, string> = {},
    ) {
      const verifier = randomBytes(32).toString('base64url');
      const query = new URLSearchParams({
        response_type: 'code',
        client_id: CLIENT,
        redirect_uri: redirectUri,
        scope: 'openid',
        state: 'the-state',
        nonce: 'the-nonce',
        code_challenge: s256(verifier),
        code_challenge_method: 'S256',
        ...extra,
      });
      const page = await t.app.inject({
        method: 'GET',
        url: `/idporten/authorize?${query.toString()}`,
        headers,
      });
      assert.equal(page.statusCode, 200, page.body);
      const requestId = /name="request_id" value="([^"]+)"/.exec(page.body)![1]!;
      const picked = await postForm('/idporten/authorize', { request_id: requestId, pid }, headers);
      return { picked, verifier, redirectUri };
    }

    /** The confirm step's id on its page. */
    const confirmIdOf = (html: string) => {
      const id = /name="confirm_id" value="([^"]+)"/.exec(html)![1]!;
      confirmIds.push(id);
      return id;
    };

    /** The redirect to the client carries a code for `pid`, with the original state. */
    async function assertSignedIn(
      res: { statusCode: number; headers: Record<string, unknown>; body: string },
      pid: string,
      verifier: string,
      redirectUri = REDIRECT,
    ) {
      assert.equal(res.statusCode, 303, res.body);
      const location = new URL(String(res.headers.location));
      assert.equal(`${location.origin}${location.pathname}`, redirectUri);
      assert.equal(location.searchParams.get('state'), 'the-state');
      const token = await postForm('/idporten/token', {
        grant_type: 'authorization_code',
        code: location.searchParams.get('code')!,
        redirect_uri: redirectUri,
        code_verifier: verifier,
        client_id: CLIENT,
      });
      assert.equal(token.statusCode, 200, token.body);
      const { id_token } = JSON.parse(token.body) as { id_token: string };
      assert.equal(decodeJwt(id_token).pid, pid);
      assert.equal(decodeJwt(id_token).nonce, 'the-nonce');
    }

    it('lets a person confirmed within 90 days straight through', async () => {
      const { picked, verifier } = await signIn(FRESH);
      await assertSignedIn(picked, FRESH, verifier);
    });

    it('shows a stale person their e-mail and mobile; Bekreft stamps _sist_verifisert now, audited and in the feed, then goes on', async () => {
      const { picked, verifier } = await signIn(STALE);
      assert.equal(picked.statusCode, 200, picked.body);
      assert.equal(picked.headers['content-type'], 'text/html; charset=utf-8');
      assert.match(String(picked.headers['content-security-policy']), /frame-ancestors 'none'/);
      assert.match(picked.body, /<html lang="nb"[ >]/);
      assert.match(picked.body, /stale&lt;b>@example\.no/, 'the address, escaped');
      assert.ok(!picked.body.includes('stale<b>'));
      assert.match(picked.body, /\+4791234567/);
      assert.match(picked.body, /<button type="submit" name="action" value="confirm"[^>]*>Bekreft<\/button>/);
      const confirmId = confirmIdOf(picked.body);
      const before = await new PersonRepository(t.store.db).latestChangeId();

      const confirmed = await postForm('/idporten/confirm', { confirm_id: confirmId, action: 'confirm' });
      await assertSignedIn(confirmed, STALE, verifier);

      const [person] = await new PersonRepository(t.store.db).changedSince(before, 10);
      assert.equal(person?.id, STALE, 'the confirmation is a change in the feed');
      const entry = JSON.parse(
        (
          await t.post(
            '/rest/v2/personer',
            { personidentifikatorer: [STALE] },
            await t.token(['krr:global/kontaktinformasjon.read']),
          )
        ).body,
      ) as { personer: [{ kontaktinformasjon: Record<string, string> }] };
      const k = entry.personer[0].kontaktinformasjon;
      assert.equal(k.epostadresse_sist_verifisert, '2026-06-01T12:00:00+02');
      assert.equal(k.mobiltelefonnummer_sist_verifisert, '2026-06-01T12:00:00+02');
      assert.equal(k.epostadresse_oppdatert, '2026-02-21T11:00:00+01', 'a confirmation changes nothing else');
      const audit = (await new AuditRepository(t.store.db).latest(5)).find(
        (e) => e.endpoint === 'minprofil:bekreft',
      );
      assert.deepEqual(audit?.identifiers, [STALE]);
      assert.equal(audit?.detail, 'epostadresse_sist_verifisert,mobiltelefonnummer_sist_verifisert');

      const again = await postForm('/idporten/confirm', { confirm_id: confirmId, action: 'confirm' });
      assert.equal(again.statusCode, 400, 'the held sign-in went on once');
      const next = await signIn(STALE);
      await assertSignedIn(next.picked, STALE, next.verifier);
    });

    it('links to Min profil with the step as gotoUrl; back from there, a person no longer due goes straight on', async () => {
      const { picked, verifier } = await signIn(EMAIL_ONLY);
      assert.equal(picked.statusCode, 200);
      assert.match(picked.body, /Du har ikke registrert mobilnummer/);
      assert.match(picked.body, /landskode/);
      const href = /<a [^>]*href="([^"]+)"[^>]*>Endre kontaktopplysningene i Min profil<\/a>/.exec(
        picked.body,
      )![1]!;
      const link = new URL(href.replace(/&amp;/g, '&'));
      assert.equal(`${link.origin}${link.pathname}`, 'http://127.0.0.1:8080/minprofil');
      const back = new URL(link.searchParams.get('gotoUrl')!);
      assert.equal(`${back.origin}${back.pathname}`, `${ISSUER}/confirm`);
      assert.equal(back.searchParams.get('confirm_id'), confirmIdOf(picked.body));

      // Still due: the step again.
      const shown = await t.app.inject({ method: 'GET', url: `${back.pathname}${back.search}` });
      assert.equal(shown.statusCode, 200);
      assert.match(shown.body, /only@example\.no/);
      // The person changes the address at Min profil (the same write path), then comes back.
      await t.write([
        {
          ...persons()[4]!,
          kontaktinformasjon: {
            epostadresse: 'new@example.no',
            epostadresse_oppdatert: NOW,
            epostadresse_sist_verifisert: NOW,
          },
        },
      ]);
      const returned = await t.app.inject({ method: 'GET', url: `${back.pathname}${back.search}` });
      await assertSignedIn(returned, EMAIL_ONLY, verifier);
    });

    it('asks a person without an entry to register, and lets them go on without; nothing is created', async () => {
      const { picked, verifier } = await signIn(NOBODY);
      assert.equal(picked.statusCode, 200);
      assert.match(picked.body, /Registrer deg i Min profil/);
      assert.match(picked.body, /gå videre uten å legge inn kontaktopplysninger/);
      assert.ok(!picked.body.includes('value="confirm"'), 'nothing to confirm');
      const confirmId = confirmIdOf(picked.body);
      const refused = await postForm('/idporten/confirm', { confirm_id: confirmId, action: 'confirm' });
      assert.equal(refused.statusCode, 200, 'confirming nothing shows the step again');
      const went = await postForm('/idporten/confirm', { confirm_id: confirmId, action: 'continue' });
      await assertSignedIn(went, NOBODY, verifier);
      assert.deepEqual(await new PersonRepository(t.store.db).findMany([NOBODY]), []);
    });

    it('offers a registered person without channels to add them, or to go on', async () => {
      const { picked, verifier } = await signIn(EMPTY);
      assert.equal(picked.statusCode, 200);
      assert.match(picked.body, /Legg inn kontaktopplysninger i Min profil/);
      const went = await postForm('/idporten/confirm', {
        confirm_id: confirmIdOf(picked.body),
        action: 'continue',
      });
      await assertSignedIn(went, EMPTY, verifier);
    });

    it('prompts a reserved person like anyone else (as Digdir’s module does), and cannot skip confirming data they have', async () => {
      const { picked, verifier } = await signIn(RESERVED);
      assert.equal(picked.statusCode, 200);
      assert.match(picked.body, /41234567/);
      const confirmId = confirmIdOf(picked.body);
      const skipped = await postForm('/idporten/confirm', { confirm_id: confirmId, action: 'continue' });
      assert.equal(skipped.statusCode, 200, 'no skipping past data to confirm');
      await assertSignedIn(
        await postForm('/idporten/confirm', { confirm_id: confirmId, action: 'confirm' }),
        RESERVED,
        verifier,
      );
    });

    it('cancels to the client with access_denied; an unknown step is the expired page', async () => {
      const { picked } = await signIn(EMPTY);
      const cancelled = await postForm('/idporten/confirm', {
        confirm_id: confirmIdOf(picked.body),
        action: 'cancel',
      });
      assert.equal(cancelled.statusCode, 303);
      assert.equal(new URL(String(cancelled.headers.location)).searchParams.get('error'), 'access_denied');
      const unknown = await t.app.inject({ method: 'GET', url: '/idporten/confirm?confirm_id=nope' });
      assert.equal(unknown.statusCode, 400);
    });

    it('speaks the language of the request’s ui_locales, else of Accept-Language, else bokmål', async () => {
      const lang = (html: string) => /<html lang="([a-z]+)"/.exec(html)?.[1];
      const nn = await signIn(EMPTY, REDIRECT, { ui_locales: 'nn' }, { 'accept-language': 'en' });
      assert.equal(nn.picked.statusCode, 200);
      assert.equal(lang(nn.picked.body), 'nn');
      assert.match(nn.picked.body, /Du kan velje å gå vidare utan å leggje inn kontaktopplysningar\./);
      assert.match(nn.picked.body, />Hald fram<\/button>/);
      // Shown again (as Min profil sends the person back): still the request's language.
      const again = await t.app.inject({
        method: 'GET',
        url: `/idporten/confirm?confirm_id=${encodeURIComponent(confirmIdOf(nn.picked.body))}`,
      });
      assert.equal(lang(again.body), 'nn');
      assert.match(String(again.headers['content-security-policy']), /style-src 'self'/);
      const en = await signIn(EMPTY, REDIRECT, {}, { 'accept-language': 'en-GB,en;q=0.9' });
      assert.equal(lang(en.picked.body), 'en');
      assert.match(en.picked.body, /<title>Create contact information \(krr test ID-porten\)<\/title>/);
      confirmIdOf(en.picked.body);
      const nb = await signIn(EMPTY, REDIRECT, {}, { 'accept-language': 'sv' });
      assert.equal(lang(nb.picked.body), 'nb');
      confirmIdOf(nb.picked.body);
    });

    it('never interrupts the sign-in to Min profil itself, which the step links to', async () => {
      const { picked, verifier, redirectUri } = await signIn(NOBODY, MINPROFIL_REDIRECT);
      await assertSignedIn(picked, NOBODY, verifier, redirectUri);
    });

    it('logs no identifier, address, number or step id (after the tests above)', () => {
      assert.ok(logs.lines.length > 10, 'requests were logged');
      const text = logs.lines.join('\n');
      for (const secret of [
        FRESH,
        STALE,
        EMPTY,
        NOBODY,
        RESERVED,
        EMAIL_ONLY,
        'example.no',
        '91234567',
        '41234567',
        ...confirmIds,
      ]) {
        assert.ok(!text.includes(secret), `the log holds no ${secret.slice(0, 3)}…`);
      }
    });

    it('counts the 90 days on the register’s clock', async () => {
      t.setNow(NOW + 80 * DAY); // FRESH was confirmed 90 days before
      try {
        const inTime = await signIn(FRESH);
        await assertSignedIn(inTime.picked, FRESH, inTime.verifier);
        t.setNow(NOW + 81 * DAY);
        const late = await signIn(FRESH);
        assert.equal(late.picked.statusCode, 200, 'more than 90 days: the step');
        assert.match(late.picked.body, /fresh@example\.no/);
      } finally {
        t.setNow(NOW);
      }
    });
  });
}

describe('the confirm step turned off', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp('embedded', { now: NOW, env: { KRR_IDPORTEN_CONFIRM_PROMPT: 'false' } });
    await t.write(persons());
  });
  after(async () => t?.close());

  it('lets a stale person and one without an entry straight through', async () => {
    for (const pid of [STALE, NOBODY]) {
      const query = new URLSearchParams({
        response_type: 'code',
        client_id: CLIENT,
        redirect_uri: REDIRECT,
        scope: 'openid',
        code_challenge: s256(randomBytes(32).toString('base64url')),
        code_challenge_method: 'S256',
      });
      const page = await t.app.inject({ method: 'GET', url: `/idporten/authorize?${query.toString()}` });
      const requestId = /name="request_id" value="([^"]+)"/.exec(page.body)![1]!;
      const picked = await t.app.inject({
        method: 'POST',
        url: '/idporten/authorize',
        headers: { 'content-type': FORM },
        payload: new URLSearchParams({ request_id: requestId, pid }).toString(),
      });
      assert.equal(picked.statusCode, 303, pid);
      assert.ok(new URL(String(picked.headers.location)).searchParams.get('code'));
    }
  });
});

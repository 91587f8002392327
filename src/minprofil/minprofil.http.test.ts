// Min profil over real HTTP, on both stores: a krr listening on a port, a cookie-keeping client of
// our own, and openid-client really talking to the dev ID-porten stand-in on the same server.
// Sign-in, the session cookie, logout and replay, the idle timeout (on the real clock the test
// moves), CSRF, the headers, gotoUrl, the language, the dev inbox, and that the session (never a
// form field) decides who acts.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose';
import { after, before, describe, it } from 'node:test';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import type { Person } from '../person/person.js';
import { MinprofilClient as Browser } from '../../test/support/minprofil-client.js';
import { freePort } from '../../test/support/processes.js';
import { skipReason, STORE_KINDS } from '../../test/support/stores.js';
import { startTestApp } from '../../test/support/test-app.js';
import type { TestApp } from '../../test/support/test-app.js';

const PERSON = makeIdentifier({ day: 12, month: 3, year: 85 }, 500);
const OTHER = makeIdentifier({ day: 13, month: 4, year: 86 }, 500);
const NEWCOMER = makeIdentifier({ day: 14, month: 5, year: 87 }, 500);
const PERSON_EMAIL = 'kari.test@example.no';
const OTHER_EMAIL = 'ola.test@example.no';
const ALLOWED_GOTO = 'https://agency.example/tilbake/';
const DAY = 86_400_000;

function person(pid: string, email: string, at: number): Person {
  return {
    personidentifikator: pid,
    status: 'AKTIV',
    reservasjon: 'NEI',
    kontaktinformasjon: {
      epostadresse: email,
      epostadresse_oppdatert: at,
      epostadresse_sist_verifisert: at,
    },
  };
}

const htmlLang = (html: string) => /<html lang="([a-z]+)"/.exec(html)?.[1];

for (const kind of STORE_KINDS) {
  describe(`Min profil over HTTP (${kind})`, { skip: await skipReason(kind) }, () => {
    let t: TestApp;
    let base: string;
    /** The real clock Min profil's sessions run on; the idle-timeout test moves it. */
    let realNow = Date.now();
    const logs: string[] = [];
    /** Values that must never reach the operational log. */
    const secrets = new Set<string>([PERSON, OTHER, NEWCOMER, PERSON_EMAIL, OTHER_EMAIL]);

    /** The person as a lookup answers (the register's view). */
    async function lookup(pid: string): Promise<Record<string, unknown>> {
      const token = await t.token(['krr:global/kontaktinformasjon.read']);
      const res = await t.post('/rest/v2/personer', { personidentifikatorer: [pid] }, token);
      assert.equal(res.statusCode, 200);
      return (JSON.parse(res.body) as { personer: Record<string, unknown>[] }).personer[0]!;
    }
    const contact = async (pid: string) =>
      (await lookup(pid)).kontaktinformasjon as Record<string, string | undefined>;

    /** The newest one-time code the dev inbox lists for `recipient`. */
    async function codeFor(recipient: string): Promise<string> {
      const res = await fetch(`${base}/dev/innboks`);
      assert.equal(res.status, 200);
      const html = await res.text();
      const row = html.split('<tr>').find((r) => r.includes(`<td>${recipient}</td>`));
      assert.ok(row, `a message to ${recipient}`);
      const code = /\b([0-9]{6})\b/.exec(row.replace(/<time[^>]*>.*?<\/time>/, ''))![1]!;
      secrets.add(code);
      return code;
    }

    before(async () => {
      const port = await freePort();
      t = await startTestApp(kind, {
        env: { KRR_PORT: String(port), KRR_MINPROFIL_GOTO_URLS: ALLOWED_GOTO },
        logLevel: 'info',
        logDestination: new Writable({
          write(chunk: Buffer, _encoding, done) {
            logs.push(chunk.toString('utf8'));
            done();
          },
        }),
        minprofil: { now: () => realNow },
      });
      await t.app.listen({ host: '127.0.0.1', port });
      base = `http://127.0.0.1:${port}`;
      assert.equal(t.config.publicUrl, base);
      const at = Date.now() - 30 * DAY;
      await t.write([person(PERSON, PERSON_EMAIL, at), person(OTHER, OTHER_EMAIL, at)]);
    });
    after(async () => {
      await t?.close();
    });

    it('signs in with openid-client through the dev ID-porten: PKCE S256, state, nonce, acr_values', async () => {
      const b = new Browser(base);
      const authorize = await b.signIn(PERSON);
      const q = authorize.searchParams;
      assert.equal(q.get('client_id'), 'krr-minprofil');
      assert.equal(q.get('redirect_uri'), `${base}/minprofil/innlogget`);
      assert.equal(q.get('response_type'), 'code');
      assert.equal(q.get('code_challenge_method'), 'S256');
      assert.match(q.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/);
      assert.ok((q.get('state') ?? '').length >= 32);
      assert.ok((q.get('nonce') ?? '').length >= 32);
      assert.equal(q.get('acr_values'), 'idporten-loa-substantial');
      const res = await b.get('/minprofil');
      assert.equal(res.status, 200);
      const html = await res.text();
      assert.match(html, new RegExp(PERSON_EMAIL.replace('.', '\\.')));
      assert.doesNotMatch(html, new RegExp(OTHER_EMAIL.replace('.', '\\.')));
      assert.match(html, /<button[^>]*type="submit">Logg ut<\/button>/);
    });

    it('keeps the session id in an HttpOnly, SameSite=Lax, signed cookie on /minprofil (not Secure on loopback http), and only its hash in the store', async () => {
      const b = new Browser(base);
      await b.signIn(PERSON);
      const cookie = b.cookies.get('minprofil_session')!;
      secrets.add(cookie.value);
      assert.match(cookie.header, /; HttpOnly/i);
      assert.match(cookie.header, /; SameSite=Lax/i);
      assert.match(cookie.header, /; Path=\/minprofil(;|$)/);
      assert.doesNotMatch(cookie.header, /Secure/i);
      // No Max-Age or Expires: the browser forgets it when it closes; the server ends it when idle.
      assert.doesNotMatch(cookie.header, /Max-Age|Expires/i);
      const value = decodeURIComponent(cookie.value);
      const dot = value.lastIndexOf('.');
      assert.ok(dot > 0, 'signed: value.signature');
      const id = value.slice(0, dot);
      const rows = await t.store.db.query<{ id_hash: string; personidentifikator: string; acr: string }>(
        'select id_hash, personidentifikator, acr from minprofil_session where id_hash = $1',
        [createHash('sha256').update(id).digest('hex')],
      );
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.personidentifikator, PERSON);
      assert.equal(rows[0]!.acr, 'idporten-loa-substantial');
      const raw = await t.store.db.query('select 1 from minprofil_session where id_hash = $1', [id]);
      assert.equal(raw.length, 0, 'the id itself is not stored');
    });

    it('refuses a callback whose state differs, or that comes without the sign-in cookie', async () => {
      const b = new Browser(base);
      const first = await b.get('/minprofil');
      const authorize = new URL(first.headers.get('location')!);
      const page = await (await b.get(authorize.href)).text();
      const requestId = /name="request_id" value="([^"]+)"/.exec(page)![1]!;
      const picked = await b.post('/idporten/authorize', { request_id: requestId, pid: PERSON });
      const callback = new URL(picked.headers.get('location')!);
      const forged = new URL(callback);
      forged.searchParams.set('state', 'x'.repeat(43));
      const refused = await b.get(forged.href);
      assert.equal(refused.status, 400);
      assert.match(await refused.text(), /Innloggingen ble ikke fullført/);
      assert.ok(!b.cookies.has('minprofil_session'));
      // The sign-in cookie is spent: the real callback now fails too.
      const again = await b.get(callback.href);
      assert.equal(again.status, 400);
      assert.ok(!b.cookies.has('minprofil_session'));
    });

    it('sends the Content-Security-Policy and the other headers on every page', async () => {
      const b = new Browser(base);
      await b.signIn(PERSON);
      for (const path of [
        '/minprofil',
        '/minprofil/epost',
        '/minprofil/oppslag',
        '/minprofil/nope',
        '/dev/innboks',
      ]) {
        const res = await b.get(path);
        const csp = res.headers.get('content-security-policy') ?? '';
        assert.match(csp, /default-src 'self'/, path);
        assert.match(csp, /script-src 'self'(;|$)/, path);
        assert.match(csp, /style-src 'self'(;|$)/, path);
        assert.match(csp, /frame-ancestors 'none'/, path);
        assert.match(csp, /form-action 'self' https:\/\/agency\.example(;|$)/, path);
        assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, path);
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
        assert.ok(res.headers.get('referrer-policy'), path);
        const html = await res.text();
        assert.match(html, /^<!DOCTYPE html><html lang="nb"/, path);
        assert.doesNotMatch(html, /<script|<style|\sstyle=|\son[a-z]+=/i, path);
        for (const href of html.matchAll(/<link rel="stylesheet" href="([^"]+)"/g)) {
          assert.match(href[1]!, /^\/minprofil\/assets\//);
          const css = await fetch(`${base}${href[1]}`);
          assert.equal(css.status, 200, href[1]);
          assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
        }
      }
      // Only the two stylesheets of the packages are served, nothing else of their folders.
      assert.equal((await fetch(`${base}/minprofil/assets/button.css`)).status, 404);
      assert.equal((await fetch(`${base}/minprofil/assets/designsystemet.tailwind.css`)).status, 404);
    });

    it('refuses a form post without the session’s CSRF token, or from another site, and changes nothing', async () => {
      const b = new Browser(base);
      await b.signIn(PERSON);
      const token = await b.csrf();
      const other = new Browser(base);
      await other.signIn(OTHER);
      const otherToken = await other.csrf();
      const attempts: [Record<string, string>, Record<string, string>][] = [
        [{}, {}],
        [{ _csrf: 'x'.repeat(43) }, {}],
        [{ _csrf: otherToken }, {}],
        [{ _csrf: token }, { origin: 'https://evil.example' }],
        [{ _csrf: token }, { 'sec-fetch-site': 'cross-site' }],
        [{ _csrf: token }, { 'sec-fetch-site': 'same-site' }],
      ];
      for (const [form, headers] of attempts) {
        const res = await b.post('/minprofil/reservasjon', form, headers);
        assert.equal(res.status, 403, JSON.stringify([form, headers]));
        const html = await res.text();
        assert.equal(htmlLang(html), 'nb');
        assert.match(html, /Forespørselen ble avvist/);
      }
      assert.equal((await lookup(PERSON)).reservasjon, 'NEI');
      const ok = await b.post('/minprofil/reservasjon', { _csrf: token });
      assert.equal(ok.status, 303);
      assert.equal((await lookup(PERSON)).reservasjon, 'JA');
      const lifted = await b.post('/minprofil/reservasjon/opphev', { _csrf: token });
      assert.equal(lifted.status, 303);
      assert.equal((await lookup(PERSON)).reservasjon, 'NEI');
    });

    it('"Logg ut" ends the session: the cookie, replayed, signs no one in and changes nothing', async () => {
      const b = new Browser(base);
      await b.signIn(PERSON);
      const token = await b.csrf();
      const stolen = b.cookieHeader();
      const out = await b.post('/minprofil/logg-ut', { _csrf: token });
      assert.equal(out.status, 200);
      assert.match(await out.text(), /Du er logget ut/);
      assert.ok(!b.cookies.has('minprofil_session'), 'the cookie is cleared');
      const replayed = await fetch(`${base}/minprofil`, { headers: { cookie: stolen }, redirect: 'manual' });
      assert.equal(replayed.status, 303);
      assert.match(replayed.headers.get('location')!, /\/idporten\/authorize\?/);
      const post = await fetch(`${base}/minprofil/reservasjon`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: stolen, 'content-type': 'application/x-www-form-urlencoded', origin: base },
        body: new URLSearchParams({ _csrf: token }).toString(),
      });
      assert.equal(post.status, 303);
      assert.equal(post.headers.get('location'), '/minprofil');
      assert.equal((await lookup(PERSON)).reservasjon, 'NEI');
    });

    it('refuses a forged or unsigned session cookie', async () => {
      const b = new Browser(base);
      await b.signIn(PERSON);
      const value = decodeURIComponent(b.cookies.get('minprofil_session')!.value);
      const [id = '', signature = ''] = [
        value.slice(0, value.lastIndexOf('.')),
        value.slice(value.lastIndexOf('.') + 1),
      ];
      const flipped = `${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}.${signature}`;
      for (const forged of [id, flipped, `${id}.${'A'.repeat(signature.length)}`]) {
        const res = await fetch(`${base}/minprofil`, {
          headers: { cookie: `minprofil_session=${encodeURIComponent(forged)}` },
          redirect: 'manual',
        });
        assert.equal(res.status, 303);
        assert.match(res.headers.get('location')!, /\/idporten\/authorize\?/);
      }
    });

    it('acts for the session’s person only: another identifier in any form field or query is ignored', async () => {
      const b = new Browser(base);
      await b.signIn(PERSON);
      const token = await b.csrf();
      const overview = await (await b.get(`/minprofil?pid=${OTHER}&personidentifikator=${OTHER}`)).text();
      assert.doesNotMatch(overview, new RegExp(OTHER_EMAIL.replace('.', '\\.')));
      const newEmail = 'kari.ny@example.no';
      secrets.add(newEmail);
      const foreign = { pid: OTHER, personidentifikator: OTHER, sub: OTHER };
      const asked = await b.post('/minprofil/epost', { _csrf: token, value: newEmail, ...foreign });
      assert.equal(asked.status, 303);
      assert.equal(asked.headers.get('location'), '/minprofil/epost/kode');
      const codePage = await (await b.get('/minprofil/epost/kode')).text();
      assert.match(codePage, /<label class="ds-label" for="kode">Engangskode<\/label>/);
      const code = await codeFor(newEmail);
      const wrong = await b.post('/minprofil/epost/kode', {
        _csrf: token,
        kode: code === '000000' ? '111111' : '000000',
      });
      assert.equal(wrong.status, 422);
      assert.match(await wrong.text(), /aria-describedby="kode-hint kode-error"[^>]*aria-invalid="true"/);
      const saved = await b.post('/minprofil/epost/kode', { _csrf: token, kode: code, ...foreign });
      assert.equal(saved.status, 303);
      assert.equal(saved.headers.get('location'), '/minprofil?lagret=epost');
      assert.equal((await contact(PERSON)).epostadresse, newEmail);
      assert.equal((await contact(OTHER)).epostadresse, OTHER_EMAIL);
      // The old address is told (docs/jobs.md#notice-of-change): the link, never the new address.
      const inbox = await (await fetch(`${base}/dev/innboks`)).text();
      const notice = inbox.split('<tr>').find((r) => r.includes(`<td>${PERSON_EMAIL}</td>`));
      assert.ok(notice, 'a notice to the old address');
      assert.match(notice, /E-postadressen din i Kontakt- og reservasjonsregisteret er endret/);
      assert.ok(notice.includes(`${base}/minprofil`), 'with the link to Min profil');
      assert.ok(
        !notice.includes(newEmail) && !notice.includes(PERSON),
        'neither the new address nor the person',
      );
      const confirmed = await b.post('/minprofil/bekreft', { _csrf: token, ...foreign });
      assert.equal(confirmed.status, 303);
      assert.equal(
        (await contact(OTHER)).epostadresse_sist_verifisert,
        (await contact(OTHER)).epostadresse_oppdatert,
      );
    });

    it('shows a field error at the field, in the page’s language', async () => {
      const b = new Browser(base);
      await b.signIn(PERSON);
      const token = await b.csrf();
      const res = await b.post('/minprofil/mobil?locale=en', { _csrf: token, value: '12' });
      assert.equal(res.status, 422);
      const html = await res.text();
      assert.equal(htmlLang(html), 'en');
      assert.match(html, /<label class="ds-label" for="value">Mobile number<\/label>/);
      assert.match(html, /aria-describedby="value-hint value-error"/);
      assert.match(html, /id="value-error">Enter a valid mobile number/);
      assert.match(html, /value="12"/);
    });

    it('registers a person without an entry', async () => {
      const b = new Browser(base);
      await b.signIn(NEWCOMER);
      const page = await (await b.get('/minprofil')).text();
      assert.match(page, /Du er ikke registrert/);
      const token = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
      const res = await b.post('/minprofil/registrer', { _csrf: token });
      assert.equal(res.status, 303);
      assert.equal((await lookup(NEWCOMER)).status, 'AKTIV');
      assert.match(await (await b.get('/minprofil?lagret=registrert')).text(), /Du er registrert/);
    });

    it('gotoUrl: an address on the allow list is kept through sign-in and used after a confirm; anything else is an error page', async () => {
      for (const bad of [
        'https://evil.example/',
        'https://agency.example/tilbakeX',
        'https://agency.example.evil.example/tilbake/',
        '//evil.example/',
        'javascript:alert(1)',
      ]) {
        const res = await fetch(`${base}/minprofil?gotoUrl=${encodeURIComponent(bad)}`, {
          redirect: 'manual',
        });
        assert.equal(res.status, 400, bad);
        assert.equal(res.headers.get('location'), null, bad);
        assert.match(await res.text(), /Ugyldig returadresse/, bad);
      }
      const b = new Browser(base);
      const goto = `${ALLOWED_GOTO}steg?x=1`;
      await b.signIn(PERSON, `/minprofil?gotoUrl=${encodeURIComponent(goto)}`);
      const token = await b.csrf();
      const res = await b.post('/minprofil/bekreft', { _csrf: token });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), goto);
      // Used once: the next save goes to the overview.
      const next = await b.post('/minprofil/bekreft', { _csrf: token });
      assert.equal(next.headers.get('location'), '/minprofil?lagret=bekreftet');
      // A return address the browser forged into its cookie (unsigned) is not followed.
      b.cookies.set('minprofil_goto', { value: encodeURIComponent('https://evil.example/'), header: '' });
      const forged = await b.post('/minprofil/bekreft', { _csrf: token });
      assert.equal(forged.headers.get('location'), '/minprofil?lagret=bekreftet');
    });

    it('speaks ?locale (remembered in a cookie), else Accept-Language, else bokmål', async () => {
      const b = new Browser(base);
      const en = await b.get('/minprofil/finnes-ikke?locale=en');
      assert.equal(en.status, 404);
      const enHtml = await en.text();
      assert.equal(htmlLang(enHtml), 'en');
      assert.match(enHtml, /Page not found/);
      assert.equal(b.cookies.get('minprofil_locale')?.value, 'en');
      assert.equal(htmlLang(await (await b.get('/minprofil/finnes-ikke')).text()), 'en');
      const nn = await fetch(`${base}/minprofil/finnes-ikke`, {
        headers: { 'accept-language': 'nn-NO,nn;q=0.9' },
      });
      const nnHtml = await nn.text();
      assert.equal(htmlLang(nnHtml), 'nn');
      assert.match(nnHtml, /Sida finst ikkje/);
      assert.equal(htmlLang(await (await fetch(`${base}/minprofil/finnes-ikke`)).text()), 'nb');
      const signedInEn = new Browser(base, { 'accept-language': 'en' });
      await signedInEn.signIn(PERSON);
      const overview = await (await signedInEn.get('/minprofil')).text();
      assert.match(overview, /Your contact information/);
      assert.match(overview, />Log out<\/button>/);
    });

    it('lists the dev inbox newest first: recipient, channel, text, time', async () => {
      const b = new Browser(base);
      await b.signIn(OTHER);
      const token = await b.csrf();
      const first = 'ola.en@example.no';
      const second = 'ola.to@example.no';
      secrets.add(first).add(second);
      assert.equal((await b.post('/minprofil/epost', { _csrf: token, value: first })).status, 303);
      assert.equal((await b.post('/minprofil/epost', { _csrf: token, value: second })).status, 303);
      const html = await (await fetch(`${base}/dev/innboks`)).text();
      assert.match(html, /<th scope="col">Mottaker<\/th>/);
      assert.ok(html.indexOf(second) < html.indexOf(first), 'newest first');
      assert.match(html, /<td>E-post<\/td>/);
      assert.match(html, /<time datetime="[^"]+">/);
      await codeFor(first);
      await codeFor(second);
    });

    it('ends a session idle for 15 minutes (by the real clock), refreshes it on use, and does not bring it back', async () => {
      const b = new Browser(base);
      await b.signIn(PERSON);
      const start = realNow;
      try {
        realNow += 14 * 60_000;
        assert.equal((await b.get('/minprofil')).status, 200);
        realNow += 14 * 60_000;
        assert.equal((await b.get('/minprofil')).status, 200, 'each request refreshes it');
        const stolen = b.cookieHeader();
        realNow += 15 * 60_000 + 1000;
        const idle = await b.get('/minprofil');
        assert.equal(idle.status, 303);
        assert.match(idle.headers.get('location')!, /\/idporten\/authorize\?/);
        realNow -= 20 * 60_000;
        const back = await fetch(`${base}/minprofil`, { headers: { cookie: stolen }, redirect: 'manual' });
        assert.equal(back.status, 303, 'a clock set back does not revive it');
      } finally {
        realNow = start;
      }
    });

    it('writes no identifier, address, code or cookie into the operational log', () => {
      const text = logs.join('');
      assert.ok(text.length > 0, 'the log was captured');
      for (const secret of secrets) assert.ok(!text.includes(secret), `the log holds ${secret.slice(0, 3)}…`);
    });
  });

  describe(`Min profil with private_key_jwt (${kind})`, { skip: await skipReason(kind) }, () => {
    let dir: string;
    let privateJwk: JWK;
    let publicJwk: JWK;
    let otherPublicJwk: JWK;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'krr-minprofil-pkjwt-'));
      const pair = await generateKeyPair('RS256', { extractable: true });
      privateJwk = { ...(await exportJWK(pair.privateKey)), kid: 'minprofil-1', alg: 'RS256' };
      publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'minprofil-1', alg: 'RS256', use: 'sig' };
      const other = await generateKeyPair('RS256', { extractable: true });
      otherPublicJwk = {
        ...(await exportJWK(other.publicKey)),
        kid: 'minprofil-1',
        alg: 'RS256',
        use: 'sig',
      };
      await writeFile(join(dir, 'minprofil.jwk'), JSON.stringify(privateJwk));
    });
    after(() => rm(dir, { recursive: true, force: true }));

    /** A dev krr whose stand-in knows Min profil's client by `registered`, Min profil signing with its key. */
    async function start(registered: JWK) {
      const port = await freePort();
      const app = await startTestApp(kind, {
        env: {
          KRR_PORT: String(port),
          KRR_MINPROFIL_PRIVATE_KEY_FILE: join(dir, 'minprofil.jwk'),
          KRR_IDPORTEN_CLIENTS: JSON.stringify([
            {
              clientId: 'krr-minprofil',
              redirectUris: [`http://127.0.0.1:${port}/minprofil/innlogget`],
              jwks: { keys: [registered] },
            },
          ]),
        },
      });
      await app.app.listen({ host: '127.0.0.1', port });
      return { app, base: `http://127.0.0.1:${port}` };
    }

    it('signs in when the stand-in checks the assertion against the registered key', async () => {
      const { app, base } = await start(publicJwk);
      try {
        assert.equal(app.config.minprofil.clientAuth.kind, 'private_key_jwt');
        const b = new Browser(base);
        await b.signIn(PERSON);
        assert.equal((await b.get('/minprofil')).status, 200);
      } finally {
        await app.close();
      }
    });

    it('does not sign in when the registered key is another', async () => {
      const { app, base } = await start(otherPublicJwk);
      try {
        const b = new Browser(base);
        const first = await b.get('/minprofil');
        const page = await (await b.get(first.headers.get('location')!)).text();
        const requestId = /name="request_id" value="([^"]+)"/.exec(page)![1]!;
        const picked = await b.post('/idporten/authorize', { request_id: requestId, pid: PERSON });
        const back = await b.get(picked.headers.get('location')!);
        assert.equal(back.status, 400);
        assert.match(await back.text(), /Innloggingen ble ikke fullført/);
        assert.ok(!b.cookies.has('minprofil_session'));
      } finally {
        await app.close();
      }
    });
  });

  describe(`Min profil outside dev mode (${kind})`, { skip: await skipReason(kind) }, () => {
    it('has no /dev/innboks; without an issuer no /minprofil either', async () => {
      for (const env of [
        {},
        {
          KRR_MINPROFIL_ISSUER: 'https://idporten.example',
          KRR_MINPROFIL_CLIENT_ID: 'krr',
          KRR_MINPROFIL_CLIENT_SECRET: 'a-secret',
          KRR_MINPROFIL_COOKIE_SECRET: 'c'.repeat(40),
        },
      ]) {
        const app = await startTestApp(kind, { dev: false, env });
        try {
          assert.equal(app.config.dev, false);
          const inbox = await app.app.inject({ url: '/dev/innboks' });
          assert.equal(inbox.statusCode, 404);
          assert.match(inbox.headers['content-type'] as string, /json/);
          const css = await app.app.inject({ url: '/minprofil/assets/minprofil.css' });
          assert.equal(css.statusCode, app.config.minprofil.enabled ? 200 : 404);
          assert.equal(app.config.minprofil.enabled, 'KRR_MINPROFIL_ISSUER' in env);
        } finally {
          await app.close();
        }
      }
    });
  });
}

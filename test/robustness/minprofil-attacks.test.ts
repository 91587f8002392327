// Min profil under attack, over real HTTP on both stores (docs/minprofil.md#codes,
// docs/minprofil.md#return-address): guessing one-time codes (five tries, then the code is dead
// even when right; sends limited per person across sessions), a code asked for in one person's
// session used in another's, and return addresses that try to leave the allow list. The pages'
// own suite (src/minprofil/minprofil.http.test.ts) covers cookies, CSRF and form fields.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeIdentifier } from '../../src/identifier/identifier.generate.js';
import type { Person } from '../../src/person/person.js';
import { MinprofilClient } from '../support/minprofil-client.js';
import { freePort } from '../support/processes.js';
import { skipReason, STORE_KINDS } from '../support/stores.js';
import { startTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';

const GUESSER = makeIdentifier({ day: 3, month: 6, year: 77 }, 610);
const VICTIM = makeIdentifier({ day: 4, month: 7, year: 78 }, 610);
const LIMITED = makeIdentifier({ day: 5, month: 8, year: 79 }, 610);
const ALLOWED = 'https://agency.example/tilbake/';
const DAY = 86_400_000;

const person = (pid: string, email: string, at: number): Person => ({
  personidentifikator: pid,
  status: 'AKTIV',
  reservasjon: 'NEI',
  kontaktinformasjon: { epostadresse: email, epostadresse_oppdatert: at, epostadresse_sist_verifisert: at },
});

/** Return addresses that must never be followed: other hosts in every disguise, other schemes. */
const HOSTILE_GOTO = [
  'https://evil.example/',
  '//evil.example/tilbake/',
  '/\\evil.example/',
  'https://agency.example.evil.example/tilbake/',
  'https://agency.example@evil.example/tilbake/',
  'https://user:pw@agency.example/tilbake/',
  'http://agency.example/tilbake/',
  'https://agency.example:8443/tilbake/',
  'https://agency.example/tilbakeX',
  'https://agency.example/annet/',
  'https://agency.example/tilbake/../annet/',
  'https://agency.example/tilbake/%2e%2e/annet/',
  'javascript:alert(1)//agency.example/tilbake/',
  'data:text/html,<script>alert(1)</script>',
  'https://agency.example/tilbake/\r\nLocation: https://evil.example/',
  ' https://evil.example/',
];

for (const kind of STORE_KINDS) {
  describe(`Min profil attacks (${kind})`, { skip: await skipReason(kind) }, () => {
    let t: TestApp;
    let base: string;

    async function email(pid: string): Promise<string | undefined> {
      const token = await t.token(['krr:global/kontaktinformasjon.read']);
      const res = await t.post('/rest/v2/personer', { personidentifikatorer: [pid] }, token);
      assert.equal(res.statusCode, 200);
      const [p] = (JSON.parse(res.body) as { personer: { kontaktinformasjon?: { epostadresse?: string } }[] })
        .personer;
      return p?.kontaktinformasjon?.epostadresse;
    }

    /** The newest one-time code sent to `recipient`, as the dev inbox lists it. */
    async function codeSentTo(recipient: string): Promise<string> {
      const html = await (await fetch(`${base}/dev/innboks`)).text();
      const row = html.split('<tr>').find((r) => r.includes(`<td>${recipient}</td>`));
      assert.ok(row, `a message to ${recipient}`);
      return /\b([0-9]{6})\b/.exec(row.replace(/<time[^>]*>.*?<\/time>/, ''))![1]!;
    }

    async function askForCode(client: MinprofilClient, value: string): Promise<Response> {
      return client.post('/minprofil/epost', { _csrf: await client.csrf(), value });
    }

    before(async () => {
      const port = await freePort();
      t = await startTestApp(kind, { env: { KRR_PORT: String(port), KRR_MINPROFIL_GOTO_URLS: ALLOWED } });
      await t.app.listen({ host: '127.0.0.1', port });
      base = `http://127.0.0.1:${port}`;
      const at = Date.now() - 30 * DAY;
      await t.write([
        person(GUESSER, 'guesser@example.no', at),
        person(VICTIM, 'victim@example.no', at),
        person(LIMITED, 'limited@example.no', at),
      ]);
    });
    after(async () => {
      await t?.close();
    });

    it('five wrong codes kill the code: the right one is refused after them, and nothing is saved', async () => {
      const client = new MinprofilClient(base);
      await client.signIn(GUESSER);
      const target = 'guesser.new@example.no';
      assert.equal((await askForCode(client, target)).status, 303);
      const code = await codeSentTo(target);
      const token = await client.csrf('/minprofil/epost/kode');
      const wrong = [...Array(5).keys()].map((i) =>
        String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0'),
      );
      const statuses: number[] = [];
      for (const guess of wrong) {
        statuses.push((await client.post('/minprofil/epost/kode', { _csrf: token, kode: guess })).status);
      }
      assert.deepEqual(statuses, [422, 422, 422, 422, 422]);
      const late = await client.post('/minprofil/epost/kode', { _csrf: token, kode: code });
      assert.notEqual(late.status, 303, 'the right code after five wrong ones is refused');
      assert.equal(await email(GUESSER), 'guesser@example.no');
    });

    it("a code sent in one person's session does nothing in another person's session", async () => {
      const victim = new MinprofilClient(base);
      await victim.signIn(VICTIM);
      const target = 'victim.new@example.no';
      assert.equal((await askForCode(victim, target)).status, 303);
      const code = await codeSentTo(target);

      const attacker = new MinprofilClient(base);
      await attacker.signIn(GUESSER);
      const used = await attacker.post('/minprofil/epost/kode', {
        _csrf: await attacker.csrf(),
        kode: code,
        pid: VICTIM,
        personidentifikator: VICTIM,
      });
      assert.notEqual(used.status, 303);
      assert.equal(await email(VICTIM), 'victim@example.no');
      assert.equal(await email(GUESSER), 'guesser@example.no');

      // The victim's own code still works for the victim.
      const saved = await victim.post('/minprofil/epost/kode', { _csrf: await victim.csrf(), kode: code });
      assert.equal(saved.status, 303);
      assert.equal(await email(VICTIM), target);
    });

    it('code sends are limited per person: a new session does not reset the count', async () => {
      const first = new MinprofilClient(base);
      await first.signIn(LIMITED);
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await askForCode(first, `limited.${i}@example.no`)).status);
      assert.deepEqual(statuses.slice(0, 5), [303, 303, 303, 303, 303]);
      assert.equal(statuses[5], 429);

      const second = new MinprofilClient(base);
      await second.signIn(LIMITED);
      const again = await askForCode(second, 'limited.again@example.no');
      assert.equal(again.status, 429);
      assert.match(await again.text(), /role="alert"/);
      const html = await (await fetch(`${base}/dev/innboks`)).text();
      assert.doesNotMatch(html, /limited\.(5|again)@example\.no/, 'no message for a refused send');
    });

    it('a return address off the allow list is an error page, never a redirect', async () => {
      const client = new MinprofilClient(base);
      await client.signIn(GUESSER);
      for (const goto of HOSTILE_GOTO) {
        const res = await client.get(`/minprofil?gotoUrl=${encodeURIComponent(goto)}`);
        assert.equal(res.status, 400, goto);
        assert.equal(res.headers.get('location'), null, goto);
        assert.match(res.headers.get('content-type') ?? '', /^text\/html/, goto);
      }
      // After all of them, a confirm goes back to the overview: no hostile address was kept.
      const confirmed = await client.post('/minprofil/bekreft', { _csrf: await client.csrf() });
      assert.equal(confirmed.status, 303);
      assert.match(confirmed.headers.get('location') ?? '', /^\/minprofil/);

      // The allowed one is kept, and used after the confirm.
      assert.equal(
        (await client.get(`/minprofil?gotoUrl=${encodeURIComponent(`${ALLOWED}ferdig`)}`)).status,
        200,
      );
      const back = await client.post('/minprofil/bekreft', { _csrf: await client.csrf() });
      assert.equal(back.status, 303);
      assert.equal(back.headers.get('location'), `${ALLOWED}ferdig`);
    });

    it('a hostile return address given before sign-in is refused before any sign-in starts', async () => {
      const client = new MinprofilClient(base);
      for (const goto of HOSTILE_GOTO.slice(0, 4)) {
        const res = await client.get(`/minprofil?gotoUrl=${encodeURIComponent(goto)}`);
        assert.notEqual(res.status, 303, goto);
        assert.equal(res.headers.get('location'), null, goto);
      }
    });
  });
}

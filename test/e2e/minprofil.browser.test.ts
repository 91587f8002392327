// Min profil driven as a citizen drives it (docs/minprofil.md): Debian's Chromium signs in through
// the dev ID-porten of a real listening `krr serve --dev --demo`, changes the e-mail with the code
// a real SMTP server received and the mobile with the code a real SMS gateway (an HTTP receiver)
// received, confirms, reserves and lifts, sets the language, registers a person without an entry,
// and finds an agency's lookup under "Hvem har slått meg opp". After each step the register is read
// as an agency reads it: `POST /rest/v2/personer` and the change feed. Every page passes axe-core
// with no serious or critical violation; on the embedded store every page is also photographed in
// the three languages (screenshots/, see the README).

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { devKeyFor, mintDevToken } from '../../src/auth/dev-issuer.js';
import { startServer } from '../../src/cli/serve.command.js';
import type { RunningServer } from '../../src/cli/serve.command.js';
import { loadConfig } from '../../src/config/config.js';
import { demoPersons } from '../../src/demo/demo-data.js';
import { makeIdentifier } from '../../src/identifier/identifier.generate.js';
import {
  assertAccessible,
  chromiumSkipReason,
  launchChromium,
  newUserContext,
  screenshot,
} from '../support/browser.js';
import { startHttpReceiver } from '../support/http-receiver.js';
import type { TestHttpReceiver } from '../support/http-receiver.js';
import { freePort } from '../support/processes.js';
import { startSmtpServer } from '../support/smtp-server.js';
import type { TestSmtpServer } from '../support/smtp-server.js';
import { copyEmptyEmbeddedStore, freshStoreConfig, skipReason, STORE_KINDS } from '../support/stores.js';

const SCOPES = [
  'krr:global/kontaktinformasjon.read',
  'krr:global/digitalpost.read',
  'krr:global/hentendring.read',
];
const CONSUMER = '991825827';
const SUPPLIER = '987654321';
const LOCALES = ['nb', 'nn', 'en'] as const;

interface Wire {
  readonly personidentifikator: string;
  readonly status: string;
  readonly reservasjon?: string;
  readonly varslingsstatus?: string;
  readonly spraak?: string;
  readonly kontaktinformasjon?: {
    readonly epostadresse?: string;
    readonly epostadresse_oppdatert?: string;
    readonly epostadresse_sist_verifisert?: string;
    readonly mobiltelefonnummer?: string;
    readonly mobiltelefonnummer_oppdatert?: string;
    readonly mobiltelefonnummer_sist_verifisert?: string;
  };
}

/** The one six-digit code in a message's text. */
function codeIn(text: string): string {
  const codes = text.match(/\b\d{6}\b/g) ?? [];
  assert.equal(codes.length, 1, 'the message holds one six-digit code');
  return codes[0];
}

const chromiumSkip = chromiumSkipReason('the Min profil browser test');

for (const kind of STORE_KINDS) {
  describe(`Min profil in a browser (${kind})`, { skip: chromiumSkip || (await skipReason(kind)) }, () => {
    let browser: Browser;
    let krr: RunningServer;
    let smtp: TestSmtpServer;
    let sms: TestHttpReceiver;
    let cleanupStore: () => Promise<void>;
    let token: string;
    const pages = new Set<string>();

    /** Where the change feed was read up to. */
    let feedFrom = 0;

    /** What `POST /rest/v2/personer` answers for `pid` (v2 leaves out those it has no entry for). */
    async function answer(pid: string): Promise<Wire[]> {
      const res = await fetch(`${krr.localUrl}/rest/v2/personer`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ personidentifikatorer: [pid] }),
      });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      return (JSON.parse(text) as { personer: Wire[] }).personer;
    }

    async function lookup(pid: string): Promise<Wire> {
      const [person] = await answer(pid);
      assert.equal(person?.personidentifikator, pid);
      return person;
    }

    /** Whether the register answers the identifier. */
    const answered = async (pid: string): Promise<boolean> => (await answer(pid)).length > 0;

    /** The persons in the feed since the last read (each once, at its newest). */
    async function feedSince(): Promise<Wire[]> {
      const res = await fetch(`${krr.localUrl}/rest/v2/krr/hentEndringer`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ fraEndringsId: feedFrom }),
      });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      const body = JSON.parse(text) as { list: Wire[]; tilEndringsId: number };
      feedFrom = body.tilEndringsId;
      return body.list;
    }

    /** The feed has exactly this person since the last read, as the lookup answers it. */
    async function assertFeedShows(person: Wire): Promise<void> {
      const list = await feedSince();
      assert.deepEqual(
        list.map((p) => p.personidentifikator),
        [person.personidentifikator],
      );
      // The feed's object may hold more than the lookup's (the feed's own fields): every field the
      // lookup answers is there with the same value.
      const feed = list[0] as unknown as Record<string, unknown>;
      for (const [name, value] of Object.entries(person)) {
        if (typeof value === 'object' && value !== null) {
          for (const [inner, v] of Object.entries(value as Record<string, unknown>))
            assert.deepEqual(
              (feed[name] as Record<string, unknown> | undefined)?.[inner],
              v,
              `${name}.${inner}`,
            );
        } else assert.deepEqual(feed[name], value, name);
      }
    }

    /** Checks the page (accessibility) and remembers it for the language round. */
    async function visited(page: Page, what: string): Promise<void> {
      await assertAccessible(page, what);
      pages.add(new URL(page.url()).pathname);
    }

    async function signIn(context: BrowserContext, pid: string): Promise<Page> {
      const page = await context.newPage();
      await page.goto(`${krr.localUrl}/minprofil`);
      await page.waitForURL((url) => url.pathname.startsWith('/idporten/'));
      await assertAccessible(page, 'the dev ID-porten sign-in');
      await page.getByLabel(/Fødselsnummer/).fill(pid);
      await page
        .getByRole('button', { name: /Sign in|Logg inn/ })
        .first()
        .click();
      await page
        .waitForURL((url) => url.pathname.startsWith('/minprofil'), { timeout: 15_000 })
        .catch(async (error: unknown) => {
          throw new Error(`still at ${page.url()}: ${await page.locator('body').innerText()}`, {
            cause: error,
          });
        });
      return page;
    }

    before(async () => {
      [smtp, sms] = await Promise.all([startSmtpServer(), startHttpReceiver()]);
      const port = await freePort();
      const store = await freshStoreConfig(kind);
      cleanupStore = store.cleanup;
      if (store.config.kind === 'embedded') await copyEmptyEmbeddedStore(store.config.dataDir);
      const env = {
        KRR_SMTP_URL: smtp.url,
        KRR_SMTP_FROM: 'krr@example.no',
        KRR_SMS_URL: sms.url,
        KRR_SMS_HEADER: 'X-Api-Key: test-key',
      };
      const config = {
        ...loadConfig({ dev: true, host: '127.0.0.1', port, logLevel: 'silent' }, env),
        store: store.config,
      };
      krr = await startServer(config, { demo: true });
      token = await mintDevToken(await devKeyFor(krr.config.store, krr.db), {
        issuer: krr.config.auth.devIssuer,
        scopes: SCOPES,
        consumer: CONSUMER,
        supplier: SUPPLIER,
      });
      await feedSince(); // past the demo persons
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      await krr?.close();
      await Promise.all([smtp?.close(), sms?.close()]);
      await cleanupStore?.();
    });

    it(
      'a person with an entry changes, confirms, reserves, lifts and sets the language',
      { timeout: 180_000 },
      async () => {
        const demo = demoPersons(Date.now())[0]!;
        const pid = demo.person.personidentifikator;
        const context = await newUserContext(browser);
        const page = await signIn(context, pid);
        assert.equal(new URL(page.url()).pathname, '/minprofil');
        await visited(page, 'the overview');
        await page.getByRole('heading', { name: 'E-postadresse' }).waitFor();
        assert.ok(await page.getByText(demo.person.kontaktinformasjon!.epostadresse!).isVisible());

        // An agency looks the person up: the lookup shows under "Hvem har slått meg opp".
        const before = await lookup(pid);
        assert.equal(before.kontaktinformasjon?.epostadresse, demo.person.kontaktinformasjon!.epostadresse);

        // The e-mail: a new value, the code from the SMTP server, saved with both stamps.
        const newEmail = 'ny.adresse@example.org';
        await page.locator('a[href="/minprofil/epost"]').first().click();
        await visited(page, 'the e-mail page');
        await page.getByLabel('E-postadresse', { exact: false }).fill(newEmail);
        await page.getByRole('button', { name: /Lagre/ }).click();
        const mail = await smtp.nextTo(newEmail);
        assert.equal(mail.from, 'krr@example.no');
        await page.getByLabel('Engangskode').waitFor();
        await visited(page, 'the code page');
        // A wrong code first: refused, with the tries left; nothing saved.
        const code = codeIn(mail.text);
        await page.getByLabel('Engangskode').fill(code === '000000' ? '111111' : '000000');
        await page.getByRole('button', { name: /Bekreft/ }).click();
        await page.getByText(/forsøk igjen/).waitFor();
        await visited(page, 'the code page with an error');
        assert.equal(
          (await lookup(pid)).kontaktinformasjon?.epostadresse,
          before.kontaktinformasjon?.epostadresse,
        );
        await page.getByLabel('Engangskode').fill(code);
        await page.getByRole('button', { name: /Bekreft/ }).click();
        await page.getByText('E-postadressen er lagret.').waitFor();
        await visited(page, 'the overview after saving');
        const afterEmail = await lookup(pid);
        const k = afterEmail.kontaktinformasjon!;
        assert.equal(k.epostadresse, newEmail);
        assert.ok(k.epostadresse_oppdatert && k.epostadresse_sist_verifisert);
        assert.equal(k.epostadresse_oppdatert, k.epostadresse_sist_verifisert);
        assert.ok(k.epostadresse_oppdatert > before.kontaktinformasjon!.epostadresse_oppdatert!);
        await assertFeedShows(afterEmail);

        // The mobile: the code from the SMS gateway, with the configured header.
        const newMobile = '+4791234567';
        await page.locator('a[href="/minprofil/mobil"]').first().click();
        await visited(page, 'the mobile page');
        await page.getByLabel('Mobiltelefonnummer').fill(newMobile);
        await page.getByRole('button', { name: /Lagre/ }).click();
        const sent = await sms.next((p) => (p.body as { to?: string } | undefined)?.to === newMobile);
        assert.equal(sent.headers['x-api-key'], 'test-key');
        await page.getByLabel('Engangskode').fill(codeIn((sent.body as { text: string }).text));
        await page.getByRole('button', { name: /Bekreft/ }).click();
        await page.getByText('Mobiltelefonnummeret er lagret.').waitFor();
        const afterMobile = await lookup(pid);
        assert.equal(afterMobile.kontaktinformasjon?.mobiltelefonnummer, newMobile);
        await assertFeedShows(afterMobile);

        // Confirm: both channels' _sist_verifisert now, _oppdatert unchanged.
        await page.getByRole('button', { name: /Bekreft at opplysningene er riktige/ }).click();
        await page.getByText('Takk! Opplysningene er bekreftet.').waitFor();
        const confirmed = await lookup(pid);
        assert.equal(confirmed.kontaktinformasjon?.epostadresse_oppdatert, k.epostadresse_oppdatert);
        assert.ok(
          confirmed.kontaktinformasjon.epostadresse_sist_verifisert! >= k.epostadresse_sist_verifisert,
        );
        await assertFeedShows(confirmed);

        // Reserve (after the step that says what it means), then lift.
        await page.goto(`${krr.localUrl}/minprofil/reservasjon`);
        await visited(page, 'the reservation page');
        await page.getByRole('button', { name: /Reserver meg/ }).click();
        await page.getByText('Du er reservert mot digital kommunikasjon.').first().waitFor();
        const reserved = await lookup(pid);
        assert.equal(reserved.reservasjon, 'JA');
        await assertFeedShows(reserved);
        await page.goto(`${krr.localUrl}/minprofil/reservasjon`);
        await visited(page, 'the reservation page when reserved');
        await page.getByRole('button', { name: /Opphev reservasjonen/ }).click();
        await page.getByText('Reservasjonen er opphevet.').waitFor();
        const lifted = await lookup(pid);
        assert.equal(lifted.reservasjon, 'NEI');
        await assertFeedShows(lifted);

        // The language.
        await page.goto(`${krr.localUrl}/minprofil/spraak`);
        await visited(page, 'the language page');
        await page.getByLabel('Språk', { exact: true }).selectOption('en');
        await page.getByRole('button', { name: /Lagre/ }).click();
        await page.getByText('Språket er lagret.').waitFor();
        const english = await lookup(pid);
        assert.equal(english.spraak, 'en');
        await assertFeedShows(english);

        // "Hvem har slått meg opp": the agency's lookups, with its organisation numbers.
        await page.goto(`${krr.localUrl}/minprofil/oppslag`);
        await page.getByRole('heading', { name: /Hvem har slått meg opp/ }).waitFor();
        await visited(page, 'the lookups page');
        const table = page.getByRole('table');
        if (!(await table.count())) assert.fail(`no table: ${await page.locator('main').innerText()}`);
        assert.match((await table.textContent()) ?? '', new RegExp(CONSUMER));
        assert.match((await table.textContent()) ?? '', new RegExp(SUPPLIER));
        assert.match((await table.textContent()) ?? '', /Oppslag/);
        assert.match((await table.textContent()) ?? '', /Endringsliste/);

        // The dev inbox lists the messages (here they went to SMTP and SMS, so it shows none of them).
        await page.goto(`${krr.localUrl}/dev/innboks`);
        await visited(page, 'the dev inbox');

        // Logging out ends the session: the pages ask for a sign-in again.
        await page.goto(`${krr.localUrl}/minprofil`);
        await page.getByRole('button', { name: /Logg ut/ }).click();
        await page.waitForURL((url) => url.pathname.startsWith('/minprofil'));
        await visited(page, 'the logged-out page');
        await page.goto(`${krr.localUrl}/minprofil`);
        await page.waitForURL((url) => url.pathname.startsWith('/idporten/'));
        await context.close();
      },
    );

    it('a person without an entry registers and becomes AKTIV', { timeout: 120_000 }, async () => {
      const pid = makeIdentifier({ day: 14, month: 2, year: 91, synthetic: 'tenor' }, 432);
      const context = await newUserContext(browser);
      const page = await signIn(context, pid);
      await visited(page, 'the page of a person without an entry');
      assert.equal(await answered(pid), false);
      await page.getByRole('button', { name: /Registrer meg/ }).click();
      await page.getByText('Du er registrert i Kontakt- og reservasjonsregisteret.').waitFor();
      const registered = await lookup(pid);
      assert.equal(registered.status, 'AKTIV');
      assert.equal(registered.reservasjon, 'NEI');
      const list = await feedSince();
      assert.deepEqual(
        list.map((p) => p.personidentifikator),
        [pid],
      );
      await context.close();
    });

    it(
      'an agency sign-in of a person not confirmed for 90 days stops at the confirm step, then goes on',
      { timeout: 120_000 },
      async () => {
        // The demo person whose contact data is three years old: due for the step.
        const demo = demoPersons(Date.now())[2]!;
        const pid = demo.person.personidentifikator;
        const before = await lookup(pid);
        assert.equal(before.varslingsstatus, 'KAN_IKKE_VARSLES');
        const agency = createServer((_req, res) => {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end(
            '<!DOCTYPE html><html lang="nb"><title>Etaten</title><main><h1>Tilbake hos etaten</h1></main></html>',
          );
        });
        await new Promise<void>((resolve) => agency.listen(0, '127.0.0.1', resolve));
        const callback = `http://127.0.0.1:${(agency.address() as AddressInfo).port}/callback`;
        try {
          const authorize = new URL(`${krr.localUrl}/idporten/authorize`);
          for (const [name, value] of Object.entries({
            response_type: 'code',
            client_id: 'etaten',
            redirect_uri: callback,
            scope: 'openid',
            state: 'etatens-state',
            nonce: 'etatens-nonce',
            code_challenge: createHash('sha256').update('a'.repeat(43)).digest('base64url'),
            code_challenge_method: 'S256',
          })) {
            authorize.searchParams.set(name, value);
          }
          const context = await newUserContext(browser);
          const page = await context.newPage();
          await page.goto(authorize.toString());
          await page.getByLabel(/Fødselsnummer/).fill(pid);
          await page
            .getByRole('button', { name: /Sign in|Logg inn/ })
            .first()
            .click();
          await page.getByRole('button', { name: 'Bekreft', exact: true }).waitFor();
          assert.ok(await page.getByText(demo.person.kontaktinformasjon!.epostadresse!).isVisible());
          await assertAccessible(page, 'the confirm step');
          if (kind === 'embedded') await screenshot(page, 'nb-idporten-confirm');
          await page.getByRole('button', { name: 'Bekreft', exact: true }).click();
          await page.waitForURL((url) => url.toString().startsWith(callback));
          const back = new URL(page.url());
          assert.equal(back.searchParams.get('state'), 'etatens-state');
          assert.ok(back.searchParams.get('code'));
          await context.close();
        } finally {
          await new Promise<void>((resolve) => agency.close(() => resolve()));
        }
        // Confirming stamped both channels now: the person can be notified again, and the feed says so.
        const after = await lookup(pid);
        assert.equal(after.varslingsstatus, 'KAN_VARSLES');
        assert.ok(
          after.kontaktinformasjon!.epostadresse_sist_verifisert! >
            before.kontaktinformasjon!.epostadresse_sist_verifisert!,
        );
        assert.equal(
          after.kontaktinformasjon!.epostadresse_oppdatert,
          before.kontaktinformasjon!.epostadresse_oppdatert,
        );
        await assertFeedShows(after);
      },
    );

    it(
      'every page visited passes axe in nb, nn and en, and is photographed',
      { timeout: 180_000 },
      async () => {
        assert.ok(pages.size >= 6, `pages visited: ${[...pages].join(', ')}`);
        const demo = demoPersons(Date.now())[1]!;
        const context = await newUserContext(browser);
        const page = await signIn(context, demo.person.personidentifikator);
        for (const locale of LOCALES) {
          for (const path of [...pages].sort()) {
            await page.goto(`${krr.localUrl}${path}?locale=${locale}`);
            assert.equal(await page.locator('html').getAttribute('lang'), locale, path);
            await assertAccessible(page, `${path} in ${locale}`);
            if (kind === 'embedded') await screenshot(page, `${locale}${path}`);
          }
        }
        await context.close();
      },
    );
  });
}

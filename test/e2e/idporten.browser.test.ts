// The ID-porten-like sign-in driven in a real headless browser (Debian's Chromium through
// playwright-core, no browser download), against a real listening `krr serve --dev` with the demo
// persons on a fresh store, and a small local client that receives the redirect: pick a person,
// get the code, exchange it (PKCE), then GET /rest/v1/person with the access token.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startServer } from '../../src/cli/serve.command.js';
import type { RunningServer } from '../../src/cli/serve.command.js';
import { loadConfig } from '../../src/config/config.js';
import { demoPersons } from '../../src/demo/demo-data.js';
import { LOCALES } from '../../src/idporten/i18n/i18n.js';
import { makeIdentifier } from '../../src/identifier/identifier.generate.js';
import {
  assertAccessible,
  chromiumSkipReason,
  launchChromium,
  newUserContext,
  screenshot,
} from '../support/browser.js';
import { copyEmptyEmbeddedStore, freshStoreConfig, skipReason, STORE_KINDS } from '../support/stores.js';

const CLIENT = 'browser-test-client';
const SCOPE = 'openid krr:user/kontaktinformasjon.read krr:user/digitalpost.read';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The client's redirect target: records what it is sent and shows a page. */
async function startClient(): Promise<{ server: Server; base: string; received: URL[] }> {
  const received: URL[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    received.push(url);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!DOCTYPE html><title>Client</title><h1>Back at the client</h1>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, base, received };
}

const chromiumSkip = chromiumSkipReason('the browser sign-in test');

for (const kind of STORE_KINDS) {
  describe(
    `sign-in in a headless browser (${kind})`,
    { skip: chromiumSkip || (await skipReason(kind)) },
    () => {
      let browser: Browser;
      let krr: RunningServer;
      let cleanupStore: () => Promise<void>;
      let client: Awaited<ReturnType<typeof startClient>>;

      before(async () => {
        const port = await freePort();
        const store = await freshStoreConfig(kind);
        cleanupStore = store.cleanup;
        // An empty store, copied rather than made by the server (see copyEmptyEmbeddedStore).
        if (store.config.kind === 'embedded') await copyEmptyEmbeddedStore(store.config.dataDir);
        const config = {
          ...loadConfig({ dev: true, host: '127.0.0.1', port, logLevel: 'silent' }, {}),
          store: store.config,
        };
        krr = await startServer(config, { demo: true });
        client = await startClient();
        browser = await launchChromium();
      });
      after(async () => {
        await browser?.close();
        if (client) await new Promise<void>((resolve) => client.server.close(() => resolve()));
        await krr?.close();
        await cleanupStore?.();
      });

      it(
        'picks a demo person, is redirected with a code, and reads the person with the token',
        { timeout: 120_000 },
        async () => {
          const demo = demoPersons(Date.now())[0]!;
          const pid = demo.person.personidentifikator;
          const verifier = randomBytes(32).toString('base64url');
          const redirectUri = `${client.base}/callback`;
          const authorize = new URL(`${krr.url}/idporten/authorize`);
          for (const [name, value] of Object.entries({
            response_type: 'code',
            client_id: CLIENT,
            redirect_uri: redirectUri,
            scope: SCOPE,
            state: 'browser-state',
            nonce: 'browser-nonce',
            code_challenge: createHash('sha256').update(verifier).digest('base64url'),
            code_challenge_method: 'S256',
          })) {
            authorize.searchParams.set(name, value);
          }

          const page = await browser.newPage();
          await page.goto(authorize.toString());
          assert.equal(await page.title(), 'Sign in (krr test ID-porten)');

          // A typed identifier that is not valid: the page says so, and stays.
          await page.getByLabel('Fødselsnummer or D-nummer (11 digits)').fill('12345678901');
          await page.getByRole('button', { name: 'Sign in', exact: true }).click();
          assert.match((await page.getByRole('alert').textContent()) ?? '', /Not a valid identifier/);
          assert.ok(page.url().startsWith(`${krr.url}/idporten/authorize`));

          // Pick the demo person: the browser follows the redirect to the client.
          await page.getByRole('button', { name: new RegExp(`^${pid}: `) }).click();
          await page.waitForURL((url) => url.toString().startsWith(redirectUri));
          assert.equal(await page.locator('h1').textContent(), 'Back at the client');
          const back = new URL(page.url());
          assert.equal(back.searchParams.get('state'), 'browser-state');
          assert.equal(back.searchParams.get('iss'), `${krr.url}/idporten`);
          const code = back.searchParams.get('code');
          assert.ok(code);
          assert.equal(
            client.received.find((u) => u.pathname === '/callback')?.searchParams.get('code'),
            code,
            'the client received the code',
          );
          await page.close();

          const tokenRes = await fetch(`${krr.url}/idporten/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
            body: new URLSearchParams({
              grant_type: 'authorization_code',
              code,
              redirect_uri: redirectUri,
              code_verifier: verifier,
              client_id: CLIENT,
            }),
          });
          const tokenText = await tokenRes.text();
          assert.equal(tokenRes.status, 200, tokenText);
          const tokens = JSON.parse(tokenText) as { access_token: string; token_type: string; scope: string };
          assert.equal(tokens.token_type, 'Bearer');
          assert.equal(tokens.scope, SCOPE);

          const me = await fetch(`${krr.url}/rest/v1/person`, {
            headers: { authorization: `Bearer ${tokens.access_token}` },
          });
          const meText = await me.text();
          assert.equal(me.status, 200, meText);
          const person = JSON.parse(meText) as Record<string, unknown>;
          assert.equal(person.personidentifikator, pid);
          assert.equal(person.status, 'AKTIV');
          assert.deepEqual(person.digital_post, {
            postkasseadresse: demo.person.digital_post!.postkasseadresse,
            postkasseleverandoeradresse: demo.person.digital_post!.postkasseleverandoeradresse,
          });
          assert.equal(
            (person.kontaktinformasjon as Record<string, unknown>).epostadresse,
            demo.person.kontaktinformasjon!.epostadresse,
          );
          assert.equal(person.spraak, demo.person.spraak);
        },
      );

      /** An authorization request to the test client, in `locale` (ui_locales). */
      function authorizeIn(locale: string, state = 'pages-state'): string {
        const authorize = new URL(`${krr.url}/idporten/authorize`);
        for (const [name, value] of Object.entries({
          response_type: 'code',
          client_id: CLIENT,
          redirect_uri: `${client.base}/callback`,
          scope: SCOPE,
          state,
          code_challenge: createHash('sha256')
            .update(randomBytes(32).toString('base64url'))
            .digest('base64url'),
          code_challenge_method: 'S256',
          ui_locales: locale,
        })) {
          authorize.searchParams.set(name, value);
        }
        return authorize.toString();
      }

      /** The page's stylesheets, each with its number of rules (0: not loaded or blocked). */
      const stylesheetRules = (page: Page) =>
        page.evaluate(() => {
          const doc = (globalThis as unknown as { document: { styleSheets: ArrayLike<unknown> } }).document;
          return Array.from(doc.styleSheets as ArrayLike<{ href: string; cssRules: ArrayLike<unknown> }>).map(
            (sheet) => ({ href: new URL(sheet.href).pathname, rules: sheet.cssRules.length }),
          );
        });

      it(
        'loads its stylesheets under its own Content-Security-Policy, with nothing refused',
        { timeout: 120_000 },
        async () => {
          // No bypassCSP here: the page's own header applies.
          const context = await browser.newContext({ locale: 'nb-NO' });
          const page = await context.newPage();
          const refused: string[] = [];
          page.on('console', (message) => {
            if (/Content Security Policy|Refused to/i.test(message.text())) refused.push(message.text());
          });
          page.on('requestfailed', (request) => refused.push(`failed: ${request.url()}`));
          const answer = await page.goto(authorizeIn('nb'));
          assert.equal(answer?.status(), 200);
          assert.match(answer?.headers()['content-security-policy'] ?? '', /style-src 'self'/);
          const sheets = await stylesheetRules(page);
          assert.deepEqual(
            sheets.map((s) => s.href),
            [
              '/idporten/assets/designsystemet.css',
              '/idporten/assets/index.css',
              '/idporten/assets/idporten.css',
            ],
          );
          for (const sheet of sheets) assert.ok(sheet.rules > 0, `${sheet.href} is loaded`);
          // Designsystemet's button, not the browser's: its tokens and its component rules apply.
          const radius = await page
            .getByRole('button', { name: 'Logg inn', exact: true })
            .evaluate(
              (el) =>
                (
                  globalThis as unknown as { getComputedStyle: (e: unknown) => { borderRadius: string } }
                ).getComputedStyle(el).borderRadius,
            );
          assert.notEqual(radius, '0px');
          assert.deepEqual(refused, []);
          await context.close();
        },
      );

      it(
        'every page passes axe in nb, nn and en (ui_locales), and is photographed',
        { timeout: 240_000 },
        async () => {
          // The demo person whose contact data is three years old: due for the confirm step.
          const due = demoPersons(Date.now())[2]!.person.personidentifikator;
          // A valid identifier the register does not know: the create page.
          const unknown = makeIdentifier({ day: 9, month: 9, year: 99 }, 123);
          const shoot = async (page: Page, name: string) => {
            await assertAccessible(page, name);
            if (kind === 'embedded') await screenshot(page, name);
          };
          for (const locale of LOCALES) {
            const context = await newUserContext(browser, 'en-GB');
            const page = await context.newPage();
            await page.goto(authorizeIn(locale));
            assert.equal(await page.locator('html').getAttribute('lang'), locale);
            await shoot(page, `${locale}-idporten-sign-in`);

            // A wrong identifier: the page again, the problem at the field.
            await page.locator('#pid').fill('12345678901');
            await page.locator('#pid').press('Enter');
            await page.getByRole('alert').waitFor();
            assert.equal(await page.locator('#pid').getAttribute('aria-invalid'), 'true');
            await shoot(page, `${locale}-idporten-sign-in-invalid`);

            // The confirm step, in the request's language; cancelled, so it stays due.
            await page.locator('#pid').fill(due);
            await page.locator('#pid').press('Enter');
            await page.locator('button[value="confirm"]').waitFor();
            assert.equal(await page.locator('html').getAttribute('lang'), locale);
            await shoot(page, `${locale}-idporten-confirm`);
            await page.locator('button[value="cancel"]').click();
            await page.waitForURL((url) => url.searchParams.get('error') === 'access_denied');

            // The create page of a person the register does not know.
            await page.goto(authorizeIn(locale));
            await page.locator('#pid').fill(unknown);
            await page.locator('#pid').press('Enter');
            await page.locator('button[value="continue"]').waitFor();
            await shoot(page, `${locale}-idporten-create`);

            // The error page of a request that cannot start.
            const refused = await page.goto(`${krr.url}/idporten/authorize?client_id=x&ui_locales=${locale}`);
            assert.equal(refused?.status(), 400);
            assert.equal(await page.locator('html').getAttribute('lang'), locale);
            await shoot(page, `${locale}-idporten-error`);
            await context.close();
          }
        },
      );
    },
  );
}

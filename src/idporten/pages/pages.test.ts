// Every page of the dev ID-porten (docs/tokens.md#sign-in-pages), in every language, is valid HTML
// (html-validate's recommended and document rules), has no script and no inline style, links only
// its own stylesheets, and escapes what it shows: hostile values in every field that comes from a
// request or the register.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HtmlValidate } from 'html-validate';
import { h } from 'preact';
import type { IdentifierProblem } from '../../identifier/identifier.js';
import { renderPage } from '../../minprofil/pages/layout.js';
import { LOCALES, Texts } from '../i18n/i18n.js';
import type { AuthorizationRequest, PageProblem } from '../idporten.service.js';
import { STYLESHEETS } from './layout.js';
import { ConfirmPage, ErrorPage, SignInPage } from './pages.js';

const HOSTILE = `"><script>alert('x')</script>&'"`;

const request: AuthorizationRequest = {
  clientId: `client${HOSTILE}`,
  redirectUri: `https://client.example/cb?x=${HOSTILE}`,
  scopes: ['openid', `krr:user/x${HOSTILE}`],
  state: `state${HOSTILE}`,
  nonce: `nonce${HOSTILE}`,
  codeChallenge: 'c'.repeat(43),
  acr: 'idporten-loa-substantial',
  uiLocale: undefined,
};

const PAGE_PROBLEMS: readonly PageProblem[] = [
  'no-client',
  'no-redirect-uri',
  'bad-redirect-uri',
  'unregistered-redirect-uri',
];
const IDENTIFIER_PROBLEMS: readonly IdentifierProblem[] = [
  'FORMAT',
  'CHECK_DIGIT',
  'DATE',
  'SYNTHETIC_NOT_ALLOWED',
];

function pages(texts: Texts): Record<string, string> {
  const signIn = {
    texts,
    formAction: '/idporten/authorize',
    requestId: `req${HOSTILE}`,
    request,
    persons: [
      { pid: '01017012345', label: `Kari${HOSTILE}` },
      { pid: '02017012345', label: 'Ola' },
    ],
  };
  const confirm = {
    texts,
    formAction: '/idporten/confirm',
    confirmId: `cid${HOSTILE}`,
    changeUrl: `http://127.0.0.1:8080/minprofil?gotoUrl=${encodeURIComponent('http://x/?a=1&b=2')}&h=${HOSTILE}`,
  };
  return {
    signIn: renderPage(h(SignInPage, signIn)),
    noPersons: renderPage(h(SignInPage, { ...signIn, persons: [] })),
    ...Object.fromEntries(
      IDENTIFIER_PROBLEMS.map((problem) => [
        `signIn ${problem}`,
        renderPage(h(SignInPage, { ...signIn, problem, typed: HOSTILE.slice(0, 11) })),
      ]),
    ),
    ...Object.fromEntries(
      [...PAGE_PROBLEMS, 'expired' as const].map((problem) => [
        `error ${problem}`,
        renderPage(h(ErrorPage, { texts, problem })),
      ]),
    ),
    confirm: renderPage(
      h(ConfirmPage, {
        ...confirm,
        view: { registered: true, epost: `kari${HOSTILE}@example.no`, mobil: `+47${HOSTILE}` },
      }),
    ),
    confirmEpostOnly: renderPage(
      h(ConfirmPage, { ...confirm, view: { registered: true, epost: 'kari@example.no', mobil: undefined } }),
    ),
    confirmMobilOnly: renderPage(
      h(ConfirmPage, { ...confirm, view: { registered: true, epost: undefined, mobil: '+4799999999' } }),
    ),
    createRegistered: renderPage(
      h(ConfirmPage, { ...confirm, view: { registered: true, epost: undefined, mobil: undefined } }),
    ),
    createUnregistered: renderPage(
      h(ConfirmPage, { ...confirm, view: { registered: false, epost: undefined, mobil: undefined } }),
    ),
  };
}

describe('the dev ID-porten pages', () => {
  const validator = new HtmlValidate({
    extends: ['html-validate:recommended', 'html-validate:document'],
    rules: {
      // Style, not validity: preact's renderer writes void elements self-closed (`<meta/>`).
      'void-style': 'off',
      // The stylesheets come from the page's own origin; SRI guards other hosts' files.
      'require-sri': 'off',
      // A raw ">" in text is valid HTML; the renderer escapes what must be ("<", "&", quotes in
      // attributes), which the test checks itself below.
      'no-raw-characters': 'off',
    },
  });
  for (const locale of LOCALES) {
    const texts = new Texts(locale);
    for (const [name, html] of Object.entries(pages(texts))) {
      it(`${name} (${locale}) is valid HTML without script or inline style, and escapes values`, async () => {
        const report = await validator.validateString(html);
        const problems = report.results.flatMap((r) => r.messages.map((m) => `${m.ruleId}: ${m.message}`));
        assert.deepEqual(problems, [], html);
        assert.match(html, new RegExp(`^<!DOCTYPE html><html lang="${locale}"`));
        assert.doesNotMatch(html, /<script|<style|\sstyle=|\son[a-z]+=|javascript:/i);
        assert.ok(!html.includes(HOSTILE));
        assert.ok(!html.includes('<script>alert'));
        // Nothing from another host: the only stylesheets are the stand-in's own.
        const links = [...html.matchAll(/<link rel="stylesheet" href="([^"]+)"/g)].map((m) => m[1]);
        assert.deepEqual(links, STYLESHEETS);
        assert.doesNotMatch(html, /(?:src|href)="(?:https?:)?\/\/(?!127\.0\.0\.1:8080\/minprofil\?)/);
        // No text of another language's catalogue key leaks in as a raw key.
        assert.doesNotMatch(html, />(?:signIn|confirm|error|identifier|layout)\.[\w-]+</);
      });
    }
  }

  it('shows the hostile values escaped, as text, where they belong', () => {
    const html = pages(new Texts('en'));
    const escaped = `&quot;>&lt;script>alert('x')&lt;/script>&amp;'&quot;`;
    assert.ok(html.signIn!.includes(`<code>client${escaped}</code>`), 'the client_id');
    assert.ok(html.signIn!.includes(`krr:user/x${escaped}</code>`), 'a scope');
    assert.ok(html.signIn!.includes(`value="req${escaped}"`), 'the request id, in an attribute');
    assert.ok(html.signIn!.includes(`Kari${escaped}</button>`), 'a person’s label');
    assert.ok(!html.signIn!.includes('state"><'), 'the state is not shown');
    assert.ok(html['signIn CHECK_DIGIT']!.includes(`value="&quot;>&lt;script>a"`), 'the typed identifier');
    assert.ok(html.confirm!.includes(`<dd>kari${escaped}@example.no</dd>`), 'the e-mail address');
    assert.ok(html.confirm!.includes(`value="cid${escaped}"`), 'the step id');
    assert.ok(html.confirm!.includes(`&amp;h=${escaped}"`), 'the link to Min profil');
  });

  it('ties the typed identifier’s problem to the field, and shows it as an alert', () => {
    const html = pages(new Texts('en'))['signIn FORMAT']!;
    assert.match(html, / id="pid" name="pid" .* aria-invalid="true" aria-describedby="pid-error"\/>/);
    assert.match(
      html,
      /<p [^>]*id="pid-error" role="alert">Not a valid identifier: it must be exactly 11 digits\.<\/p>/,
    );
    assert.doesNotMatch(pages(new Texts('en')).signIn!, /aria-invalid|role="alert"/);
  });

  it('keeps the confirm step’s bokmål texts and its forms', () => {
    const html = pages(new Texts('nb'));
    assert.match(html.confirm!, /<title>Bekreft kontaktinformasjon \(krr test ID-porten\)<\/title>/);
    assert.match(html.confirm!, /<button type="submit" name="action" value="confirm"[^>]*>Bekreft<\/button>/);
    assert.match(html.confirm!, /<button type="submit" name="action" value="cancel"[^>]*>Avbryt<\/button>/);
    assert.ok(!html.confirm!.includes('value="continue"'), 'data to confirm: no going on without');
    assert.match(html.confirmEpostOnly!, /Du har ikke registrert mobilnummer/);
    assert.match(html.confirmMobilOnly!, /Du har ikke registrert e-postadresse\./);
    assert.match(html.createUnregistered!, /Registrer deg i Min profil/);
    assert.match(html.createRegistered!, /Legg inn kontaktopplysninger i Min profil/);
    assert.match(
      html.createRegistered!,
      /<button type="submit" name="action" value="continue"[^>]*>Fortsett<\/button>/,
    );
    assert.ok(!html.createRegistered!.includes('value="confirm"'), 'nothing to confirm');
  });

  it('speaks the page’s language', () => {
    assert.match(pages(new Texts('nn')).confirm!, />Stadfest<\/button>/);
    assert.match(pages(new Texts('en')).confirm!, />Confirm<\/button>/);
    assert.match(pages(new Texts('nb')).signIn!, />Logg inn<\/button>/);
    assert.match(pages(new Texts('nn'))['error expired']!, /Denne innlogginga har gått ut/);
  });
});

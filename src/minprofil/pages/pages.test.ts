// Every page, in every language, is valid HTML (html-validate's recommended rules and its
// document rules), has no script or inline style, and escapes what it shows.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HtmlValidate } from 'html-validate';
import { h } from 'preact';
import type { ProfileEntry } from '../../profile/profile.js';
import { Texts } from '../i18n/i18n.js';
import { LOCALES } from '../i18n/messages.js';
import { renderPage } from './layout.js';
import {
  ChannelPage,
  CodePage,
  InboxPage,
  LanguagePage,
  LookupsPage,
  MessagePage,
  OverviewPage,
  RegisterPage,
  ReservationPage,
} from './pages.js';

const NOW = Date.UTC(2026, 11, 4, 12);
const HOSTILE = '<script>alert("x")</script>&\'"';

const entry: ProfileEntry = {
  registered: true,
  status: 'AKTIV',
  epost: { value: `kari${HOSTILE}@example.no`, oppdatert: NOW - 86_400_000, sistVerifisert: NOW },
  mobil: { value: '+4799999999', oppdatert: NOW, sistVerifisert: undefined },
  reservasjon: 'NEI',
  reservasjonstidspunkt: undefined,
  spraak: 'nn',
  spraakOppdatert: NOW,
  digitalPost: {
    postkasseadresse: 'kari#1234',
    leverandoerAdresse: '984661185',
    leverandoerNavn: `Digipost${HOSTILE}`,
  },
  kanVarsles: true,
  kanVarslesTil: NOW + 500 * 86_400_000,
  sistBekreftet: NOW,
  pending: [{ channel: 'epost', value: 'ny@example.no', expiresAt: NOW + 600_000, triesLeft: 5 }],
};

function pages(texts: Texts) {
  const ctx = { texts, csrf: 'token-123' };
  return {
    overview: renderPage(h(OverviewPage, { ctx, entry, saved: 'epost' })),
    overviewProblem: renderPage(
      h(OverviewPage, {
        ctx,
        entry: {
          ...entry,
          reservasjon: 'JA',
          reservasjonstidspunkt: NOW,
          kanVarsles: false,
          kanVarslesTil: undefined,
          digitalPost: undefined,
        },
        problem: 'x',
      }),
    ),
    register: renderPage(h(RegisterPage, { ctx })),
    channel: renderPage(
      h(ChannelPage, { ctx, channel: 'epost', current: entry.epost, error: 'bad', typed: HOSTILE }),
    ),
    channelNew: renderPage(
      h(ChannelPage, { ctx, channel: 'mobil', current: undefined, problem: 'too many' }),
    ),
    code: renderPage(h(CodePage, { ctx, channel: 'epost', pending: entry.pending[0]!, error: 'wrong' })),
    reservation: renderPage(h(ReservationPage, { ctx, entry })),
    reserved: renderPage(h(ReservationPage, { ctx, entry: { ...entry, reservasjon: 'JA' } })),
    language: renderPage(h(LanguagePage, { ctx, current: 'nn', error: 'bad' })),
    lookups: renderPage(
      h(LookupsPage, {
        ctx,
        page: 2,
        history: {
          records: [
            { at: NOW, service: 'oppslag', consumer: '991825827', supplier: undefined },
            { at: NOW - 1000, service: 'person', consumer: undefined, supplier: '987654321' },
          ],
          more: true,
        },
      }),
    ),
    lookupsNone: renderPage(h(LookupsPage, { ctx, page: 1, history: { records: [], more: false } })),
    inbox: renderPage(
      h(InboxPage, {
        texts,
        messages: [
          {
            at: new Date(NOW),
            recipient: HOSTILE,
            channel: 'sms',
            subject: '',
            text: `Kode 123456 ${HOSTILE}`,
          },
        ],
      }),
    ),
    error: renderPage(
      h(MessagePage, { texts, title: 'T', text: HOSTILE, link: { href: '/minprofil', text: 'home' } }),
    ),
  };
}

describe('Min profil pages', () => {
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
    for (const [name, page] of Object.entries(pages(texts))) {
      it(`${name} (${locale}) is valid HTML without script or inline style, and escapes values`, async () => {
        const html = page;
        const report = await validator.validateString(html);
        const problems = report.results.flatMap((r) => r.messages.map((m) => `${m.ruleId}: ${m.message}`));
        assert.deepEqual(problems, [], html);
        assert.match(html, new RegExp(`^<!DOCTYPE html><html lang="${locale}"`));
        assert.doesNotMatch(html, /<script|<style|\sstyle=|\son[a-z]+=/i);
        assert.ok(!html.includes(HOSTILE));
        assert.ok(!html.includes('<script>alert'));
        if (locale === 'nb') {
          // getByLabel matches names by substring: only the fields' own labels may name them.
          for (const attr of html.matchAll(/aria-label(?:ledby)?="([^"]*)"/g))
            assert.doesNotMatch(attr[1]!, /e-postadresse|mobiltelefonnummer|engangskode|språk/i, attr[0]);
          for (const name of ['E-postadresse', 'Mobiltelefonnummer', 'Engangskode', 'Språk'])
            assert.ok(
              [...html.matchAll(/<label[^>]*>([^<]*)<\/label>/g)].filter((l) =>
                l[1]!.toLowerCase().includes(name.toLowerCase()),
              ).length <= 1,
              name,
            );
        }
      });
    }
  }
});

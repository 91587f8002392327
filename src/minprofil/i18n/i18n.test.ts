// The catalogues: every language has every key with a text, the same placeholders as bokmål, and a
// text for every ProfileError problem; the page's language follows ?locale, the cookie, then
// Accept-Language.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROFILE_PROBLEMS } from '../../profile/profile.js';
import { CATALOGUES, chooseLocale, localeFromAcceptLanguage, Texts } from './i18n.js';
import { LOCALES } from './messages.js';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('Min profil catalogues', () => {
  const keys = Object.keys(CATALOGUES.nb).sort();

  it('has the three languages', () => {
    assert.deepEqual([...LOCALES].sort(), ['en', 'nb', 'nn']);
  });

  for (const locale of LOCALES) {
    it(`${locale}: every key, none empty, the same placeholders as bokmål`, () => {
      const catalogue = CATALOGUES[locale] as Record<string, string>;
      assert.deepEqual(Object.keys(catalogue).sort(), keys);
      for (const key of keys) {
        const text = catalogue[key]!;
        assert.equal(typeof text, 'string', key);
        assert.notEqual(text.trim(), '', `${locale} ${key} is empty`);
        assert.deepEqual(
          placeholders(text),
          placeholders(CATALOGUES.nb[key as keyof typeof CATALOGUES.nb]),
          key,
        );
      }
    });

    it(`${locale}: a text for every problem code`, () => {
      const catalogue = CATALOGUES[locale] as Record<string, string>;
      for (const problem of PROFILE_PROBLEMS)
        assert.ok(catalogue[`problem.${problem}`], `${locale} ${problem}`);
    });
  }

  it('keeps the accessible names the browser checks rely on (bokmål)', () => {
    const nb = CATALOGUES.nb;
    assert.equal(nb['channel.epost.label'], 'E-postadresse');
    assert.equal(nb['channel.mobil.label'], 'Mobiltelefonnummer');
    assert.equal(nb['code.label'], 'Engangskode');
    assert.equal(nb['language.label'], 'Språk');
    assert.equal(nb['layout.logout'], 'Logg ut');
    assert.equal(nb['reservation.reserve'], 'Reserver meg');
    assert.equal(nb['reservation.lift'], 'Opphev reservasjonen');
    assert.equal(nb['lookups.title'], 'Hvem har slått meg opp');
    assert.match(nb['language.save'], /Lagre/);
    assert.match(nb['channel.send'], /Lagre/);
    assert.match(nb['overview.confirmButton'], /Bekreft/);
    assert.match(nb['code.submit'], /Bekreft/);
  });

  it('fills values in and writes dates in Europe/Oslo', () => {
    const texts = new Texts('nb');
    assert.equal(texts.t('code.triesLeft', { count: 3 }), 'Du har 3 forsøk igjen.');
    // 23:30 UTC on 31 December is already 1 January in Oslo.
    assert.equal(texts.date(Date.UTC(2025, 11, 31, 23, 30)), '1. januar 2026');
    assert.equal(new Texts('en').date(Date.UTC(2025, 5, 30, 22, 30)), '1 July 2025');
  });
});

describe('the page language', () => {
  it('takes ?locale first and remembers it', () => {
    assert.deepEqual(chooseLocale('en', 'nn', 'nb'), { locale: 'en', remember: true });
  });
  it('then the cookie, then Accept-Language, then bokmål', () => {
    assert.deepEqual(chooseLocale(undefined, 'nn', 'en'), { locale: 'nn', remember: false });
    assert.deepEqual(chooseLocale('xx', 'yy', 'en-GB,en;q=0.8'), { locale: 'en', remember: false });
    assert.deepEqual(chooseLocale(['en', 'nn'], undefined, undefined), { locale: 'nb', remember: false });
  });
  it('reads Accept-Language by q-value, nb-NO and no as bokmål', () => {
    assert.equal(localeFromAcceptLanguage('de, nn;q=0.9, en;q=0.5'), 'nn');
    assert.equal(localeFromAcceptLanguage('en;q=0.4, nb-NO;q=0.6'), 'nb');
    assert.equal(localeFromAcceptLanguage('no'), 'nb');
    assert.equal(localeFromAcceptLanguage('sv, de'), undefined);
    assert.equal(localeFromAcceptLanguage('en;q=0'), undefined);
    assert.equal(localeFromAcceptLanguage(undefined), undefined);
  });
});

// The dev ID-porten's catalogues (docs/tokens.md#sign-in-pages): every language has every key with
// a text and the same placeholders as bokmål; the page's language follows ui_locales, then
// Accept-Language, then the page's default.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CATALOGUES, LOCALES, localeFromUiLocales, pageLocale, Texts } from './i18n.js';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('the dev ID-porten catalogues', () => {
  const keys = Object.keys(CATALOGUES.nb).sort();

  it('has the three languages of Min profil', () => {
    assert.deepEqual(Object.keys(CATALOGUES).sort(), [...LOCALES].sort());
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
  }

  it('keeps the texts the browser tests and Digdir’s module use', () => {
    const { nb, en } = CATALOGUES;
    assert.equal(nb['confirm.confirm'], 'Bekreft');
    assert.equal(nb['confirm.cancel'], 'Avbryt');
    assert.equal(nb['confirm.continue'], 'Fortsett');
    assert.equal(nb['confirm.title'], 'Bekreft kontaktinformasjon (krr test ID-porten)');
    assert.match(nb['signIn.pid'], /^Fødselsnummer/);
    assert.equal(nb['signIn.submit'], 'Logg inn');
    assert.equal(en['signIn.title'], 'Sign in (krr test ID-porten)');
    assert.equal(en['signIn.pid'], 'Fødselsnummer or D-nummer (11 digits)');
    assert.equal(en['signIn.submit'], 'Sign in');
    assert.match(en['signIn.invalid'], /^Not a valid identifier/);
    assert.match(en['error.unregistered-redirect-uri'], /not registered/);
  });

  it('fills values in, and leaves an unknown placeholder as it is', () => {
    assert.equal(
      new Texts('en').t('signIn.invalid', { reason: 'the check digit is wrong' }),
      'Not a valid identifier: the check digit is wrong.',
    );
    assert.equal(
      new Texts('nb').t('signIn.invalid'),
      'Ikke et gyldig fødselsnummer eller D-nummer: {reason}.',
    );
  });
});

describe('the dev ID-porten page language', () => {
  it('takes the first of ours in ui_locales, passing over se and tags it does not know', () => {
    assert.equal(localeFromUiLocales('nn'), 'nn');
    assert.equal(localeFromUiLocales('se en nb'), 'en');
    assert.equal(localeFromUiLocales('de-DE nb-NO'), 'nb');
    assert.equal(localeFromUiLocales('no'), 'nb');
    assert.equal(localeFromUiLocales('EN'), 'en');
    assert.equal(localeFromUiLocales('se'), undefined);
    assert.equal(localeFromUiLocales(''), undefined);
    assert.equal(localeFromUiLocales(['nn']), undefined);
    assert.equal(localeFromUiLocales(undefined), undefined);
    assert.equal(localeFromUiLocales(`${'xx '.repeat(20)}nn`), undefined, 'only the first tags are read');
  });

  it('prefers ui_locales, then Accept-Language, then the page’s default', () => {
    assert.equal(pageLocale('nn', 'en', 'en'), 'nn');
    assert.equal(pageLocale(undefined, 'de, nb-NO;q=0.8', 'en'), 'nb');
    assert.equal(pageLocale(undefined, 'de', 'en'), 'en');
    assert.equal(pageLocale(undefined, undefined, 'nb'), 'nb');
  });
});

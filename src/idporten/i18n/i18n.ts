// The language of the dev ID-porten's pages (docs/tokens.md#sign-in-pages): the authorization
// request's `ui_locales`, as ID-porten takes it, else the browser's Accept-Language, else the page's
// own default. Min profil's languages and its reading of Accept-Language are reused, so both speak
// the same three.

import { localeFromAcceptLanguage } from '../../minprofil/i18n/i18n.js';
import { isLocale, LOCALES } from '../../minprofil/i18n/messages.js';
import type { Locale } from '../../minprofil/i18n/messages.js';
import { en } from './en.js';
import type { MessageKey, Messages } from './messages.js';
import { nb } from './nb.js';
import { nn } from './nn.js';

export const CATALOGUES: Readonly<Record<Locale, Messages>> = { nb, nn, en };

/** At most this many tags of `ui_locales` are looked at. */
const MAX_UI_LOCALES = 10;

/**
 * The first of our languages in `ui_locales` (OpenID Connect Core § 3.1.2.1: space-separated
 * BCP 47 tags in order of preference). ID-porten takes nb, nn, en and se; krr has no Northern Sami
 * texts, so `se` (like any tag it does not know) is passed over for the next. `no` and `nb-NO` are
 * bokmål.
 */
export function localeFromUiLocales(value: unknown): Locale | undefined {
  if (typeof value !== 'string') return undefined;
  for (const tag of value.split(' ').slice(0, MAX_UI_LOCALES)) {
    const primary = tag.toLowerCase().split('-')[0];
    if (primary === 'no') return 'nb';
    if (isLocale(primary)) return primary;
  }
  return undefined;
}

/** The page's language: the request's `ui_locales` choice, else Accept-Language, else `fallback`. */
export function pageLocale(
  uiLocale: Locale | undefined,
  acceptLanguage: string | undefined,
  fallback: Locale,
): Locale {
  return uiLocale ?? localeFromAcceptLanguage(acceptLanguage) ?? fallback;
}

/** The texts of one language, with values put in. */
export class Texts {
  private readonly messages: Messages;

  constructor(readonly locale: Locale) {
    this.messages = CATALOGUES[locale];
  }

  t(key: MessageKey, values: Readonly<Record<string, string>> = {}): string {
    return this.messages[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
      Object.hasOwn(values, name) ? values[name]! : whole,
    );
  }
}

export { LOCALES };
export type { Locale, MessageKey };

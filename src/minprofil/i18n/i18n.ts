// The page's language and its texts: `?locale=nb|nn|en` (remembered in a cookie), else the
// cookie, else the browser's Accept-Language, else bokmål (docs/minprofil.md#pages).

import type { EpochMs } from '../../time/oslo-time.js';
import { en } from './en.js';
import { DEFAULT_LOCALE, isLocale, LOCALES } from './messages.js';
import type { Locale, MessageKey, Messages } from './messages.js';
import { nb } from './nb.js';
import { nn } from './nn.js';

export const CATALOGUES: Readonly<Record<Locale, Messages>> = { nb, nn, en };

/** The language a tag of Accept-Language names, if it is one of ours (`no` and `nb-NO` are bokmål). */
function localeOfTag(tag: string): Locale | undefined {
  const primary = tag.trim().toLowerCase().split('-')[0];
  if (primary === 'no') return 'nb';
  return isLocale(primary) ? primary : undefined;
}

/** The best of our languages for an Accept-Language header, by its q-values (RFC 9110 § 12.5.4). */
export function localeFromAcceptLanguage(header: string | undefined): Locale | undefined {
  if (!header) return undefined;
  let best: { locale: Locale; q: number; at: number } | undefined;
  header
    .split(',')
    .slice(0, 50)
    .forEach((part, at) => {
      const [tag = '', ...params] = part.split(';');
      const locale = localeOfTag(tag);
      if (!locale) return;
      const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const q = qParam === undefined ? 1 : Number(qParam.slice(2));
      if (!Number.isFinite(q) || q <= 0) return;
      if (!best || q > best.q) best = { locale, q, at };
    });
  return best?.locale;
}

export interface LocaleChoice {
  readonly locale: Locale;
  /** A `?locale=` asked for it: remember it in the cookie. */
  readonly remember: boolean;
}

export function chooseLocale(
  query: unknown,
  cookie: string | undefined,
  acceptLanguage: string | undefined,
): LocaleChoice {
  if (isLocale(query)) return { locale: query, remember: true };
  if (isLocale(cookie)) return { locale: cookie, remember: false };
  return { locale: localeFromAcceptLanguage(acceptLanguage) ?? DEFAULT_LOCALE, remember: false };
}

const INTL_LOCALE: Readonly<Record<Locale, string>> = { nb: 'nb-NO', nn: 'nn-NO', en: 'en-GB' };

/** The texts of one language, with values put in and dates written in Europe/Oslo. */
export class Texts {
  private readonly messages: Messages;
  private readonly dates: Intl.DateTimeFormat;
  private readonly times: Intl.DateTimeFormat;

  constructor(readonly locale: Locale) {
    this.messages = CATALOGUES[locale];
    this.dates = new Intl.DateTimeFormat(INTL_LOCALE[locale], { dateStyle: 'long', timeZone: 'Europe/Oslo' });
    this.times = new Intl.DateTimeFormat(INTL_LOCALE[locale], {
      dateStyle: 'short',
      timeStyle: 'short',
      timeZone: 'Europe/Oslo',
    });
  }

  t(key: MessageKey, values: Readonly<Record<string, string | number>> = {}): string {
    return this.messages[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
      Object.hasOwn(values, name) ? String(values[name]) : whole,
    );
  }

  /** A day, as "4. desember 2026" (Europe/Oslo). */
  date(at: EpochMs): string {
    return this.dates.format(at);
  }

  /** A day and time, as "04.12.2026, 15:30" (Europe/Oslo). */
  dateTime(at: EpochMs): string {
    return this.times.format(at);
  }
}

export { LOCALES };
export type { Locale, MessageKey };

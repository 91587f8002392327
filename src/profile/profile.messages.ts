// The one-time code's message in the person's language (docs/minprofil.md#codes). The text holds the
// code and nothing else personal: no name, no identifier, not the address it goes to.

import type { Language } from '../person/person.js';

export type MessageLanguage = 'nb' | 'nn' | 'en';

/** The person's language as the messages have it: bokmål unless they chose nynorsk or English. */
export function messageLanguage(spraak: Language | undefined): MessageLanguage {
  return spraak === 'nn' || spraak === 'en' ? spraak : 'nb';
}

const TEXTS: Readonly<
  Record<MessageLanguage, { subject: string; text: (code: string, minutes: number) => string }>
> = {
  nb: {
    subject: 'Engangskode fra Kontakt- og reservasjonsregisteret',
    text: (code, minutes) =>
      `Engangskoden din er ${code}. Den gjelder i ${minutes} minutter. Har du ikke bedt om den, kan du se bort fra denne meldingen.`,
  },
  nn: {
    subject: 'Eingongskode frå Kontakt- og reservasjonsregisteret',
    text: (code, minutes) =>
      `Eingongskoden din er ${code}. Han gjeld i ${minutes} minutt. Har du ikkje bede om han, kan du sjå bort frå denne meldinga.`,
  },
  en: {
    subject: 'One-time code from the Contact and Reservation Register',
    text: (code, minutes) =>
      `Your one-time code is ${code}. It is valid for ${minutes} minutes. If you did not ask for it, you can ignore this message.`,
  },
};

export function codeMessage(
  language: MessageLanguage,
  code: string,
  ttlMs: number,
): { subject: string; text: string } {
  const t = TEXTS[language];
  return { subject: t.subject, text: t.text(code, Math.round(ttlMs / 60_000)) };
}

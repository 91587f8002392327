// The messages Min profil sends, in the person's language: the one-time code (docs/minprofil.md#codes),
// whose text holds the code and nothing else personal (no name, no identifier, not the address it
// goes to), and the notice of change to an old address or number (docs/jobs.md#notice-of-change),
// whose text holds nothing personal at all: never the new value, which the notice would otherwise
// hand to whoever reads the old address.

import type { Language } from '../person/person.js';
import type { ProfileChannel } from './profile.js';

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

/** What became of the old value: replaced by another, or removed. */
export type ChannelChange = 'changed' | 'removed';

interface NoticeTexts {
  /** The subject (e-mail) and the first sentence (both): what changed. */
  readonly what: Record<ProfileChannel, Record<ChannelChange, string>>;
  /** That the old value gets no more notices. */
  readonly nomore: Record<ProfileChannel, string>;
  /** How to react if it was not them. */
  readonly react: (url: string) => string;
}

const NOTICES: Readonly<Record<MessageLanguage, NoticeTexts>> = {
  nb: {
    what: {
      epost: {
        changed: 'E-postadressen din i Kontakt- og reservasjonsregisteret er endret',
        removed: 'E-postadressen din i Kontakt- og reservasjonsregisteret er fjernet',
      },
      mobil: {
        changed: 'Mobilnummeret ditt i Kontakt- og reservasjonsregisteret er endret',
        removed: 'Mobilnummeret ditt i Kontakt- og reservasjonsregisteret er fjernet',
      },
    },
    nomore: {
      epost: 'Du får ikke lenger varsler fra det offentlige til denne adressen.',
      mobil: 'Du får ikke lenger varsler fra det offentlige til dette nummeret.',
    },
    react: (url) =>
      `Var det ikke deg, logg inn på Min profil på ${url} og rett opplysningene, eller kontakt brukerstøtten til Digitaliseringsdirektoratet (Digdir).`,
  },
  nn: {
    what: {
      epost: {
        changed: 'E-postadressa di i Kontakt- og reservasjonsregisteret er endra',
        removed: 'E-postadressa di i Kontakt- og reservasjonsregisteret er fjerna',
      },
      mobil: {
        changed: 'Mobilnummeret ditt i Kontakt- og reservasjonsregisteret er endra',
        removed: 'Mobilnummeret ditt i Kontakt- og reservasjonsregisteret er fjerna',
      },
    },
    nomore: {
      epost: 'Du får ikkje lenger varsel frå det offentlege til denne adressa.',
      mobil: 'Du får ikkje lenger varsel frå det offentlege til dette nummeret.',
    },
    react: (url) =>
      `Var det ikkje deg, logg inn på Min profil på ${url} og rett opplysningane, eller kontakt brukarstøtta til Digitaliseringsdirektoratet (Digdir).`,
  },
  en: {
    what: {
      epost: {
        changed: 'Your e-mail address in the Contact and Reservation Register was changed',
        removed: 'Your e-mail address in the Contact and Reservation Register was removed',
      },
      mobil: {
        changed: 'Your mobile number in the Contact and Reservation Register was changed',
        removed: 'Your mobile number in the Contact and Reservation Register was removed',
      },
    },
    nomore: {
      epost: 'Public agencies will no longer send notices to this address.',
      mobil: 'Public agencies will no longer send notices to this number.',
    },
    react: (url) =>
      `If this was not you, sign in to Min profil at ${url} and correct your details, or contact the user support of the Norwegian Digitalisation Agency (Digdir).`,
  },
};

/**
 * The notice to the old e-mail address or mobile number that it was changed or removed
 * (docs/jobs.md#notice-of-change): what happened, that the old value gets no more notices, and how
 * to react if it was not the person. Names neither the new value nor the person.
 */
export function changeNotice(
  language: MessageLanguage,
  channel: ProfileChannel,
  change: ChannelChange,
  minprofilUrl: string,
): { subject: string; text: string } {
  const t = NOTICES[language];
  const what = t.what[channel][change];
  return { subject: what, text: `${what}. ${t.nomore[channel]} ${t.react(minprofilUrl)}` };
}

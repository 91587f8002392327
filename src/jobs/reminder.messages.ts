// The reminder's text in the person's language (docs/jobs.md#reminders). It holds the link to Min
// profil and nothing personal: no name, no identifier, not the address or number it goes to (a
// message can be read by whoever has the old address or phone). One text for every person due: it
// does not say when the 18 months end, so it is true also for a person already past them.

import type { Language } from '../person/person.js';

/** The person's language as the reminder has it: bokmål unless they chose another. */
export function reminderLanguage(spraak: Language | undefined): Language {
  return spraak ?? 'nb';
}

const TEXTS: Readonly<Record<Language, { subject: string; text: (link: string) => string }>> = {
  nb: {
    subject: 'Er kontaktinformasjonen din fortsatt riktig?',
    text: (link) =>
      'Det er lenge siden du sist oppdaterte eller bekreftet kontaktinformasjonen din i Kontakt- og reservasjonsregisteret. ' +
      'Offentlige virksomheter kan bare varsle deg med kontaktinformasjon som er oppdatert eller bekreftet de siste 18 månedene. ' +
      `Gå til Min profil for å bekrefte eller endre den: ${link}`,
  },
  nn: {
    subject: 'Er kontaktinformasjonen din framleis rett?',
    text: (link) =>
      'Det er lenge sidan du sist oppdaterte eller stadfesta kontaktinformasjonen din i Kontakt- og reservasjonsregisteret. ' +
      'Offentlege verksemder kan berre varsle deg med kontaktinformasjon som er oppdatert eller stadfesta dei siste 18 månadene. ' +
      `Gå til Min profil for å stadfeste eller endre han: ${link}`,
  },
  en: {
    subject: 'Is your contact information still correct?',
    text: (link) =>
      'It is a long time since you last updated or confirmed your contact information in the Contact and Reservation Register. ' +
      'Public bodies may only notify you using contact information updated or confirmed within the last 18 months. ' +
      `Go to Min profil to confirm or change it: ${link}`,
  },
  se: {
    subject: 'Leatgo du kontáktadieđut ain riekta?',
    text: (link) =>
      'Lea guhká dan rájes go don maŋimuš háve duođaštit du kontáktadieđuid Kontákta- ja várrenregistaris (Kontakt- og reservasjonsregisteret). ' +
      'Almmolaš ásahusat sáhttet dieđihit dutnje dušše kontáktadieđuiguin mat leat ođasmahttojuvvon dahje duođaštuvvon maŋimuš 18 mánu siste. ' +
      `Mana Min profil-siidui duođaštit dahje rievdadit daid: ${link}`,
  },
};

/** The reminder in `language`, linking to Min profil at `minprofilUrl`. */
export function reminderMessage(language: Language, minprofilUrl: string): { subject: string; text: string } {
  const t = TEXTS[language];
  return { subject: t.subject, text: t.text(minprofilUrl) };
}

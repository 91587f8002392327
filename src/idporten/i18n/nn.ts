// The dev ID-porten's texts in Norwegian nynorsk (docs/tokens.md#sign-in-pages): every key of nb.ts.

import type { Messages } from './messages.js';

export const nn: Messages = {
  'layout.brand': 'ID-porten',
  'layout.test': 'krr test',
  'layout.skip': 'Hopp til hovudinnhald',

  'signIn.title': 'Logg inn (krr test ID-porten)',
  'signIn.heading': 'Logg inn med ein testperson',
  'signIn.intro': 'krr i utviklingsmodus står i staden for ID-porten.',
  'signIn.client': 'Teneste',
  'signIn.scope': 'Ber om',
  'signIn.level': 'Tryggleiksnivå',
  'signIn.demo': 'Demopersonar',
  'signIn.other': 'Ein annan person',
  'signIn.pid': 'Fødselsnummer eller D-nummer (11 siffer)',
  'signIn.submit': 'Logg inn',
  'signIn.cancel': 'Avbryt',
  'signIn.invalid': 'Ikkje eit gyldig fødselsnummer eller D-nummer: {reason}.',

  'identifier.FORMAT': 'det må vere nøyaktig 11 siffer',
  'identifier.CHECK_DIGIT': 'kontrollsifferet stemmer ikkje',
  'identifier.DATE': 'dei første seks sifra er ikkje ein gyldig dato',
  'identifier.SYNTHETIC_NOT_ALLOWED': 'syntetiske identifikatorar blir ikkje tekne imot av dette registeret',

  'error.title': 'Feil ved innlogging (krr test ID-porten)',
  'error.heading': 'Innlogginga kan ikkje starte',
  'error.no-client': 'Førespurnaden oppgir inga teneste (client_id manglar).',
  'error.no-redirect-uri': 'Førespurnaden oppgir ingen redirect_uri.',
  'error.bad-redirect-uri':
    'redirect_uri er ikkje ei absolutt http(s)-adresse utan fragment, så svaret kan ikkje sendast tilbake.',
  'error.unregistered-redirect-uri':
    'redirect_uri er ikkje registrert for denne tenesta, så svaret kan ikkje sendast tilbake. Registrer han for tenesta (idportenClients), eller bruk ei loopback-adresse.',
  'error.expired': 'Denne innlogginga har gått ut eller er ukjend. Start på nytt frå tenesta du kom frå.',

  'confirm.title': 'Stadfest kontaktinformasjon (krr test ID-porten)',
  'confirm.createTitle': 'Opprett kontaktinformasjon (krr test ID-porten)',
  'confirm.heading': 'Kontaktopplysningane dine',
  'confirm.subheading': 'Kontaktinformasjon',
  'confirm.createSubheading': 'Opprett kontaktinformasjon',
  'confirm.intro':
    'Informasjonen nedanfor blir lagra i eit felles kontaktregister som stat og kommune skal bruke når dei kontaktar deg.',
  'confirm.question': 'Stemmer opplysningane framleis?',
  'confirm.epost': 'E-post',
  'confirm.mobil': 'Mobilnummer',
  'confirm.none': 'Ikkje registrert',
  'confirm.missingEpost':
    'Du har ikkje registrert e-postadresse. E-postadressa blir brukt som varslingsadresse når stat eller kommune skal varsle deg om at dei har sendt deg viktige brev og vedtak på nett.',
  'confirm.missingMobil':
    'Du har ikkje registrert mobilnummer. Mobilnummeret blir brukt som varslingsadresse når stat eller kommune skal varsle deg om at dei har sendt deg viktige brev og vedtak på nett. Dersom du har eit utanlandsk nummer, hugs å oppgi landskode (til dømes +46 eller 0046 for Sverige).',
  'confirm.change': 'Endre kontaktopplysningane i Min profil',
  'confirm.confirm': 'Stadfest',
  'confirm.cancel': 'Avbryt',
  'confirm.noChannels': 'Du har ikkje registrert e-postadresse eller mobilnummer.',
  'confirm.notRegistered': 'Du er ikkje registrert i Kontakt- og reservasjonsregisteret.',
  'confirm.mayContinue': 'Du kan velje å gå vidare utan å leggje inn kontaktopplysningar.',
  'confirm.add': 'Legg inn kontaktopplysningar i Min profil',
  'confirm.register': 'Registrer deg i Min profil',
  'confirm.continue': 'Hald fram',
};

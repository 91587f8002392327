// The dev ID-porten's texts in Norwegian bokmål (docs/tokens.md#sign-in-pages). The keys are the
// catalogue's type: nn.ts and en.ts must have every one, or tsc fails. `{name}` marks a value the
// page fills in (escaped by the templates like any text). The confirm step's texts are those of
// Digdir's module (difi/idporten-bekreft-kontaktinfo, locales/nb), shortened.

export const nb = {
  'layout.brand': 'ID-porten',
  'layout.test': 'krr test',
  'layout.skip': 'Hopp til hovedinnhold',

  'signIn.title': 'Logg inn (krr test ID-porten)',
  'signIn.heading': 'Logg inn med en testperson',
  'signIn.intro': 'krr i utviklingsmodus står i stedet for ID-porten.',
  'signIn.client': 'Tjeneste',
  'signIn.scope': 'Ber om',
  'signIn.level': 'Sikkerhetsnivå',
  'signIn.demo': 'Demopersoner',
  'signIn.other': 'En annen person',
  'signIn.pid': 'Fødselsnummer eller D-nummer (11 siffer)',
  'signIn.submit': 'Logg inn',
  'signIn.cancel': 'Avbryt',
  'signIn.invalid': 'Ikke et gyldig fødselsnummer eller D-nummer: {reason}.',

  'identifier.FORMAT': 'det må være nøyaktig 11 siffer',
  'identifier.CHECK_DIGIT': 'kontrollsifferet stemmer ikke',
  'identifier.DATE': 'de første seks sifrene er ikke en gyldig dato',
  'identifier.SYNTHETIC_NOT_ALLOWED': 'syntetiske identifikatorer tas ikke imot av dette registeret',

  'error.title': 'Feil ved innlogging (krr test ID-porten)',
  'error.heading': 'Innloggingen kan ikke starte',
  'error.no-client': 'Forespørselen oppgir ingen tjeneste (client_id mangler).',
  'error.no-redirect-uri': 'Forespørselen oppgir ingen redirect_uri.',
  'error.bad-redirect-uri':
    'redirect_uri er ikke en absolutt http(s)-adresse uten fragment, så svaret kan ikke sendes tilbake.',
  'error.unregistered-redirect-uri':
    'redirect_uri er ikke registrert for denne tjenesten, så svaret kan ikke sendes tilbake. Registrer den for tjenesten (idportenClients), eller bruk en loopback-adresse.',
  'error.expired': 'Denne innloggingen er utløpt eller ukjent. Start på nytt fra tjenesten du kom fra.',

  'confirm.title': 'Bekreft kontaktinformasjon (krr test ID-porten)',
  'confirm.createTitle': 'Opprett kontaktinformasjon (krr test ID-porten)',
  'confirm.heading': 'Dine kontaktopplysninger',
  'confirm.subheading': 'Kontaktinformasjon',
  'confirm.createSubheading': 'Opprett kontaktinformasjon',
  'confirm.intro':
    'Informasjonen nedenfor lagres i et felles kontaktregister som stat og kommune skal bruke når de kontakter deg.',
  'confirm.question': 'Stemmer opplysningene fortsatt?',
  'confirm.epost': 'E-post',
  'confirm.mobil': 'Mobilnummer',
  'confirm.none': 'Ikke registrert',
  'confirm.missingEpost':
    'Du har ikke registrert e-postadresse. E-postadressen blir brukt som varslingsadresse når stat eller kommune skal varsle deg om at de har sendt deg viktige brev og vedtak på nett.',
  'confirm.missingMobil':
    'Du har ikke registrert mobilnummer. Mobilnummeret blir brukt som varslingsadresse når stat eller kommune skal varsle deg om at de har sendt deg viktige brev og vedtak på nett. Dersom du har et utenlandsk nummer, husk å oppgi landskode (for eksempel +46 eller 0046 for Sverige).',
  'confirm.change': 'Endre kontaktopplysningene i Min profil',
  'confirm.confirm': 'Bekreft',
  'confirm.cancel': 'Avbryt',
  'confirm.noChannels': 'Du har ikke registrert e-postadresse eller mobilnummer.',
  'confirm.notRegistered': 'Du er ikke registrert i Kontakt- og reservasjonsregisteret.',
  'confirm.mayContinue': 'Du kan velge å gå videre uten å legge inn kontaktopplysninger.',
  'confirm.add': 'Legg inn kontaktopplysninger i Min profil',
  'confirm.register': 'Registrer deg i Min profil',
  'confirm.continue': 'Fortsett',
} as const;

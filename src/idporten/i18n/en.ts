// The dev ID-porten's texts in English (docs/tokens.md#sign-in-pages): every key of nb.ts. The
// sign-in and error pages keep the English texts they had before they were translated.

import type { Messages } from './messages.js';

export const en: Messages = {
  'layout.brand': 'ID-porten',
  'layout.test': 'krr test',
  'layout.skip': 'Skip to main content',

  'signIn.title': 'Sign in (krr test ID-porten)',
  'signIn.heading': 'Sign in with a test person',
  'signIn.intro': 'krr dev mode stands in for ID-porten.',
  'signIn.client': 'Client',
  'signIn.scope': 'Asks for',
  'signIn.level': 'Level',
  'signIn.demo': 'Demo persons',
  'signIn.other': 'Another person',
  'signIn.pid': 'Fødselsnummer or D-nummer (11 digits)',
  'signIn.submit': 'Sign in',
  'signIn.cancel': 'Cancel',
  'signIn.invalid': 'Not a valid identifier: {reason}.',

  'identifier.FORMAT': 'it must be exactly 11 digits',
  'identifier.CHECK_DIGIT': 'the check digit is wrong',
  'identifier.DATE': 'the first six digits are not a valid date',
  'identifier.SYNTHETIC_NOT_ALLOWED': 'synthetic identifiers are not accepted by this register',

  'error.title': 'Sign-in error (krr test ID-porten)',
  'error.heading': 'The sign-in cannot start',
  'error.no-client': 'The request names no client (client_id is missing).',
  'error.no-redirect-uri': 'The request names no redirect_uri.',
  'error.bad-redirect-uri':
    'The redirect_uri is not an absolute http(s) address without a fragment, so the answer cannot be sent back.',
  'error.unregistered-redirect-uri':
    'The redirect_uri is not registered for this client, so the answer cannot be sent back. Register it for the client (idportenClients), or use a loopback address.',
  'error.expired': 'This sign-in has expired or is unknown. Start again from the service you came from.',

  'confirm.title': 'Confirm contact information (krr test ID-porten)',
  'confirm.createTitle': 'Create contact information (krr test ID-porten)',
  'confirm.heading': 'Your contact information',
  'confirm.subheading': 'Contact information',
  'confirm.createSubheading': 'Create contact information',
  'confirm.intro':
    'The information below is kept in a shared contact register that central and local government use when they contact you.',
  'confirm.question': 'Is this information still correct?',
  'confirm.epost': 'E-mail',
  'confirm.mobil': 'Mobile number',
  'confirm.none': 'Not registered',
  'confirm.missingEpost':
    'You have not registered an e-mail address. The e-mail address is used to notify you when central or local government has sent you important letters and decisions online.',
  'confirm.missingMobil':
    'You have not registered a mobile number. The mobile number is used to notify you when central or local government has sent you important letters and decisions online. If you have a foreign number, remember the country code (for example +46 or 0046 for Sweden).',
  'confirm.change': 'Change your contact information in Min profil',
  'confirm.confirm': 'Confirm',
  'confirm.cancel': 'Cancel',
  'confirm.noChannels': 'You have not registered an e-mail address or a mobile number.',
  'confirm.notRegistered': 'You are not registered in the Contact and Reservation Register.',
  'confirm.mayContinue': 'You may go on without entering contact information.',
  'confirm.add': 'Add contact information in Min profil',
  'confirm.register': 'Register in Min profil',
  'confirm.continue': 'Continue',
};

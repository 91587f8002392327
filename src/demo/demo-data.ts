// Demo persons for `npm start` and `krr seed`: synthetic identifiers (Tenor style, month + 80, and
// one NAV style, month + 40), so they can never be a real person's.

import { makeIdentifier } from '../identifier/identifier.generate.js';
import type { Person } from '../person/person.js';
import type { EpochMs } from '../time/oslo-time.js';
import { DEMO_DIGIPOST_CERTIFICATE } from './demo-certificates.js';

export const DIGIPOST_ORGNO = '984661185';
export const EBOKS_ORGNO = '996460320';

export const DEMO_PROVIDERS = [
  { orgno: DIGIPOST_ORGNO, name: 'Digipost (demo)' },
  { orgno: EBOKS_ORGNO, name: 'e-Boks (demo)' },
] as const;

export interface DemoPerson {
  readonly label: string;
  readonly person: Person;
}

const DAY = 86_400_000;

/** Whole seconds: the register keeps no fractions. */
function ago(now: EpochMs, days: number): EpochMs {
  return Math.floor((now - days * DAY) / 1000) * 1000;
}

export function demoPersons(now: EpochMs): DemoPerson[] {
  const recent = ago(now, 30);
  const old = ago(now, 3 * 365);
  const id = (day: number, month: number, year: number, extra: { dNumber?: boolean; nav?: boolean } = {}) =>
    makeIdentifier({ day, month, year, dNumber: extra.dNumber, synthetic: extra.nav ? 'nav' : 'tenor' }, 100);
  return [
    {
      label: 'fresh contact data, Digipost, bokmål',
      person: {
        personidentifikator: id(12, 3, 85),
        status: 'AKTIV',
        reservasjon: 'NEI',
        reservasjon_oppdatert: ago(now, 900),
        kontaktinformasjon: {
          epostadresse: 'kari.nordmann@example.no',
          epostadresse_oppdatert: ago(now, 700),
          epostadresse_sist_verifisert: recent,
          mobiltelefonnummer: '+4799999999',
          mobiltelefonnummer_oppdatert: ago(now, 700),
          mobiltelefonnummer_sist_verifisert: recent,
        },
        digital_post: { postkasseadresse: 'kari.nordmann#4KX2', postkasseleverandoeradresse: DIGIPOST_ORGNO },
        spraak: 'nb',
        spraak_oppdatert: ago(now, 700),
      },
    },
    {
      label: 'fresh mobile only, e-Boks, nynorsk',
      person: {
        personidentifikator: id(7, 11, 92),
        status: 'AKTIV',
        reservasjon: 'NEI',
        kontaktinformasjon: {
          mobiltelefonnummer: '+4741234567',
          mobiltelefonnummer_oppdatert: ago(now, 100),
          mobiltelefonnummer_sist_verifisert: ago(now, 100),
        },
        digital_post: { postkasseadresse: 'ola.nordmann#9YDT', postkasseleverandoeradresse: EBOKS_ORGNO },
        spraak: 'nn',
        spraak_oppdatert: ago(now, 100),
      },
    },
    {
      label: 'expired contact data (older than 18 months), English',
      person: {
        personidentifikator: id(24, 7, 94),
        status: 'AKTIV',
        reservasjon: 'NEI',
        kontaktinformasjon: {
          epostadresse: 'per.hansen@example.com',
          epostadresse_oppdatert: old,
          epostadresse_sist_verifisert: old,
          mobiltelefonnummer: '+4792345678',
          mobiltelefonnummer_oppdatert: old,
          mobiltelefonnummer_sist_verifisert: old,
        },
        spraak: 'en',
        spraak_oppdatert: old,
      },
    },
    {
      label: 'reserved against digital communication, Northern Sami',
      person: {
        personidentifikator: id(1, 2, 70),
        status: 'AKTIV',
        reservasjon: 'JA',
        reservasjonstidspunkt: ago(now, 400),
        reservasjon_oppdatert: ago(now, 400),
        kontaktinformasjon: {
          epostadresse: 'ante.gaup@example.no',
          epostadresse_oppdatert: recent,
          epostadresse_sist_verifisert: recent,
        },
        spraak: 'se',
        spraak_oppdatert: ago(now, 400),
      },
    },
    {
      label: 'deleted (SLETTET)',
      person: { personidentifikator: id(15, 5, 60), status: 'SLETTET', reservasjon: 'NEI' },
    },
    {
      label: 'D-nummer, fresh e-mail, Digipost with a certificate of their own',
      person: {
        personidentifikator: id(3, 4, 88, { dNumber: true }),
        status: 'AKTIV',
        reservasjon: 'NEI',
        kontaktinformasjon: {
          epostadresse: 'jan.kowalski@example.pl',
          epostadresse_oppdatert: recent,
          epostadresse_sist_verifisert: recent,
        },
        digital_post: { postkasseadresse: 'jan.kowalski#7PQ3', postkasseleverandoeradresse: DIGIPOST_ORGNO },
        sertifikat: DEMO_DIGIPOST_CERTIFICATE,
        spraak: 'en',
        spraak_oppdatert: recent,
      },
    },
    {
      label: 'registered without contact data',
      person: { personidentifikator: id(30, 9, 99), status: 'AKTIV', reservasjon: 'NEI' },
    },
    {
      label: 'NAV-style synthetic identifier, fresh, bokmål',
      person: {
        personidentifikator: id(19, 6, 77, { nav: true }),
        status: 'AKTIV',
        reservasjon: 'NEI',
        kontaktinformasjon: {
          epostadresse: 'nav.test@example.no',
          epostadresse_oppdatert: recent,
          epostadresse_sist_verifisert: recent,
          mobiltelefonnummer: '94000000',
          mobiltelefonnummer_oppdatert: recent,
          mobiltelefonnummer_sist_verifisert: recent,
        },
        spraak: 'nb',
        spraak_oppdatert: recent,
      },
    },
  ];
}

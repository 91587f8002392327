// Digdir's published KRR test users and the answers Digdir said a lookup gives for each, for
// `POST /testdata/nullstill {"datasett":"digdir"}` (docs/testdata.md#datasets).
//
// Source: the table "Syntetiske testbrukere (fra Tenor testbase)" of the page "KRR testbrukere",
// _docs/Kontaktregisteret/krr_testbrukere.md in github.com/felleslosninger/docs (the version of
// commit 13d0d5e0418aad8d19b906c52b545b3c896f1887, which lists only synthetic test users, with
// the Sami row; Digdir removed the static test users in 2025). The rows below are the table's,
// column for column. The table says which channels a user has, not their values: the addresses,
// numbers and timestamps are krr's own (docs/testdata.md#the-digdir-dataset).

import type { EpochMs } from '../time/oslo-time.js';
import { addDuration, parseDuration } from '../time/duration.js';
import type { Language, Person } from '../person/person.js';
import { DIGIPOST_ORGNO, EBOKS_ORGNO } from './testdata.templates.js';

export interface DigdirTestUser {
  readonly fnr: string;
  /** `JA`, `NEI`, or `-` (not shown). */
  readonly reservert: 'JA' | 'NEI' | '-';
  readonly status: 'AKTIV' | 'SLETTET';
  readonly varslingsstatus: 'KAN_VARSLES' | 'KAN_IKKE_VARSLES';
  readonly mobil: 'JA' | '-';
  readonly epost: 'JA' | '-';
  readonly postkasse: 'Digipost' | 'eBOKS' | '-';
  readonly spraak: Language | '-';
  readonly merknad: string;
}

type Row = readonly [
  string,
  DigdirTestUser['reservert'],
  DigdirTestUser['status'],
  DigdirTestUser['varslingsstatus'],
  DigdirTestUser['mobil'],
  DigdirTestUser['epost'],
  DigdirTestUser['postkasse'],
  DigdirTestUser['spraak'],
  string,
];

// prettier-ignore
const ROWS: readonly Row[] = [
  ['11887197158', 'NEI', 'AKTIV', 'KAN_IKKE_VARSLES', 'JA', 'JA', '-', '-', 'Utgått kontaktinformasjon 18mnd regelen'],
  ['30850649509', 'NEI', 'AKTIV', 'KAN_IKKE_VARSLES', 'JA', 'JA', '-', '-', 'Utgått kontaktinformasjon 18mnd regelen'],
  ['17894199350', '-', 'SLETTET', 'KAN_IKKE_VARSLES', '-', '-', '-', '-', 'Slettet fra kontakt- og reservasjonsregister'],
  ['31855699330', '-', 'SLETTET', 'KAN_IKKE_VARSLES', '-', '-', '-', '-', 'Slettet fra kontakt- og reservasjonsregister'],
  ['04846697271', 'JA', 'AKTIV', 'KAN_IKKE_VARSLES', 'JA', 'JA', '-', '-', 'Mobil og e-post registrert med reservasjon'],
  ['29890749036', 'JA', 'AKTIV', 'KAN_IKKE_VARSLES', 'JA', 'JA', '-', '-', 'Mobil og e-post registrert med reservasjon'],
  ['11822648950', 'NEI', 'AKTIV', 'KAN_VARSLES', 'JA', 'JA', '-', '-', 'Mobil og e-post registrert'],
  ['06828498159', 'NEI', 'AKTIV', 'KAN_VARSLES', 'JA', 'JA', '-', '-', 'Mobil og e-post registrert'],
  ['23837998492', 'NEI', 'AKTIV', 'KAN_VARSLES', 'JA', '-', '-', '-', 'Kun mobil registrert'],
  ['25887098029', 'NEI', 'AKTIV', 'KAN_VARSLES', 'JA', '-', '-', '-', 'Kun mobil registrert'],
  ['12869699835', 'NEI', 'AKTIV', 'KAN_VARSLES', '-', 'JA', '-', '-', 'Kun e-post registrert'],
  ['18868299939', 'NEI', 'AKTIV', 'KAN_VARSLES', '-', 'JA', '-', '-', 'Kun e-post registrert'],
  ['22859197810', 'NEI', 'AKTIV', 'KAN_VARSLES', 'JA', 'JA', 'Digipost', '-', 'Digipost'],
  ['26826499361', 'NEI', 'AKTIV', 'KAN_VARSLES', 'JA', 'JA', 'eBOKS', '-', 'eBoks'],
  ['26866595592', 'JA', 'AKTIV', 'KAN_IKKE_VARSLES', '-', 'JA', '-', '-', 'Digipost med reservasjon ola.nordmann#40NU'],
  ['18886799280', 'NEI', 'AKTIV', 'KAN_VARSLES', 'JA', 'JA', '-', 'nn', 'Språkvalg Nynorsk'],
  ['16867096934', 'NEI', 'AKTIV', 'KAN_VARSLES', 'JA', 'JA', '-', 'nb', 'Språkvalg Bokmål'],
  ['01814797763', 'NEI', 'AKTIV', 'KAN_VARSLES', 'JA', 'JA', '-', 'en', 'Språkvalg Engelsk'],
  ['29129318781', 'NEI', 'AKTIV', 'KAN_VARSLES', 'JA', 'JA', '-', 'se', 'Språkvalg Samisk'],
];

/** Digdir's table, a row per test user, as published. */
export const DIGDIR_TEST_USERS: readonly DigdirTestUser[] = ROWS.map(
  ([fnr, reservert, status, varslingsstatus, mobil, epost, postkasse, spraak, merknad]) => ({
    fnr,
    reservert,
    status,
    varslingsstatus,
    mobil,
    epost,
    postkasse,
    spraak,
    merknad,
  }),
);

function at(now: EpochMs, duration: string): EpochMs {
  return Math.floor(addDuration(now, parseDuration(duration)!) / 1000) * 1000;
}

/**
 * A register entry that gives each user's expected answer at `now` (the register's now): channels
 * confirmed 30 days ago, or two years ago where the table says the contact data has expired under
 * the 18-month rule. The reserved user whose remark names a Digipost mailbox gets none: the
 * table's expected answer shows no mailbox, and krr shows a reserved person's mailbox when it
 * holds one.
 */
export function digdirPersons(now: EpochMs): Person[] {
  return DIGDIR_TEST_USERS.map((u, i): Person => {
    if (u.status === 'SLETTET') return { personidentifikator: u.fnr, status: 'SLETTET', reservasjon: 'NEI' };
    const expired = u.reservert === 'NEI' && u.varslingsstatus === 'KAN_IKKE_VARSLES';
    const confirmed = at(now, expired ? '-P2Y' : '-P30D');
    const n = String(i + 1).padStart(2, '0');
    return {
      personidentifikator: u.fnr,
      status: 'AKTIV',
      reservasjon: u.reservert === 'JA' ? 'JA' : 'NEI',
      ...(u.reservert === 'JA' ? { reservasjonstidspunkt: at(now, '-P1Y') } : {}),
      reservasjon_oppdatert: at(now, '-P1Y'),
      kontaktinformasjon: {
        ...(u.epost === 'JA'
          ? {
              epostadresse: `krr.testbruker.${n}@example.no`,
              epostadresse_oppdatert: confirmed,
              epostadresse_sist_verifisert: confirmed,
            }
          : {}),
        ...(u.mobil === 'JA'
          ? {
              mobiltelefonnummer: `+479900${n}00`,
              mobiltelefonnummer_oppdatert: confirmed,
              mobiltelefonnummer_sist_verifisert: confirmed,
            }
          : {}),
      },
      ...(u.postkasse !== '-'
        ? {
            digital_post: {
              postkasseadresse: `krr.testbruker.${n}#${u.postkasse === 'Digipost' ? '4DGP' : '4EBK'}`,
              postkasseleverandoeradresse: u.postkasse === 'Digipost' ? DIGIPOST_ORGNO : EBOKS_ORGNO,
            },
          }
        : {}),
      ...(u.spraak !== '-' ? { spraak: u.spraak, spraak_oppdatert: confirmed } : {}),
    };
  });
}

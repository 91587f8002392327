// Synthetic registers of any size, for import tests and benchmarks: a realistic mix of contact
// data, mailboxes, certificates, reservations and deletions, reproducible from a seed.

import { withCheckDigits } from '../identifier/identifier.generate.js';
import type { Person } from '../person/person.js';
import type { EpochMs } from '../time/oslo-time.js';
import { DEMO_DIGIPOST_CERTIFICATE, DEMO_EBOKS_CERTIFICATE } from './demo-certificates.js';
import { DIGIPOST_ORGNO, EBOKS_ORGNO } from './demo-data.js';

/** A small, fast, seedable PRNG (mulberry32): the same seed gives the same register. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LANGUAGES = ['nb', 'nb', 'nb', 'nb', 'nn', 'en', 'se'] as const;
const DAY = 86_400_000;

/**
 * Yields `count` distinct persons with synthetic (Tenor, month + 80) identifiers in ascending
 * order. `now` anchors the timestamps: about 70% of persons have fresh contact data.
 */
export function* syntheticPersons(
  count: number,
  options: { seed?: number; now?: EpochMs } = {},
): Generator<Person> {
  const random = prng(options.seed ?? 1);
  const now = Math.floor((options.now ?? Date.now()) / 1000) * 1000;
  const when = (maxDaysAgo: number) =>
    now - Math.floor(random() * maxDaysAgo) * DAY - Math.floor(random() * 86400) * 1000;
  let produced = 0;
  // Walk dates and individual numbers; about 1 in 3 candidates lacks valid check digits.
  for (let year = 0; year < 100 && produced < count; year++) {
    for (let month = 1; month <= 12 && produced < count; month++) {
      for (let day = 1; day <= 28 && produced < count; day++) {
        for (let individual = 0; individual < 1000 && produced < count; individual++) {
          const nine = `${String(day).padStart(2, '0')}${month + 80}${String(year).padStart(2, '0')}${String(individual).padStart(3, '0')}`;
          const id = withCheckDigits(nine);
          if (!id) continue;
          produced++;
          yield synthetic(id, random, when, produced);
        }
      }
    }
  }
  if (produced < count) throw new Error(`at most ${produced} synthetic identifiers of this kind exist`);
}

function synthetic(
  id: string,
  random: () => number,
  when: (maxDaysAgo: number) => EpochMs,
  n: number,
): Person {
  const r = random();
  if (r < 0.02) return { personidentifikator: id, status: 'SLETTET', reservasjon: 'NEI' };
  const reserved = r < 0.1;
  // 70% fresh (within a year), the rest up to six years old.
  const confirmed = random() < 0.7 ? when(365) : when(6 * 365);
  const hasEmail = random() < 0.85;
  const hasMobile = random() < 0.9;
  const mailbox = random();
  const digipost = mailbox < 0.25;
  const eboks = !digipost && mailbox < 0.35;
  const spraak = LANGUAGES[Math.floor(random() * LANGUAGES.length)]!;
  const mobile = `+47${random() < 0.5 ? '9' : '4'}${String(n % 10_000_000).padStart(7, '0')}`;
  return {
    personidentifikator: id,
    status: 'AKTIV',
    reservasjon: reserved ? 'JA' : 'NEI',
    ...(reserved ? { reservasjonstidspunkt: when(3000) } : {}),
    reservasjon_oppdatert: when(3000),
    ...(hasEmail || hasMobile
      ? {
          kontaktinformasjon: {
            ...(hasEmail
              ? {
                  epostadresse: `person${n}@example.no`,
                  epostadresse_oppdatert: when(3000),
                  epostadresse_sist_verifisert: confirmed,
                }
              : {}),
            ...(hasMobile
              ? {
                  mobiltelefonnummer: mobile,
                  mobiltelefonnummer_oppdatert: when(3000),
                  mobiltelefonnummer_sist_verifisert: confirmed,
                }
              : {}),
          },
        }
      : {}),
    ...(digipost || eboks
      ? {
          digital_post: {
            postkasseadresse: `person.${n}#${digipost ? 'DP' : 'EB'}${String(n % 100).padStart(2, '0')}`,
            postkasseleverandoeradresse: digipost ? DIGIPOST_ORGNO : EBOKS_ORGNO,
          },
          sertifikat: digipost ? DEMO_DIGIPOST_CERTIFICATE : DEMO_EBOKS_CERTIFICATE,
        }
      : {}),
    spraak,
    spraak_oppdatert: when(3000),
  };
}

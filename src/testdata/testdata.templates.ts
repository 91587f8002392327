// The templates of `POST /testdata/personer` (docs/testdata.md#templates): a person in a named
// state, its timestamps relative to the register's now. Pure code.

import { addDuration, parseDuration } from '../time/duration.js';
import type { EpochMs } from '../time/oslo-time.js';
import type { Language, Person } from '../person/person.js';

/** The demo mailbox providers' organisation numbers (krr's demo data registers them). */
export const DIGIPOST_ORGNO = '984661185';
export const EBOKS_ORGNO = '996460320';

export const TEMPLATE_NAMES = [
  'aktiv',
  'utgaatt',
  'snart-utgaatt',
  'reservert',
  'slettet',
  'uten-kontaktinformasjon',
  'kun-epost',
  'kun-mobil',
  'digipost',
  'eboks',
  'd-nummer',
  'delt-epost',
] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

/** The templates a `leverandoer` may be given with: the ones with a mailbox. */
export const MAILBOX_TEMPLATES: readonly TemplateName[] = ['digipost', 'eboks'];

export function isTemplateName(value: unknown): value is TemplateName {
  return typeof value === 'string' && (TEMPLATE_NAMES as readonly string[]).includes(value);
}

export interface TemplateOptions {
  readonly personidentifikator: string;
  /** The register's now. */
  readonly now: EpochMs;
  readonly spraak?: Language | undefined;
  /** The mailbox provider of `digipost` and `eboks` (default: Digipost's / e-Boks' orgno). */
  readonly leverandoer?: string | undefined;
  /** Distinguishes the person's addresses (8 random lower-case letters and digits). */
  readonly tag: string;
  /** The mobile number's last 7 digits (random). */
  readonly mobileDigits: string;
  /** `delt-epost`: the address the other AKTIV person has too. */
  readonly sharedEmail?: string;
}

/** Whole seconds `duration` away from `now` (the register keeps no fractions). */
function at(now: EpochMs, duration: string): EpochMs {
  return Math.floor(addDuration(now, parseDuration(duration)!) / 1000) * 1000;
}

/** The person `name` describes (docs/testdata.md#templates). */
export function templatePerson(name: TemplateName, o: TemplateOptions): Person {
  const { now } = o;
  const confirmed = at(now, '-P30D');
  const changed = at(now, '-P2M');
  const email = o.sharedEmail ?? `test.${o.tag}@example.no`;
  const mobile = `+479${o.mobileDigits}`;
  const language = { spraak: o.spraak ?? 'nb', spraak_oppdatert: changed } as const;
  const base = {
    personidentifikator: o.personidentifikator,
    status: 'AKTIV',
    reservasjon: 'NEI',
    reservasjon_oppdatert: at(now, '-P3Y'),
  } as const;
  const fresh = (channels: 'both' | 'epost' | 'mobil', when = confirmed, updated = changed) => ({
    ...(channels !== 'mobil'
      ? { epostadresse: email, epostadresse_oppdatert: updated, epostadresse_sist_verifisert: when }
      : {}),
    ...(channels !== 'epost'
      ? {
          mobiltelefonnummer: mobile,
          mobiltelefonnummer_oppdatert: updated,
          mobiltelefonnummer_sist_verifisert: when,
        }
      : {}),
  });
  switch (name) {
    case 'aktiv':
    case 'd-nummer':
    case 'delt-epost':
      return { ...base, kontaktinformasjon: fresh('both'), ...language };
    case 'utgaatt': {
      // Every channel last confirmed 19 months ago: past the 18-month boundary.
      const old = at(now, '-P19M');
      return { ...base, kontaktinformasjon: fresh('both', old, old), ...language };
    }
    case 'snart-utgaatt': {
      // Confirmed 18 months less 3 days ago: KAN_VARSLES now, KAN_IKKE_VARSLES in about 3 days
      // (a day or two either way at a month's end, where the rule clamps the day), within 7.
      const basis = Math.floor(addDuration(at(now, '-P18M'), parseDuration('P3D')!) / 1000) * 1000;
      return { ...base, kontaktinformasjon: fresh('both', basis, basis), ...language };
    }
    case 'reservert':
      return {
        ...base,
        reservasjon: 'JA',
        reservasjonstidspunkt: at(now, '-P100D'),
        reservasjon_oppdatert: at(now, '-P100D'),
        kontaktinformasjon: fresh('both'),
        ...language,
      };
    case 'slettet':
      return { personidentifikator: o.personidentifikator, status: 'SLETTET', reservasjon: 'NEI' };
    case 'uten-kontaktinformasjon':
      return { ...base, ...language };
    case 'kun-epost':
      return { ...base, kontaktinformasjon: fresh('epost'), ...language };
    case 'kun-mobil':
      return { ...base, kontaktinformasjon: fresh('mobil'), ...language };
    case 'digipost':
    case 'eboks':
      return {
        ...base,
        kontaktinformasjon: fresh('both'),
        digital_post: {
          postkasseadresse: `test.${o.tag}#${o.tag.slice(0, 4).toUpperCase()}`,
          postkasseleverandoeradresse: o.leverandoer ?? (name === 'digipost' ? DIGIPOST_ORGNO : EBOKS_ORGNO),
        },
        ...language,
      };
  }
}

// The citizen's own entry, as Min profil shows and changes it (docs/minprofil.md): the values a
// page needs, and what a change may fail with. Pure types; profile.service.ts implements them.

import { KrrError } from '../errors/errors.js';
import type { EpochMs } from '../time/oslo-time.js';
import type { Language, PersonStatus } from '../person/person.js';

/** Who acts: the signed-in person and their session (rate limits count per session too). */
export interface ProfileActor {
  readonly pid: string;
  /** The session's id hash (never the cookie's value). */
  readonly sessionHash: string;
}

export type ProfileChannel = 'epost' | 'mobil';

export interface ProfileChannelValue {
  readonly value: string;
  readonly oppdatert: EpochMs | undefined;
  readonly sistVerifisert: EpochMs | undefined;
}

/** A new value waiting for its one-time code. */
export interface PendingCode {
  readonly channel: ProfileChannel;
  readonly value: string;
  readonly expiresAt: EpochMs;
  readonly triesLeft: number;
}

export interface ProfileEntry {
  /** False: the register has no entry for the person (or it is SLETTET); they can register. */
  readonly registered: boolean;
  readonly status: PersonStatus | undefined;
  readonly epost: ProfileChannelValue | undefined;
  readonly mobil: ProfileChannelValue | undefined;
  readonly reservasjon: 'JA' | 'NEI';
  readonly reservasjonstidspunkt: EpochMs | undefined;
  readonly spraak: Language | undefined;
  readonly spraakOppdatert: EpochMs | undefined;
  /** The digital mailbox: its address and its provider's (with the provider's name when known). */
  readonly digitalPost:
    | {
        readonly postkasseadresse: string;
        readonly leverandoerAdresse: string;
        readonly leverandoerNavn: string | undefined;
      }
    | undefined;
  /**
   * Whether agencies may notify the person now (varslingsstatus KAN_VARSLES, the 18-month rule),
   * and until when if nothing changes (the flip instant; undefined when they cannot now).
   */
  readonly kanVarsles: boolean;
  readonly kanVarslesTil: EpochMs | undefined;
  /** When the contact information was last confirmed (the newest `*_sist_verifisert`). */
  readonly sistBekreftet: EpochMs | undefined;
  readonly pending: readonly PendingCode[];
}

/** What service a lookup of the person was made through. */
export type LookupService = 'oppslag' | 'endringer' | 'person';

/** One lookup of the person's identifier, as "Hvem har slått meg opp" lists it. */
export interface LookupRecord {
  readonly at: EpochMs;
  readonly service: LookupService;
  /** The consumer organisation's number (the token's consumer), when the token named one. */
  readonly consumer: string | undefined;
  /** The supplier organisation's number, when a supplier asked on the consumer's behalf. */
  readonly supplier: string | undefined;
}

export interface LookupHistoryPage {
  readonly records: readonly LookupRecord[];
  /** Whether an older page exists. */
  readonly more: boolean;
}

/**
 * What a change can fail with. The pages show each code as a text in the page's language; the
 * codes are stable (tests and pages rely on them).
 */
export const PROFILE_PROBLEMS = [
  'INVALID_EMAIL',
  'INVALID_MOBILE',
  'SAME_VALUE',
  'NO_PENDING_CODE',
  'CODE_WRONG',
  'CODE_EXPIRED',
  'CODE_TRIES_EXHAUSTED',
  'TOO_MANY_CODES',
  'NOT_REGISTERED',
  'ALREADY_REGISTERED',
  'NOTHING_TO_CONFIRM',
  'INVALID_LANGUAGE',
] as const;
export type ProfileProblem = (typeof PROFILE_PROBLEMS)[number];

/** The operations Min profil offers; the pages call nothing else of the register. */
export interface ProfileOperations {
  entry(pid: string): Promise<ProfileEntry>;
  /** Validates the value, writes a code and its message to the outbox in one transaction. */
  requestCode(actor: ProfileActor, channel: ProfileChannel, value: string): Promise<PendingCode>;
  /** Checks the code; right: saves the value (stamps `_oppdatert` and `_sist_verifisert`). */
  verifyCode(actor: ProfileActor, channel: ProfileChannel, code: string): Promise<void>;
  removeChannel(actor: ProfileActor, channel: ProfileChannel): Promise<void>;
  /** Stamps `_sist_verifisert` now for every channel present. */
  confirm(actor: ProfileActor): Promise<void>;
  reserve(actor: ProfileActor): Promise<void>;
  liftReservation(actor: ProfileActor): Promise<void>;
  setLanguage(actor: ProfileActor, spraak: Language | null): Promise<void>;
  /** Creates an AKTIV entry (no channels, no reservation) for a person who has none. */
  register(actor: ProfileActor): Promise<void>;
  /** Lookups of the person's own identifier, newest first, the last 12 months; `page` 0 is the newest. */
  lookups(pid: string, page: number, pageSize: number): Promise<LookupHistoryPage>;
}

/**
 * A change Min profil refuses, with its stable problem code. Its message is English and names no
 * value (no address, number or code); the pages show the problem's text in their own language.
 */
export class ProfileError extends KrrError {
  readonly code = 'PROFILE';
  readonly status: number;
  constructor(
    readonly problem: ProfileProblem,
    message: string,
    /** CODE_WRONG: how many tries are left. */
    readonly triesLeft?: number,
  ) {
    super(message);
    this.status = problem === 'TOO_MANY_CODES' ? 429 : 422;
  }
}

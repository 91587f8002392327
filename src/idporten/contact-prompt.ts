// The confirm step's register side (docs/minprofil.md#confirm-prompt), over Min profil's
// operations: when a sign-in is interrupted, and what confirming stamps. As Digdir's module
// (difi/idporten-bekreft-kontaktinfo) decides it: a person without an entry is always asked to
// register; a person whose contact information was last changed or confirmed longer ago than the
// limit (or never) is asked to confirm it; a reservation changes nothing.

import { ProfileError } from '../profile/profile.js';
import type { ProfileEntry, ProfileOperations } from '../profile/profile.js';
import type { Clock } from '../time/clock.js';
import type { EpochMs } from '../time/oslo-time.js';
import type { ContactPrompt, ContactPromptView } from './idporten.service.js';

const DAY_MS = 86_400_000;

/**
 * The actor's session for confirmations made at the sign-in: Min profil's rate limits count codes
 * per session, and this step sends none.
 */
const PROMPT_SESSION = 'idporten-confirm-step';

/** The newest `_oppdatert` or `_sist_verifisert` of a channel that has a value. */
function lastConfirmedOrChanged(entry: ProfileEntry): EpochMs | undefined {
  let latest: EpochMs | undefined;
  for (const channel of [entry.epost, entry.mobil]) {
    for (const t of [channel?.oppdatert, channel?.sistVerifisert]) {
      if (t !== undefined && (latest === undefined || t > latest)) latest = t;
    }
  }
  return latest;
}

export class ProfileContactPrompt implements ContactPrompt {
  constructor(
    private readonly profile: Pick<ProfileOperations, 'entry' | 'confirm'>,
    /** The register's clock, as the 18-month rule reads it. */
    private readonly clock: Clock,
    private readonly confirmAfterDays: number,
  ) {}

  async due(pid: string): Promise<ContactPromptView | undefined> {
    const entry = await this.profile.entry(pid);
    if (!entry.registered) return { registered: false, epost: undefined, mobil: undefined };
    const last = lastConfirmedOrChanged(entry);
    // Digdir's rule: due when there is no date, or the date is more than the limit in the past.
    if (last !== undefined && last >= this.clock.now() - this.confirmAfterDays * DAY_MS) return undefined;
    return { registered: true, epost: entry.epost?.value, mobil: entry.mobil?.value };
  }

  async confirm(pid: string): Promise<void> {
    try {
      await this.profile.confirm({ pid, sessionHash: PROMPT_SESSION });
    } catch (err) {
      // Removed meanwhile (at Min profil in another tab): nothing to stamp, the sign-in goes on.
      if (
        err instanceof ProfileError &&
        (err.problem === 'NOTHING_TO_CONFIRM' || err.problem === 'NOT_REGISTERED')
      )
        return;
      throw err;
    }
  }
}

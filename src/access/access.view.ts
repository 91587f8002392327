// Which parts of a person a caller sees: scopes (docs/scopes.md#data-scopes) narrowed by
// `informasjonsbehov` (docs/lookup.md#informasjonsbehov). Pure rules over strings and bit sets.

/** Data groups beyond the always-present personidentifikator/status/reservasjon fields. */
export const Group = {
  kontaktinformasjon: 1,
  varslingsstatus: 2,
  spraak: 4,
  digitalPost: 8,
  sertifikat: 16,
} as const;
export const ALL_GROUPS = 31;

const SCOPE_GROUPS: ReadonlyMap<string, number> = new Map([
  ['krr:global/kontaktinformasjon.read', Group.kontaktinformasjon | Group.varslingsstatus | Group.spraak],
  ['krr:global/kontaktinfo.read', Group.kontaktinformasjon | Group.varslingsstatus | Group.spraak],
  ['krr:global/digitalpost.read', Group.digitalPost | Group.sertifikat],
  ['krr:global/postkasse.read', Group.digitalPost | Group.sertifikat],
  ['global/kontaktinformasjon.read', Group.kontaktinformasjon],
  ['global/varslingsstatus.read', Group.varslingsstatus],
  ['global/spraak.read', Group.spraak],
  ['global/sikkerdigitalpost.read', Group.digitalPost],
  ['global/sertifikat.read', Group.sertifikat],
]);

/** The scopes that grant data in lookups; a token needs at least one of them. */
export const DATA_SCOPES: readonly string[] = [...SCOPE_GROUPS.keys()];

/** Groups granted by a token's scopes, or undefined when none of them grants data. */
export function groupsForScopes(scopes: readonly string[]): number | undefined {
  let groups = 0;
  let granted = false;
  for (const scope of scopes) {
    const g = SCOPE_GROUPS.get(scope);
    if (g !== undefined) {
      groups |= g;
      granted = true;
    }
  }
  return granted ? groups : undefined;
}

const NEED_GROUPS: ReadonlyMap<string, number> = new Map([
  ['Person', 0],
  ['Kontaktinfo', Group.kontaktinformasjon],
  ['Kontaktinformasjon', Group.kontaktinformasjon],
  ['Sertifikat', Group.sertifikat],
  ['SikkerDigitalPost', Group.digitalPost],
  ['VarslingsStatus', Group.varslingsstatus],
  ['Spraak', Group.spraak],
]);

export interface View {
  /** Groups to render. */
  readonly groups: number;
  /** Leave out contact data, mailbox and certificate of persons who cannot be notified. */
  readonly withholdUnreachable: boolean;
}

/**
 * Narrows the scopes' groups by `informasjonsbehov` (ours, docs/lookup.md#informasjonsbehov). Absent:
 * everything the scopes allow, nothing withheld. Present: only the named groups, never more than the scopes
 * allow; `VarslingsStatus` switches on withholding. Unknown and repeated codes are ignored.
 */
export function viewFor(scopeGroups: number, informasjonsbehov: readonly string[] | undefined): View {
  if (informasjonsbehov === undefined) return { groups: scopeGroups, withholdUnreachable: false };
  let wanted = 0;
  for (const code of informasjonsbehov) wanted |= NEED_GROUPS.get(code) ?? 0;
  return {
    groups: scopeGroups & wanted,
    withholdUnreachable: informasjonsbehov.includes('VarslingsStatus'),
  };
}

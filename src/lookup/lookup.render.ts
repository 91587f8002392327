// Assembles lookup answers from a person's pre-rendered fragments (contract section 2).

import { kontaktinformasjonMember } from '../person/person.render.js';
import type { RenderedPerson } from '../person/person.render.js';
import type { EpochMs } from '../time/oslo-time.js';
import { Group } from './lookup.view.js';
import type { View } from './lookup.view.js';

export type Varslingsstatus = 'KAN_VARSLES' | 'KAN_IKKE_VARSLES';

/**
 * The 18-month rule: not AKTIV or reserved → KAN_IKKE_VARSLES; a channel confirmed at or after the
 * boundary → KAN_VARSLES; otherwise KAN_IKKE_VARSLES.
 */
export function varslingsstatus(
  p: Pick<RenderedPerson, 'status' | 'reserved' | 'varslingBasis'>,
  boundary: EpochMs,
): Varslingsstatus {
  if (p.status !== 'AKTIV' || p.reserved) return 'KAN_IKKE_VARSLES';
  return p.varslingBasis !== null && p.varslingBasis >= boundary ? 'KAN_VARSLES' : 'KAN_IKKE_VARSLES';
}

/**
 * One registered person as a JSON object, in the contract's field order. With `duplicates` (the
 * change feed), `kontaktinformasjon` carries `epostadresse_duplisert` / `mobiltelefonnummer_duplisert`.
 */
export function renderPersonAnswer(
  p: RenderedPerson,
  view: View,
  boundary: EpochMs,
  duplicates?: { readonly epost: boolean; readonly mobil: boolean },
): string {
  const status = varslingsstatus(p, boundary);
  const g = view.groups;
  let out = `{${p.base}`;
  if (g & Group.varslingsstatus) out += `,"varslingsstatus":"${status}"`;
  const withhold = view.withholdUnreachable && status === 'KAN_IKKE_VARSLES';
  if (!withhold) {
    if (g & Group.kontaktinformasjon) {
      const k = kontaktinformasjonMember(p, duplicates);
      if (k !== null) out += `,${k}`;
    }
    if (g & Group.digitalPost && p.digitalPost !== null) out += `,${p.digitalPost}`;
    if (g & Group.sertifikat && p.sertifikat !== null) out += `,${p.sertifikat}`;
  }
  if (g & Group.spraak && p.spraak !== null) out += `,${p.spraak}`;
  return `${out}}`;
}

/** An identifier with no record. The identifier is already validated as 11 digits. */
export function renderUnregisteredAnswer(personidentifikator: string, view: View): string {
  return view.groups & Group.varslingsstatus
    ? `{"personidentifikator":"${personidentifikator}","status":"IKKE_REGISTRERT","varslingsstatus":"KAN_IKKE_VARSLES"}`
    : `{"personidentifikator":"${personidentifikator}","status":"IKKE_REGISTRERT"}`;
}

// Assembles lookup answers from a person's pre-rendered fragments (docs/lookup.md#answer).

import { kontaktinformasjonMember } from './answer.render.js';
import type { RenderedPerson } from './answer.render.js';
import type { EpochMs } from '../time/oslo-time.js';
import { varslingsstatus } from '../freshness/freshness.js';
import { Group } from '../access/access.view.js';
import type { View } from '../access/access.view.js';

/**
 * One registered person as a JSON object, in the field order of docs/lookup.md#field-order. With `duplicates`
 * (the change feed), `kontaktinformasjon` carries `epostadresse_duplisert` / `mobiltelefonnummer_duplisert`.
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

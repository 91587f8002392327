// Renders a person's answer once, when the person is written, as JSON fragments in the field order
// of docs/lookup.md#field-order. A lookup then only chooses fragments by scope and adds `varslingsstatus`,
// which depends on "now"; it never formats a timestamp or escapes a string.

import { RecentStrings } from '../certificate/recent-strings.js';
import { formatOslo } from '../time/oslo-time.js';
import type { EpochMs } from '../time/oslo-time.js';
import { LANGUAGES, latestChannelConfirmation, parsePerson, PERSON_STATUSES } from '../person/person.js';
import type { Person, PersonStatus } from '../person/person.js';

/**
 * A person as the store keeps it. Each fragment is `"name":value[,...]` without braces or a leading
 * comma; `null` where the person has nothing for that group.
 */
export interface RenderedPerson {
  readonly personidentifikator: string;
  readonly status: PersonStatus;
  readonly reserved: boolean;
  /** Latest confirmation of a channel that has an address: decides varslingsstatus. */
  readonly varslingBasis: EpochMs | null;
  /** personidentifikator, reservasjon, reservasjonstidspunkt, reservasjon_oppdatert, status. */
  readonly base: string;
  /** The e-mail channel's members inside `kontaktinformasjon` (address and its timestamps). */
  readonly epost: string | null;
  /** The mobile channel's members inside `kontaktinformasjon`. */
  readonly mobil: string | null;
  /** The address in the form compared for `epostadresse_duplisert`; null without an address. */
  readonly epostKey: string | null;
  /** The number in the form compared for `mobiltelefonnummer_duplisert`; null without a number. */
  readonly mobilKey: string | null;
  readonly digitalPost: string | null;
  readonly sertifikat: string | null;
  /** spraak, spraak_oppdatert. */
  readonly spraak: string | null;
  /** Organisation number of the mailbox's provider, whose certificate stands in for a missing own one. */
  readonly mailboxProvider: string | null;
}

// Printable ASCII without `"` and `\`: the characters JSON.stringify writes as they are (it
// escapes only `"`, `\`, control characters and lone surrogates). Testing for them is a few times
// cheaper than JSON.stringify, which a write calls for every string of every person.
const NOTHING_TO_ESCAPE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** `value` as a JSON string, exactly as JSON.stringify writes it. */
export function jsonString(value: string): string {
  return NOTHING_TO_ESCAPE.test(value) ? `"${value}"` : JSON.stringify(value);
}

// The values of the register's enumerations (status, reservasjon, spraak), quoted once.
const QUOTED = new Map<string, string>(
  [...PERSON_STATUSES, 'JA', 'NEI', ...LANGUAGES].map((v) => [v, JSON.stringify(v)]),
);

/** jsonString for a value that is mostly one of the enumerations' (any other still as JSON.stringify). */
function quoted(value: string): string {
  return QUOTED.get(value) ?? jsonString(value);
}

/**
 * `out` with `"name":value` added (comma-separated), or `out` as it was when there is no value.
 * Chained calls instead of a list of pairs: a write renders millions of these (an import). `name`
 * is one of the register's field names: nothing to escape.
 */
function text(out: string, name: string, value: string | undefined): string {
  if (value === undefined) return out;
  return out === '' ? `"${name}":${jsonString(value)}` : `${out},"${name}":${jsonString(value)}`;
}

/** text() for a member whose value is mostly one of the enumerations'. */
function enumText(out: string, name: string, value: string | undefined): string {
  if (value === undefined) return out;
  return out === '' ? `"${name}":${quoted(value)}` : `${out},"${name}":${quoted(value)}`;
}

/** The same for a timestamp: formatted, it has nothing to escape. */
function stamp(out: string, name: string, value: EpochMs | undefined): string {
  if (value === undefined) return out;
  return out === '' ? `"${name}":"${formatOslo(value)}"` : `${out},"${name}":"${formatOslo(value)}"`;
}

const orNull = (members: string): string | null => (members === '' ? null : members);

function objectMember(name: string, inner: string | null): string | null {
  return inner === null ? null : `"${name}":{${inner}}`;
}

export function renderPerson(p: Person): RenderedPerson {
  const identified = `"personidentifikator":${jsonString(p.personidentifikator)}`;
  if (p.status === 'SLETTET') {
    return {
      personidentifikator: p.personidentifikator,
      status: p.status,
      reserved: false,
      varslingBasis: null,
      base: `${identified},"status":${quoted(p.status)}`,
      epost: null,
      mobil: null,
      epostKey: null,
      mobilKey: null,
      digitalPost: null,
      sertifikat: null,
      spraak: null,
      mailboxProvider: null,
    };
  }
  const base = enumText(
    stamp(
      stamp(
        enumText(identified, 'reservasjon', p.reservasjon),
        'reservasjonstidspunkt',
        p.reservasjonstidspunkt,
      ),
      'reservasjon_oppdatert',
      p.reservasjon_oppdatert,
    ),
    'status',
    p.status,
  );
  const k = p.kontaktinformasjon;
  const d = p.digital_post;
  let epost: string | null = null;
  let mobil: string | null = null;
  if (k) {
    epost = orNull(
      stamp(
        stamp(text('', 'epostadresse', k.epostadresse), 'epostadresse_oppdatert', k.epostadresse_oppdatert),
        'epostadresse_sist_verifisert',
        k.epostadresse_sist_verifisert,
      ),
    );
    mobil = orNull(
      stamp(
        stamp(
          text('', 'mobiltelefonnummer', k.mobiltelefonnummer),
          'mobiltelefonnummer_oppdatert',
          k.mobiltelefonnummer_oppdatert,
        ),
        'mobiltelefonnummer_sist_verifisert',
        k.mobiltelefonnummer_sist_verifisert,
      ),
    );
  }
  const spraak = orNull(stamp(enumText('', 'spraak', p.spraak), 'spraak_oppdatert', p.spraak_oppdatert));
  return {
    personidentifikator: p.personidentifikator,
    status: p.status,
    reserved: p.reservasjon === 'JA',
    varslingBasis: latestChannelConfirmation(k) ?? null,
    base,
    epost,
    mobil,
    epostKey: k?.epostadresse ? emailKey(k.epostadresse) : null,
    mobilKey: k?.mobiltelefonnummer ? mobileKey(k.mobiltelefonnummer) : null,
    digitalPost: d
      ? objectMember(
          'digital_post',
          orNull(
            text(
              text('', 'postkasseadresse', d.postkasseadresse),
              'postkasseleverandoeradresse',
              d.postkasseleverandoeradresse,
            ),
          ),
        )
      : null,
    sertifikat: p.sertifikat === undefined ? null : certificateMember(p.sertifikat),
    spraak,
    mailboxProvider: d ? d.postkasseleverandoeradresse : null,
  };
}

// The certificate members of the last few certificates rendered: most persons carry one of their
// providers' few, and each would otherwise be scanned for escapes and concatenated again.
const recentCertificates = new RecentStrings<string>();

/** `"sertifikat":"..."` for a base64 certificate. */
function certificateMember(base64: string): string {
  let member = recentCertificates.get(base64);
  if (member === undefined) {
    member = `"sertifikat":${jsonString(base64)}`;
    recentCertificates.set(base64, member);
  }
  return member;
}

/** E-mail addresses compare without regard to letter case. */
export function emailKey(address: string): string {
  return address.toLowerCase();
}

/** Mobile numbers compare as digits with the country code: `+47 912 34 567`, `004791234567` and `91234567` are one number. */
export function mobileKey(number: string): string {
  const digits = number.replace(/[- _]/g, '');
  if (digits.startsWith('00')) return `+${digits.slice(2)}`;
  if (/^[0-9]{8}$/.test(digits)) return `+47${digits}`;
  return digits;
}

/**
 * `"kontaktinformasjon":{...}` or null when the person has no contact members. The feed adds
 * `epostadresse_duplisert` / `mobiltelefonnummer_duplisert` after each channel that has an address.
 */
export function kontaktinformasjonMember(
  r: Pick<RenderedPerson, 'epost' | 'mobil' | 'epostKey' | 'mobilKey'>,
  duplicates?: { readonly epost: boolean; readonly mobil: boolean },
): string | null {
  let epost = r.epost;
  let mobil = r.mobil;
  if (duplicates) {
    if (r.epostKey !== null) epost = `${epost},"epostadresse_duplisert":"${duplicates.epost ? 'JA' : 'NEI'}"`;
    if (r.mobilKey !== null)
      mobil = `${mobil},"mobiltelefonnummer_duplisert":"${duplicates.mobil ? 'JA' : 'NEI'}"`;
  }
  if (epost === null) return mobil === null ? null : `"kontaktinformasjon":{${mobil}}`;
  return mobil === null ? `"kontaktinformasjon":{${epost}}` : `"kontaktinformasjon":{${epost},${mobil}}`;
}

/** The import/export line (docs/import-export.md#format): every stored field, no derived ones. */
export function renderExportLine(r: RenderedPerson): string {
  let out = `{${r.base}`;
  for (const part of [kontaktinformasjonMember(r), r.digitalPost, r.sertifikat, r.spraak]) {
    if (part !== null) out += `,${part}`;
  }
  return `${out}}`;
}

/** A stored rendering back to a record (the fragments are the wire shape, checked on the way in). */
export function recordOf(r: RenderedPerson): Person {
  const parsed = parsePerson(JSON.parse(renderExportLine(r)), {
    allowSynthetic: true,
    isCertificate: () => true,
  });
  if (!parsed.ok) throw new Error('a stored person does not parse');
  return parsed.value;
}

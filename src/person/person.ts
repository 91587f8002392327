// The register's record of one person (docs/register.md#the-person-record) and the rules a record must
// satisfy (docs/register.md#record-rules).
// Pure domain code: it knows nothing of HTTP, SQL or files.

import {
  checkPersonIdentifier,
  IDENTIFIER_PROBLEM_TEXT,
  isValidOrganisationNumber,
} from '../identifier/identifier.js';
import type { IdentifierRules } from '../identifier/identifier.js';
import { parseInstant } from '../time/oslo-time.js';
import type { EpochMs } from '../time/oslo-time.js';

export const PERSON_STATUSES = ['AKTIV', 'SLETTET'] as const;
export type PersonStatus = (typeof PERSON_STATUSES)[number];
export const LANGUAGES = ['nb', 'nn', 'en', 'se'] as const;
export type Language = (typeof LANGUAGES)[number];

export interface ContactInformation {
  readonly epostadresse?: string;
  readonly epostadresse_oppdatert?: EpochMs;
  readonly epostadresse_sist_verifisert?: EpochMs;
  readonly mobiltelefonnummer?: string;
  readonly mobiltelefonnummer_oppdatert?: EpochMs;
  readonly mobiltelefonnummer_sist_verifisert?: EpochMs;
}

export interface DigitalMailbox {
  readonly postkasseadresse: string;
  readonly postkasseleverandoeradresse: string;
}

export interface Person {
  readonly personidentifikator: string;
  readonly status: PersonStatus;
  readonly reservasjon: 'JA' | 'NEI';
  readonly reservasjonstidspunkt?: EpochMs;
  readonly reservasjon_oppdatert?: EpochMs;
  readonly kontaktinformasjon?: ContactInformation;
  readonly digital_post?: DigitalMailbox;
  /** base64 of a DER X.509 certificate. */
  readonly sertifikat?: string;
  readonly spraak?: Language;
  readonly spraak_oppdatert?: EpochMs;
}

/** One problem with one value, located by a JSON Pointer relative to the checked document. */
export interface FieldProblem {
  readonly pointer: string;
  readonly detail: string;
  /**
   * A member missing or of the wrong type (docs/errors.md#statuses: 400), not a value the
   * register refuses (422).
   */
  readonly shape?: true;
}

export type ParseResult<T> =
  | { readonly ok: true; readonly value: T; readonly ignoredFields: readonly string[] }
  | { readonly ok: false; readonly problems: readonly FieldProblem[] };

// A deliberately tolerant address check: one @, a local part without spaces or @, and a domain of
// at least two labels of letters (any script), digits and hyphens. The register must not refuse an
// address that Digdir's register holds; the 50-character limit is Digdir's
// (docs/register.md#e-mail-addresses).
const EMAIL =
  /^[^\s@\p{Cc}\p{Cs}]{1,64}@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;

/** Control characters (NUL included, which PostgreSQL text cannot hold) and lone UTF-16 surrogates. */
const UNPRINTABLE = /[\p{Cc}\p{Cs}]/u;

/** 8..100 characters, none of them control characters or lone surrogates. */
export function isValidMailboxAddress(value: string): boolean {
  return value.length >= 8 && value.length <= 100 && !UNPRINTABLE.test(value);
}

export function isValidEmail(value: string): boolean {
  return value.length <= 50 && EMAIL.test(value);
}

/**
 * `^\+?[- _0-9]+$`, 8..20 characters; a Norwegian number (prefix +47 or 0047, or exactly eight
 * digits) must start with 4 or 9. One pass over the character codes instead of three expressions
 * (an import checks millions; person.test.ts checks it against them).
 */
export function isValidMobile(value: string): boolean {
  const length = value.length;
  if (length < 8 || length > 20) return false;
  const plus = value.charCodeAt(0) === 43; // +
  // The digits without the separators: how many, and the first five (-1 where there are fewer).
  let count = 0;
  let d0 = -1;
  let d1 = -1;
  let d2 = -1;
  let d3 = -1;
  let d4 = -1;
  for (let i = plus ? 1 : 0; i < length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (count === 0) d0 = c;
      else if (count === 1) d1 = c;
      else if (count === 2) d2 = c;
      else if (count === 3) d3 = c;
      else if (count === 4) d4 = c;
      count++;
    } else if (c !== 45 && c !== 32 && c !== 95) return false; // - space _
  }
  // The national number's first digit (-1 when it is empty), or any number that is not Norwegian.
  let national: number;
  if (plus && d0 === 52 && d1 === 55)
    national = d2; // +47
  else if (!plus && d0 === 48 && d1 === 48 && d2 === 52 && d3 === 55)
    national = d4; // 0047
  else if (!plus && count === 8) national = d0;
  else return true;
  return national === 52 || national === 57; // 4 or 9
}

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/** Decides whether `base64` holds a DER X.509 certificate; injected so the domain stays free of I/O libraries. */
export type CertificateCheck = (base64: string) => boolean;

export interface PersonRules extends IdentifierRules {
  readonly isCertificate: CertificateCheck;
}

// The names a level of the wire shape may carry: its fields, and derived fields that an export
// from another register may carry (they are recomputed here). Any other name is reported as ignored.
const TOP_NAMES = new Set([
  'personidentifikator',
  'status',
  'reservasjon',
  'reservasjonstidspunkt',
  'reservasjon_oppdatert',
  'kontaktinformasjon',
  'digital_post',
  'sertifikat',
  'spraak',
  'spraak_oppdatert',
  'varslingsstatus', // derived
]);
const CONTACT_NAMES = new Set([
  'epostadresse',
  'epostadresse_oppdatert',
  'epostadresse_sist_verifisert',
  'mobiltelefonnummer',
  'mobiltelefonnummer_oppdatert',
  'mobiltelefonnummer_sist_verifisert',
  'epostadresse_duplisert', // derived
  'mobiltelefonnummer_duplisert', // derived
]);
const MAILBOX_NAMES = new Set(['postkasseadresse', 'postkasseleverandoeradresse']);
const RESERVATIONS = ['JA', 'NEI'] as const;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A record under construction: members are added in the record's order, absent ones never. */
type Building<T> = { -readonly [K in keyof T]: T[K] };

class Reader {
  readonly problems: FieldProblem[] = [];
  readonly ignored: string[] = [];

  string(obj: Record<string, unknown>, key: string, base: string): string | undefined {
    const v = obj[key];
    if (typeof v === 'string') return v;
    if (v === undefined || v === null) return undefined;
    this.problems.push({ pointer: `${base}/${key}`, detail: `${key} must be a string`, shape: true });
    return undefined;
  }

  instant(obj: Record<string, unknown>, key: string, base: string): EpochMs | undefined {
    const s = this.string(obj, key, base);
    if (s === undefined) return undefined;
    const t = parseInstant(s);
    if (t === undefined) {
      this.problems.push({
        pointer: `${base}/${key}`,
        detail: `${key} must be an ISO-8601 date-time with an offset or Z`,
      });
    }
    return t;
  }

  oneOf<T extends string>(
    obj: Record<string, unknown>,
    key: string,
    base: string,
    values: readonly T[],
  ): T | undefined {
    const s = this.string(obj, key, base);
    if (s === undefined) return undefined;
    if (!(values as readonly string[]).includes(s)) {
      this.problems.push({ pointer: `${base}/${key}`, detail: `${key} must be one of ${values.join(', ')}` });
      return undefined;
    }
    return s as T;
  }

  object(obj: Record<string, unknown>, key: string, base: string): Record<string, unknown> | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (!isPlainObject(v)) {
      this.problems.push({ pointer: `${base}/${key}`, detail: `${key} must be an object`, shape: true });
      return undefined;
    }
    return v;
  }

  unknownFields(obj: Record<string, unknown>, names: Set<string>, base: string): void {
    for (const key of Object.keys(obj)) {
      if (!names.has(key)) this.ignored.push(`${base}/${key}`);
    }
  }
}

/**
 * Checks a person in the wire shape (import lines, later also synced feed entries) and turns it into
 * a record. A SLETTET person keeps no contact data, mailbox or certificate: those are dropped.
 * Fields the register does not know are reported in `ignoredFields` (names only, never values).
 */
export function parsePerson(input: unknown, rules: PersonRules): ParseResult<Person> {
  if (!isPlainObject(input)) {
    return { ok: false, problems: [{ pointer: '', detail: 'a person must be a JSON object', shape: true }] };
  }
  const r = new Reader();
  r.unknownFields(input, TOP_NAMES, '');

  const pid = r.string(input, 'personidentifikator', '');
  if (pid === undefined) {
    if (!r.problems.length)
      r.problems.push({
        pointer: '/personidentifikator',
        detail: 'personidentifikator is required',
        shape: true,
      });
  } else {
    const check = checkPersonIdentifier(pid, rules);
    if (!check.valid)
      r.problems.push({ pointer: '/personidentifikator', detail: IDENTIFIER_PROBLEM_TEXT[check.problem] });
  }
  const status = r.oneOf(input, 'status', '', PERSON_STATUSES);
  if (input.status === undefined || input.status === null) {
    r.problems.push({ pointer: '/status', detail: 'status is required (AKTIV or SLETTET)', shape: true });
  }
  const reservasjon = r.oneOf(input, 'reservasjon', '', RESERVATIONS) ?? 'NEI';
  const reservasjonstidspunkt = r.instant(input, 'reservasjonstidspunkt', '');
  const reservasjonOppdatert = r.instant(input, 'reservasjon_oppdatert', '');

  let kontaktinformasjon: ContactInformation | undefined;
  const k = r.object(input, 'kontaktinformasjon', '');
  if (k) {
    const base = '/kontaktinformasjon';
    r.unknownFields(k, CONTACT_NAMES, base);
    const epost = r.string(k, 'epostadresse', base);
    if (epost && !isValidEmail(epost)) {
      r.problems.push({
        pointer: `${base}/epostadresse`,
        detail: 'epostadresse is not a valid e-mail address of at most 50 characters',
      });
    }
    const mobil = r.string(k, 'mobiltelefonnummer', base);
    if (mobil && !isValidMobile(mobil)) {
      r.problems.push({
        pointer: `${base}/mobiltelefonnummer`,
        detail: 'mobiltelefonnummer is not a valid mobile number',
      });
    }
    const epostOppdatert = r.instant(k, 'epostadresse_oppdatert', base);
    const epostVerifisert = r.instant(k, 'epostadresse_sist_verifisert', base);
    const mobilOppdatert = r.instant(k, 'mobiltelefonnummer_oppdatert', base);
    const mobilVerifisert = r.instant(k, 'mobiltelefonnummer_sist_verifisert', base);
    // An empty address is no address.
    const c: Building<ContactInformation> = {};
    if (epost) c.epostadresse = epost;
    if (epostOppdatert !== undefined) c.epostadresse_oppdatert = epostOppdatert;
    if (epostVerifisert !== undefined) c.epostadresse_sist_verifisert = epostVerifisert;
    if (mobil) c.mobiltelefonnummer = mobil;
    if (mobilOppdatert !== undefined) c.mobiltelefonnummer_oppdatert = mobilOppdatert;
    if (mobilVerifisert !== undefined) c.mobiltelefonnummer_sist_verifisert = mobilVerifisert;
    // Left out when it has no members at all.
    const any =
      epost ||
      mobil ||
      epostOppdatert !== undefined ||
      epostVerifisert !== undefined ||
      mobilOppdatert !== undefined ||
      mobilVerifisert !== undefined;
    if (any) kontaktinformasjon = c;
  }

  let digitalPost: DigitalMailbox | undefined;
  const d = r.object(input, 'digital_post', '');
  if (d) {
    const base = '/digital_post';
    r.unknownFields(d, MAILBOX_NAMES, base);
    const adresse = r.string(d, 'postkasseadresse', base);
    const leverandoer = r.string(d, 'postkasseleverandoeradresse', base);
    if (adresse === undefined || !isValidMailboxAddress(adresse)) {
      r.problems.push({
        pointer: `${base}/postkasseadresse`,
        detail: 'postkasseadresse must be 8 to 100 printable characters',
      });
    }
    if (leverandoer === undefined || !isValidOrganisationNumber(leverandoer)) {
      r.problems.push({
        pointer: `${base}/postkasseleverandoeradresse`,
        detail: 'postkasseleverandoeradresse must be a valid organisation number',
      });
    }
    if (adresse !== undefined && leverandoer !== undefined) {
      digitalPost = { postkasseadresse: adresse, postkasseleverandoeradresse: leverandoer };
    }
  }

  const sertifikat = r.string(input, 'sertifikat', '');
  if (sertifikat && !rules.isCertificate(sertifikat)) {
    r.problems.push({
      pointer: '/sertifikat',
      detail: 'sertifikat must be base64 of a DER X.509 certificate',
    });
  }
  const spraak = r.oneOf(input, 'spraak', '', LANGUAGES);
  const spraakOppdatert = r.instant(input, 'spraak_oppdatert', '');

  if (r.problems.length > 0 || pid === undefined || status === undefined) {
    return { ok: false, problems: r.problems };
  }
  if (status === 'SLETTET') {
    return {
      ok: true,
      value: { personidentifikator: pid, status, reservasjon: 'NEI' },
      ignoredFields: r.ignored,
    };
  }
  const person: Building<Person> = { personidentifikator: pid, status, reservasjon };
  // A reservation time only means something while the person is reserved.
  if (reservasjon === 'JA' && reservasjonstidspunkt !== undefined)
    person.reservasjonstidspunkt = reservasjonstidspunkt;
  if (reservasjonOppdatert !== undefined) person.reservasjon_oppdatert = reservasjonOppdatert;
  if (kontaktinformasjon !== undefined) person.kontaktinformasjon = kontaktinformasjon;
  if (digitalPost !== undefined) person.digital_post = digitalPost;
  if (sertifikat) person.sertifikat = sertifikat;
  if (spraak !== undefined) person.spraak = spraak;
  if (spraakOppdatert !== undefined) person.spraak_oppdatert = spraakOppdatert;
  return { ok: true, value: person, ignoredFields: r.ignored };
}

/**
 * The instant that decides freshness under the 18-month rule: the latest `_oppdatert` or
 * `_sist_verifisert` of a channel that has an address. Undefined when no channel has a date.
 */
export function latestChannelConfirmation(k: ContactInformation | undefined): EpochMs | undefined {
  if (!k) return undefined;
  let latest: EpochMs | undefined;
  const consider = (t: EpochMs | undefined) => {
    if (t !== undefined && (latest === undefined || t > latest)) latest = t;
  };
  if (k.epostadresse) {
    consider(k.epostadresse_oppdatert);
    consider(k.epostadresse_sist_verifisert);
  }
  if (k.mobiltelefonnummer) {
    consider(k.mobiltelefonnummer_oppdatert);
    consider(k.mobiltelefonnummer_sist_verifisert);
  }
  return latest;
}

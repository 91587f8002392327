// The register's record of one person (contract section 1) and the rules a record must satisfy.
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
}

export type ParseResult<T> =
  | { readonly ok: true; readonly value: T; readonly ignoredFields: readonly string[] }
  | { readonly ok: false; readonly problems: readonly FieldProblem[] };

// A deliberately tolerant address check: one @, a local part without spaces or @, and a domain of
// at least two labels of letters (any script), digits and hyphens. The register must not refuse an
// address that Digdir's register holds; the 50-character limit is the contract's.
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

const MOBILE = /^\+?[- _0-9]+$/;

/**
 * `^\+?[- _0-9]+$`, 8..20 characters; a Norwegian number (prefix +47 or 0047, or exactly eight
 * digits) must start with 4 or 9.
 */
export function isValidMobile(value: string): boolean {
  if (value.length < 8 || value.length > 20 || !MOBILE.test(value)) return false;
  const digits = value.replace(/[- _]/g, '');
  let national: string | undefined;
  if (digits.startsWith('+47')) national = digits.slice(3);
  else if (digits.startsWith('0047')) national = digits.slice(4);
  else if (/^[0-9]{8}$/.test(digits)) national = digits;
  return national === undefined || national[0] === '4' || national[0] === '9';
}

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/** Decides whether `base64` holds a DER X.509 certificate; injected so the domain stays free of I/O libraries. */
export type CertificateCheck = (base64: string) => boolean;

export interface PersonRules extends IdentifierRules {
  readonly isCertificate: CertificateCheck;
}

const TOP_FIELDS = new Set([
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
]);
// Derived fields that an export from another register may carry; they are recomputed here.
const DERIVED_FIELDS = new Set(['varslingsstatus']);
const CONTACT_FIELDS = new Set([
  'epostadresse',
  'epostadresse_oppdatert',
  'epostadresse_sist_verifisert',
  'mobiltelefonnummer',
  'mobiltelefonnummer_oppdatert',
  'mobiltelefonnummer_sist_verifisert',
]);
const DERIVED_CONTACT_FIELDS = new Set(['epostadresse_duplisert', 'mobiltelefonnummer_duplisert']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Reader {
  readonly problems: FieldProblem[] = [];
  readonly ignored: string[] = [];

  string(obj: Record<string, unknown>, key: string, base: string): string | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') {
      this.problems.push({ pointer: `${base}/${key}`, detail: `${key} must be a string` });
      return undefined;
    }
    return v;
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
      this.problems.push({ pointer: `${base}/${key}`, detail: `${key} must be an object` });
      return undefined;
    }
    return v;
  }

  unknownFields(obj: Record<string, unknown>, known: Set<string>, derived: Set<string>, base: string): void {
    for (const key of Object.keys(obj)) {
      if (!known.has(key) && !derived.has(key)) this.ignored.push(`${base}/${key}`);
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
    return { ok: false, problems: [{ pointer: '', detail: 'a person must be a JSON object' }] };
  }
  const r = new Reader();
  r.unknownFields(input, TOP_FIELDS, DERIVED_FIELDS, '');

  const pid = r.string(input, 'personidentifikator', '');
  if (pid === undefined) {
    if (!r.problems.length)
      r.problems.push({ pointer: '/personidentifikator', detail: 'personidentifikator is required' });
  } else {
    const check = checkPersonIdentifier(pid, rules);
    if (!check.valid)
      r.problems.push({ pointer: '/personidentifikator', detail: IDENTIFIER_PROBLEM_TEXT[check.problem] });
  }
  const status = r.oneOf(input, 'status', '', PERSON_STATUSES);
  if (input.status === undefined || input.status === null) {
    r.problems.push({ pointer: '/status', detail: 'status is required (AKTIV or SLETTET)' });
  }
  const reservasjon = r.oneOf(input, 'reservasjon', '', ['JA', 'NEI'] as const) ?? 'NEI';
  const reservasjonstidspunkt = r.instant(input, 'reservasjonstidspunkt', '');
  const reservasjonOppdatert = r.instant(input, 'reservasjon_oppdatert', '');

  let kontaktinformasjon: ContactInformation | undefined;
  const k = r.object(input, 'kontaktinformasjon', '');
  if (k) {
    const base = '/kontaktinformasjon';
    r.unknownFields(k, CONTACT_FIELDS, DERIVED_CONTACT_FIELDS, base);
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
    kontaktinformasjon = compact({
      epostadresse: epost || undefined,
      epostadresse_oppdatert: r.instant(k, 'epostadresse_oppdatert', base),
      epostadresse_sist_verifisert: r.instant(k, 'epostadresse_sist_verifisert', base),
      mobiltelefonnummer: mobil || undefined,
      mobiltelefonnummer_oppdatert: r.instant(k, 'mobiltelefonnummer_oppdatert', base),
      mobiltelefonnummer_sist_verifisert: r.instant(k, 'mobiltelefonnummer_sist_verifisert', base),
    });
  }

  let digitalPost: DigitalMailbox | undefined;
  const d = r.object(input, 'digital_post', '');
  if (d) {
    const base = '/digital_post';
    r.unknownFields(d, new Set(['postkasseadresse', 'postkasseleverandoeradresse']), new Set(), base);
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
  const person = compact<Person>({
    personidentifikator: pid,
    status,
    reservasjon,
    // A reservation time only means something while the person is reserved.
    reservasjonstidspunkt: reservasjon === 'JA' ? reservasjonstidspunkt : undefined,
    reservasjon_oppdatert: reservasjonOppdatert,
    kontaktinformasjon,
    digital_post: digitalPost,
    sertifikat: sertifikat || undefined,
    spraak,
    spraak_oppdatert: spraakOppdatert,
  })!;
  return { ok: true, value: person, ignoredFields: r.ignored };
}

/** Drops undefined members and returns undefined for an object left empty. */
function compact<T extends object>(obj: T): T | undefined {
  const out: Record<string, unknown> = {};
  let any = false;
  for (const key in obj) {
    const value = obj[key];
    if (value !== undefined) {
      out[key] = value;
      any = true;
    }
  }
  return any ? (out as T) : undefined;
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

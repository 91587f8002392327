// The citizen's own entry as Min profil reads and changes it (docs/minprofil.md): the register side of
// the self-service pages. Every change is one read-change-write through PersonWriter (a new change
// id, seen by lookups, the cache and the change feed) with its audit entry in the same
// transaction; a new e-mail address or mobile number is saved only once the one-time code sent to
// it comes back (docs/minprofil.md#codes). An address or number changed or removed gets a notice
// of it, written in the same transaction (docs/jobs.md#notice-of-change).

import { randomBytes, randomInt, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { AuditEntry } from '../audit/audit.repository.js';
import { FEED_PATH } from '../changes/changes.routes.js';
import { flipOf, freshnessBoundary, varslingsstatus } from '../freshness/freshness.js';
import { isLanguage, isValidEmail, isValidMobile } from '../person/person.js';
import type { ContactInformation, Language, Person } from '../person/person.js';
import type { EnqueueMessage, OutboxMessage } from '../outbox/outbox.js';
import { ProviderRepository } from '../provider/provider.repository.js';
import { recordOf } from '../answer/answer.render.js';
import type { PersonRepository } from '../register/person.repository.js';
import type { PersonWriter } from '../register/person.writer.js';
import { SELF_PATH } from '../self/self.service.js';
import type { Database, Queryable } from '../store/database.js';
import type { Clock } from '../time/clock.js';
import type { EpochMs } from '../time/oslo-time.js';
import { changeNotice, codeMessage, messageLanguage } from './profile.messages.js';
import type { ChannelChange } from './profile.messages.js';
import { ProfileError } from './profile.js';
import type {
  LookupHistoryPage,
  LookupRecord,
  LookupService,
  PendingCode,
  ProfileActor,
  ProfileChannel,
  ProfileChannelValue,
  ProfileEntry,
  ProfileOperations,
} from './profile.js';

export interface ProfileConfig {
  /** How long a one-time code is valid (10 minutes). */
  readonly codeTtlMs: number;
  /** Wrong tries a code allows before it is spent (5). */
  readonly maxTries: number;
  /** Codes sent for one person in any hour, over all their sessions. */
  readonly maxCodesPerPersonPerHour: number;
  /** Codes sent from one session in any hour. */
  readonly maxCodesPerSessionPerHour: number;
}

export const DEFAULT_PROFILE_CONFIG: ProfileConfig = {
  codeTtlMs: 10 * 60_000,
  maxTries: 5,
  maxCodesPerPersonPerHour: 5,
  maxCodesPerSessionPerHour: 5,
};

/** Who writes audit entries: the repository, writing in the caller's transaction. */
export interface ProfileAudit {
  record(entry: AuditEntry, q?: Queryable): Promise<void>;
}

export interface ProfileDeps {
  readonly db: Database;
  readonly writer: PersonWriter;
  readonly persons: PersonRepository;
  readonly audit: ProfileAudit;
  readonly enqueue: EnqueueMessage;
  /** The register's clock: codes expire and rate limits count by it, as the 18-month rule does. */
  readonly clock: Clock;
  /** Min profil's address (`<publicUrl>/minprofil`), which a notice of change points to. */
  readonly minprofilUrl: string;
  readonly config?: Partial<ProfileConfig>;
}

/** The audit trail's endpoint of each self-service event (docs/minprofil.md#audit). */
export const PROFILE_EVENTS = {
  code: 'minprofil:engangskode',
  epost: 'minprofil:epost',
  mobil: 'minprofil:mobil',
  confirm: 'minprofil:bekreft',
  reservation: 'minprofil:reservasjon',
  language: 'minprofil:spraak',
  register: 'minprofil:registrer',
} as const;

/**
 * The audited endpoints that hand a person's data to a caller, and the service each is listed as
 * under "Hvem har slått meg opp" (docs/minprofil.md#lookup-history). The lookup routes record
 * their path, the feed its path, the person endpoint its method and path.
 */
export const LOOKUP_ENDPOINTS: Readonly<Record<string, LookupService>> = {
  '/rest/v1/personer': 'oppslag',
  '/rest/v2/personer': 'oppslag',
  [FEED_PATH]: 'endringer',
  [`GET ${SELF_PATH}`]: 'person',
  [`PATCH ${SELF_PATH}`]: 'person',
};

/** How far back the lookup history reaches, in calendar months. */
export const LOOKUP_HISTORY_MONTHS = 12;

const CHANNEL_FIELDS = {
  epost: {
    value: 'epostadresse',
    oppdatert: 'epostadresse_oppdatert',
    verifisert: 'epostadresse_sist_verifisert',
  },
  mobil: {
    value: 'mobiltelefonnummer',
    oppdatert: 'mobiltelefonnummer_oppdatert',
    verifisert: 'mobiltelefonnummer_sist_verifisert',
  },
} as const satisfies Record<ProfileChannel, Record<string, keyof ContactInformation>>;

const CHANNELS: readonly ProfileChannel[] = ['epost', 'mobil'];

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Timestamps are kept to the whole second (docs/register.md#the-person-record). */
const wholeSecond = (t: EpochMs): EpochMs => Math.floor(t / 1000) * 1000;

const iso = (t: EpochMs) => new Date(t).toISOString();

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number },
) => Promise<Buffer>;

// scrypt with a salt of its own per code: a copy of profile_code is no list of codes, and trying
// the million possible codes against one hash costs about as many scrypt runs (minutes of CPU for
// one code, which is dead after 10 minutes anyway).
const SCRYPT = { N: 1 << 14, r: 8, p: 1 };
const HASH_BYTES = 32;

async function hashCode(code: string, salt: Buffer = randomBytes(16)): Promise<string> {
  const hash = await scryptAsync(code, salt, HASH_BYTES, SCRYPT);
  return `scrypt$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

async function codeMatches(code: string, stored: string): Promise<boolean> {
  const [kind, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scryptAsync(code, Buffer.from(salt, 'base64url'), expected.length, SCRYPT);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** The digits of a mobile number, with a leading + where the number has a country code. */
function mobileDigits(value: string): string {
  return value.replace(/[- _]/g, '');
}

/**
 * The contact's rule for mobile numbers (person.ts), plus the self-service rule that a foreign
 * number carries its country code: a number that is not Norwegian (8 digits, or +47 / 0047 and 8
 * digits) must start with + or 00, as Digdir's pages say ("+46 eller 0046 for Sverige").
 */
export function isAcceptableMobile(value: string): boolean {
  if (!isValidMobile(value)) return false;
  const digits = mobileDigits(value);
  return digits.startsWith('+') || digits.startsWith('00') || /^[0-9]{8}$/.test(digits);
}

/** The form two numbers are compared in: +<country><number>. */
function mobileKey(value: string): string {
  const digits = mobileDigits(value);
  if (digits.startsWith('00')) return `+${digits.slice(2)}`;
  if (/^[0-9]{8}$/.test(digits)) return `+47${digits}`;
  return digits;
}

function sameValue(channel: ProfileChannel, a: string, b: string): boolean {
  return channel === 'epost' ? a.toLowerCase() === b.toLowerCase() : mobileKey(a) === mobileKey(b);
}

/**
 * The notice to `old`, the value a change replaced or removed, in the person's language
 * (docs/jobs.md#notice-of-change): by e-mail to an old address, by SMS to an old number.
 */
function noticeTo(
  person: Person,
  channel: ProfileChannel,
  old: string,
  change: ChannelChange,
  minprofilUrl: string,
): OutboxMessage {
  const notice = changeNotice(messageLanguage(person.spraak), channel, change, minprofilUrl);
  return {
    kind: 'endringsvarsel',
    channel: channel === 'epost' ? 'epost' : 'sms',
    recipient: old,
    subject: channel === 'epost' ? notice.subject : '',
    text: notice.text,
  };
}

/** The newest `*_sist_verifisert` of a channel that has a value. */
function lastConfirmed(k: ContactInformation | undefined): EpochMs | undefined {
  let latest: EpochMs | undefined;
  for (const channel of CHANNELS) {
    const f = CHANNEL_FIELDS[channel];
    const t = k?.[f.value] ? k[f.verifisert] : undefined;
    if (t !== undefined && (latest === undefined || t > latest)) latest = t;
  }
  return latest;
}

function channelValue(
  k: ContactInformation | undefined,
  channel: ProfileChannel,
): ProfileChannelValue | undefined {
  const f = CHANNEL_FIELDS[channel];
  const value = k?.[f.value];
  if (!value) return undefined;
  return { value, oppdatert: k[f.oppdatert], sistVerifisert: k[f.verifisert] };
}

/** `person` with its contact information replaced (left out when it has no members). */
function withContact(person: Person, k: Mutable<ContactInformation>): Person {
  const { kontaktinformasjon: _old, ...rest } = person;
  return Object.keys(k).length > 0 ? { ...rest, kontaktinformasjon: k } : rest;
}

/** The instant `months` calendar months before `t` (UTC calendar; a day or so either way is fine here). */
function monthsBefore(t: EpochMs, months: number): EpochMs {
  const d = new Date(t);
  d.setUTCMonth(d.getUTCMonth() - months);
  return d.getTime();
}

interface CodeRow {
  id: number;
  session_hash: string | null;
  channel: ProfileChannel;
  value: string;
  code_hash: string;
  expires_ms: number;
  tries: number;
}

/**
 * The lookup history's query (docs/minprofil.md#lookup-history): $1 the identifier, $2 the
 * endpoints, $3 the earliest instant, $4 the page size (plus one), $5 the offset.
 */
export const LOOKUP_HISTORY_SQL = `with mine as materialized (
         select id, at, endpoint, consumer, supplier from audit_log
         where identifiers @> array[$1::text] and endpoint = any($2::text[]) and status = 200
           and at >= $3::text::timestamptz
       )
       select (extract(epoch from at) * 1000)::int8 as at_ms, endpoint, consumer, supplier
       from mine order by at desc, id desc
       limit $4 offset $5`;

/** Advisory lock class for one person's code sends (the other int is a hash of the identifier). */
const CODE_LOCK = 72617203;

export class ProfileService implements ProfileOperations {
  readonly config: ProfileConfig;
  private readonly providers: ProviderRepository;

  constructor(private readonly deps: ProfileDeps) {
    this.config = { ...DEFAULT_PROFILE_CONFIG, ...deps.config };
    this.providers = new ProviderRepository(deps.db);
  }

  private now(): EpochMs {
    return this.deps.clock.now();
  }

  async entry(pid: string): Promise<ProfileEntry> {
    const now = this.now();
    const [rendered] = await this.deps.persons.findMany([pid]);
    const pending = await this.pendingCodes(pid, now);
    if (!rendered || rendered.status !== 'AKTIV') {
      return {
        registered: false,
        status: rendered?.status,
        epost: undefined,
        mobil: undefined,
        reservasjon: 'NEI',
        reservasjonstidspunkt: undefined,
        spraak: undefined,
        spraakOppdatert: undefined,
        digitalPost: undefined,
        kanVarsles: false,
        kanVarslesTil: undefined,
        sistBekreftet: undefined,
        pending,
      };
    }
    const person = recordOf(rendered);
    const k = person.kontaktinformasjon;
    const kanVarsles = varslingsstatus(rendered, freshnessBoundary(now)) === 'KAN_VARSLES';
    const mailbox = person.digital_post;
    const provider = mailbox ? await this.providers.find(mailbox.postkasseleverandoeradresse) : undefined;
    return {
      registered: true,
      status: person.status,
      epost: channelValue(k, 'epost'),
      mobil: channelValue(k, 'mobil'),
      reservasjon: person.reservasjon,
      reservasjonstidspunkt: person.reservasjonstidspunkt,
      spraak: person.spraak,
      spraakOppdatert: person.spraak_oppdatert,
      digitalPost: mailbox
        ? {
            postkasseadresse: mailbox.postkasseadresse,
            leverandoerAdresse: mailbox.postkasseleverandoeradresse,
            leverandoerNavn: provider?.name,
          }
        : undefined,
      kanVarsles,
      kanVarslesTil: kanVarsles ? (flipOf(rendered) ?? undefined) : undefined,
      sistBekreftet: lastConfirmed(k),
      pending,
    };
  }

  /** The codes still usable, the newest per channel. */
  private async pendingCodes(pid: string, now: EpochMs): Promise<PendingCode[]> {
    const rows = await this.deps.db.query<CodeRow>(
      `select distinct on (channel) id, session_hash, channel, value, code_hash,
              (extract(epoch from expires_at) * 1000)::int8 as expires_ms, tries
       from profile_code
       where personidentifikator = $1 and used_at is null and expires_at > $2::text::timestamptz
         and tries < $3
       order by channel, id desc`,
      [pid, iso(now), this.config.maxTries],
    );
    return rows.map((r) => ({
      channel: r.channel,
      value: r.value,
      expiresAt: Number(r.expires_ms),
      triesLeft: this.config.maxTries - r.tries,
    }));
  }

  async requestCode(actor: ProfileActor, channel: ProfileChannel, value: string): Promise<PendingCode> {
    const wanted = value.trim();
    if (channel === 'epost' && !isValidEmail(wanted)) {
      throw new ProfileError('INVALID_EMAIL', 'the e-mail address is not valid');
    }
    if (channel === 'mobil' && !isAcceptableMobile(wanted)) {
      throw new ProfileError(
        'INVALID_MOBILE',
        'the mobile number is not valid (a foreign number needs its country code)',
      );
    }
    const now = this.now();
    const [rendered] = await this.deps.persons.findMany([actor.pid]);
    if (!rendered || rendered.status !== 'AKTIV') {
      throw new ProfileError('NOT_REGISTERED', 'the person has no entry in the register');
    }
    const current = recordOf(rendered).kontaktinformasjon?.[CHANNEL_FIELDS[channel].value];
    if (current && sameValue(channel, current, wanted)) {
      throw new ProfileError('SAME_VALUE', 'the register already holds this value');
    }
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    // Hashed before the transaction: scrypt's tens of milliseconds hold no lock.
    const codeHash = await hashCode(code);
    const expiresAt = now + this.config.codeTtlMs;
    const person = recordOf(rendered);
    await this.deps.db.transaction(async (tx) => {
      // One person's sends one at a time, so that two at once cannot both pass the limits.
      await tx.query(`select pg_advisory_xact_lock(${CODE_LOCK}, hashtext($1))`, [actor.pid]);
      const hourAgo = iso(now - 3_600_000);
      const [counts] = await tx.query<{ person: number; session: number }>(
        `select count(*)::int8 as person, count(*) filter (where session_hash = $2)::int8 as session
         from profile_code where personidentifikator = $1 and created_at > $3::text::timestamptz`,
        [actor.pid, actor.sessionHash, hourAgo],
      );
      if (
        Number(counts?.person ?? 0) >= this.config.maxCodesPerPersonPerHour ||
        Number(counts?.session ?? 0) >= this.config.maxCodesPerSessionPerHour
      ) {
        throw new ProfileError(
          'TOO_MANY_CODES',
          'too many codes were sent in the last hour; try again later',
        );
      }
      // A new code replaces the one waiting for the same channel.
      await tx.query(
        `update profile_code set used_at = $3::text::timestamptz
         where personidentifikator = $1 and channel = $2 and used_at is null`,
        [actor.pid, channel, iso(now)],
      );
      await tx.query(
        `insert into profile_code (personidentifikator, session_hash, channel, value, code_hash, created_at, expires_at)
         values ($1, $2, $3, $4, $5, $6::text::timestamptz, $7::text::timestamptz)`,
        [actor.pid, actor.sessionHash, channel, wanted, codeHash, iso(now), iso(expiresAt)],
      );
      const text = codeMessage(messageLanguage(person.spraak), code, this.config.codeTtlMs);
      await this.deps.enqueue(
        tx,
        {
          kind: 'engangskode',
          channel: channel === 'epost' ? 'epost' : 'sms',
          recipient: wanted,
          subject: channel === 'epost' ? text.subject : '',
          text: text.text,
        },
        new Date(now),
      );
      await this.deps.audit.record(
        this.event(actor, PROFILE_EVENTS.code, [CHANNEL_FIELDS[channel].value]),
        tx,
      );
    });
    return { channel, value: wanted, expiresAt, triesLeft: this.config.maxTries };
  }

  async verifyCode(actor: ProfileActor, channel: ProfileChannel, code: string): Promise<void> {
    const now = this.now();
    // The newest code of this person and channel, asked for in this session: a code sent to
    // another session (or for another person) is none of this one's.
    const [pending] = await this.deps.db.query<CodeRow>(
      `select id, session_hash, channel, value, code_hash,
              (extract(epoch from expires_at) * 1000)::int8 as expires_ms, tries
       from profile_code
       where personidentifikator = $1 and channel = $2 and session_hash = $3 and used_at is null
       order by id desc limit 1`,
      [actor.pid, channel, actor.sessionHash],
    );
    if (!pending) throw new ProfileError('NO_PENDING_CODE', 'no code is waiting for this channel');
    if (Number(pending.expires_ms) <= now) {
      throw new ProfileError('CODE_EXPIRED', 'the code has expired; ask for a new one');
    }
    // The try is counted before the code is compared, in its own statement: guesses sent at once
    // cannot share a try.
    const [counted] = await this.deps.db.query<{ tries: number }>(
      `update profile_code set tries = tries + 1
       where id = $1 and used_at is null and tries < $2 returning tries`,
      [pending.id, this.config.maxTries],
    );
    if (!counted) {
      throw new ProfileError(
        'CODE_TRIES_EXHAUSTED',
        'the code has been tried too many times; ask for a new one',
      );
    }
    const right = /^[0-9]{6}$/.test(code.trim()) && (await codeMatches(code.trim(), pending.code_hash));
    if (!right) {
      const triesLeft = this.config.maxTries - Number(counted.tries);
      throw new ProfileError('CODE_WRONG', 'the code is not right', triesLeft);
    }
    const f = CHANNEL_FIELDS[channel];
    const stamp = wholeSecond(now);
    const outcome = await this.deps.writer.session(async (s) => {
      const [used] = await s.tx.query(
        `update profile_code set used_at = $2::text::timestamptz where id = $1 and used_at is null returning id`,
        [pending.id, iso(now)],
      );
      if (!used) return 'used' as const;
      const person = await s.find(actor.pid);
      if (!person || person.status !== 'AKTIV') return 'not-registered' as const;
      const k: Mutable<ContactInformation> = { ...person.kontaktinformasjon };
      const old = k[f.value];
      k[f.value] = pending.value;
      k[f.oppdatert] = stamp;
      k[f.verifisert] = stamp;
      await s.write([withContact(person, k)]);
      // A value set for the first time, or set again as it was, leaves no one to tell.
      if (old && !sameValue(channel, old, pending.value)) {
        await this.deps.enqueue(
          s.tx,
          noticeTo(person, channel, old, 'changed', this.deps.minprofilUrl),
          new Date(now),
        );
      }
      await this.deps.audit.record(
        this.event(actor, PROFILE_EVENTS[channel], [f.value, f.oppdatert, f.verifisert]),
        s.tx,
      );
      return 'saved' as const;
    });
    if (outcome === 'used') throw new ProfileError('NO_PENDING_CODE', 'no code is waiting for this channel');
    if (outcome === 'not-registered') {
      throw new ProfileError('NOT_REGISTERED', 'the person has no entry in the register');
    }
  }

  async removeChannel(actor: ProfileActor, channel: ProfileChannel): Promise<void> {
    const f = CHANNEL_FIELDS[channel];
    await this.change(actor, PROFILE_EVENTS[channel], (person, now) => {
      const k: Mutable<ContactInformation> = { ...person.kontaktinformasjon };
      const old = k[f.value];
      if (!old) return undefined;
      // As Digdir's module does: the address goes, `_oppdatert` says when; the last confirmation
      // stays as history (a channel without an address never makes the person notifiable).
      delete k[f.value];
      k[f.oppdatert] = now;
      return {
        person: withContact(person, k),
        fields: [f.value, f.oppdatert],
        messages: [noticeTo(person, channel, old, 'removed', this.deps.minprofilUrl)],
      };
    });
  }

  async confirm(actor: ProfileActor): Promise<void> {
    await this.change(actor, PROFILE_EVENTS.confirm, (person, now) => {
      const k: Mutable<ContactInformation> = { ...person.kontaktinformasjon };
      const fields: string[] = [];
      for (const channel of CHANNELS) {
        const f = CHANNEL_FIELDS[channel];
        if (!k[f.value]) continue;
        k[f.verifisert] = now;
        fields.push(f.verifisert);
      }
      if (fields.length === 0) {
        throw new ProfileError(
          'NOTHING_TO_CONFIRM',
          'the entry has no e-mail address or mobile number to confirm',
        );
      }
      return { person: withContact(person, k), fields };
    });
  }

  async reserve(actor: ProfileActor): Promise<void> {
    await this.change(actor, PROFILE_EVENTS.reservation, (person, now) => {
      if (person.reservasjon === 'JA') return undefined;
      return {
        person: { ...person, reservasjon: 'JA', reservasjonstidspunkt: now, reservasjon_oppdatert: now },
        fields: ['reservasjon', 'reservasjonstidspunkt', 'reservasjon_oppdatert'],
      };
    });
  }

  async liftReservation(actor: ProfileActor): Promise<void> {
    await this.change(actor, PROFILE_EVENTS.reservation, (person, now) => {
      if (person.reservasjon !== 'JA') return undefined;
      // The reservation's time is kept only while the person is reserved (docs/register.md).
      const { reservasjonstidspunkt: _at, ...rest } = person;
      return {
        person: { ...rest, reservasjon: 'NEI', reservasjon_oppdatert: now },
        fields: ['reservasjon', 'reservasjonstidspunkt', 'reservasjon_oppdatert'],
      };
    });
  }

  async setLanguage(actor: ProfileActor, spraak: Language | null): Promise<void> {
    if (spraak !== null && !isLanguage(spraak)) {
      throw new ProfileError('INVALID_LANGUAGE', 'the language must be nb, nn, en or se');
    }
    await this.change(actor, PROFILE_EVENTS.language, (person, now) => {
      if ((person.spraak ?? null) === spraak) return undefined;
      const { spraak: _old, spraak_oppdatert: _oldAt, ...rest } = person;
      return {
        person:
          spraak === null ? { ...rest, spraak_oppdatert: now } : { ...rest, spraak, spraak_oppdatert: now },
        fields: ['spraak', 'spraak_oppdatert'],
      };
    });
  }

  async register(actor: ProfileActor): Promise<void> {
    const outcome = await this.deps.writer.session(async (s) => {
      const person = await s.find(actor.pid);
      if (person?.status === 'AKTIV') return false;
      await s.write([{ personidentifikator: actor.pid, status: 'AKTIV', reservasjon: 'NEI' }]);
      await this.deps.audit.record(this.event(actor, PROFILE_EVENTS.register, ['status']), s.tx);
      return true;
    });
    if (!outcome) throw new ProfileError('ALREADY_REGISTERED', 'the person already has an entry');
  }

  async lookups(pid: string, page: number, pageSize: number): Promise<LookupHistoryPage> {
    const size = Math.max(1, Math.min(100, Math.floor(pageSize)));
    const offset = Math.max(0, Math.floor(page)) * size;
    const since = monthsBefore(this.now(), LOOKUP_HISTORY_MONTHS);
    // The person's own entries first, through the GIN index of migration 12 (the parameter cast
    // to the column's type, text[]), then sorted. Materialised on purpose: left to itself the
    // planner, which has no statistics for an identifier (each is rare), walks the `at` index
    // backwards through the whole 12 months looking for the person (85 ms against 1 ms on 120 000
    // entries, docs/minprofil.md#lookup-history).
    const rows = await this.deps.db.query<{
      at_ms: number;
      endpoint: string;
      consumer: string | null;
      supplier: string | null;
    }>(LOOKUP_HISTORY_SQL, [pid, Object.keys(LOOKUP_ENDPOINTS), iso(since), size + 1, offset]);
    const records: LookupRecord[] = rows.slice(0, size).map((r) => ({
      at: Number(r.at_ms),
      service: LOOKUP_ENDPOINTS[r.endpoint]!,
      consumer: r.consumer ?? undefined,
      supplier: r.supplier ?? undefined,
    }));
    return { records, more: rows.length > size };
  }

  /**
   * One read-change-write of the actor's AKTIV entry under the write lock, audited in the same
   * transaction. `fn` returns the new record, the changed field names and the messages the change
   * sends (written to the outbox in the same transaction), or undefined for no change (no write,
   * no change id, no audit entry, no message).
   */
  private async change(
    actor: ProfileActor,
    endpoint: string,
    fn: (
      person: Person,
      now: EpochMs,
    ) => { person: Person; fields: readonly string[]; messages?: readonly OutboxMessage[] } | undefined,
  ): Promise<void> {
    const now = wholeSecond(this.now());
    const registered = await this.deps.writer.session(async (s) => {
      const person = await s.find(actor.pid);
      if (!person || person.status !== 'AKTIV') return false;
      const changed = fn(person, now);
      if (!changed) return true;
      await s.write([changed.person]);
      for (const message of changed.messages ?? []) await this.deps.enqueue(s.tx, message, new Date(now));
      await this.deps.audit.record(this.event(actor, endpoint, changed.fields), s.tx);
      return true;
    });
    if (!registered) throw new ProfileError('NOT_REGISTERED', 'the person has no entry in the register');
  }

  /** A self-service event: the person acts on their own entry; detail names fields, never values. */
  private event(actor: ProfileActor, endpoint: string, fields: readonly string[]): AuditEntry {
    return {
      at: new Date(),
      clientId: null,
      consumer: null,
      supplier: null,
      endpoint,
      identifiers: [actor.pid],
      status: 200,
      detail: fields.join(','),
    };
  }
}

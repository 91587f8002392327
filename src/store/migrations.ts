import { partitionAuditTrail } from './audit-partitions.js';
import type { Database, Queryable } from './database.js';

interface Migration {
  readonly version: number;
  readonly name: string;
  /** Work in code before the SQL, in the same transaction (a data migration the SQL relies on). */
  readonly prepare?: (tx: Queryable, data: DataMigrations) => Promise<void>;
  readonly sql: string;
}

// Append only: a released migration is never edited; a change is a new version.
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'person register and audit trail',
    sql: `
      -- Change ids start above 200 000 000, as in Digdir's current system (docs/change-feed.md#change-ids).
      create sequence person_change_id start with 200000001;

      -- Identifier columns are text with a CHECK (not char(11)): char(n) = ANY(text[]) does not use the index.
      create table person (
        personidentifikator text primary key check (personidentifikator ~ '^[0-9]{11}$'),
        status text not null check (status in ('AKTIV', 'SLETTET')),
        reserved boolean not null,
        -- epoch milliseconds of the latest confirmation of a channel; decides varslingsstatus
        varsling_basis bigint,
        -- the person's answer, rendered at write time as JSON fragments (see person.render.ts)
        base text not null,
        -- the e-mail and mobile members of kontaktinformasjon, kept apart so the change feed can add
        -- epostadresse_duplisert / mobiltelefonnummer_duplisert after each
        epost text,
        mobil text,
        -- the address and number in the form compared for those flags
        epost_key text,
        mobil_key text,
        digital_post text,
        sertifikat text,
        spraak text,
        change_id bigint not null default nextval('person_change_id'),
        updated_at timestamptz not null default now()
      );
      create unique index person_change_id_idx on person (change_id);
      create index person_epost_key_idx on person (epost_key) where status = 'AKTIV';
      create index person_mobil_key_idx on person (mobil_key) where status = 'AKTIV';

      create table audit_log (
        id bigserial primary key,
        at timestamptz not null,
        client_id text,
        consumer text,
        supplier text,
        endpoint text not null,
        identifiers text[] not null,
        status smallint not null
      );
      create index audit_log_at_idx on audit_log (at);

      -- Small named values the register keeps for itself (the dev issuer's key on PostgreSQL).
      create table register_setting (
        name text primary key,
        value text not null
      );
    `,
  },
  {
    version: 2,
    name: 'mailbox providers and the print certificate',
    sql: `
      create table mailbox_provider (
        orgno text primary key check (orgno ~ '^[0-9]{9}$'),
        name text not null,
        -- base64 DER
        certificate text not null,
        -- "sertifikat":"..." rendered once, for the persons who use the provider's certificate
        sertifikat_fragment text not null,
        updated_at timestamptz not null default now()
      );

      -- The provider of the person's mailbox (digital_post.postkasseleverandoeradresse). A person's
      -- own certificate is in person.sertifikat; without one, answers show the provider's, joined
      -- at read time, so a provider's new certificate shows for all its persons at once.
      alter table person add column mailbox_provider text;
      create index person_mailbox_provider_idx on person (mailbox_provider);

      create table print_certificate (
        singleton boolean primary key default true check (singleton),
        orgno text not null check (orgno ~ '^[0-9]{9}$'),
        certificate text not null,
        updated_at timestamptz not null default now()
      );
    `,
  },
  {
    version: 3,
    name: 'maskinporten clients and used assertions',
    sql: `
      -- Clients of the dev-mode Maskinporten-like token service (krr clients add) on PostgreSQL;
      -- the embedded store keeps them in a file beside its database (client-file.repository.ts).
      create table maskinporten_client (
        client_id text primary key check (length(client_id) between 1 and 200),
        orgno text not null check (orgno ~ '^[0-9]{9}$'),
        -- granted scopes, space-separated
        scopes text not null,
        created_at timestamptz not null default now()
      );

      -- A client's public keys, found by the assertion's kid. certificate: base64 DER when the key
      -- was registered from a certificate.
      create table maskinporten_client_key (
        client_id text not null references maskinporten_client (client_id) on delete cascade,
        kid text not null check (length(kid) between 1 and 200),
        public_jwk text not null,
        certificate text,
        created_at timestamptz not null default now(),
        primary key (client_id, kid)
      );

      -- Assertions already used (jti, per client), kept until they expire: a replay is refused
      -- also by another process or after a restart.
      create table used_assertion (
        client_id text not null,
        jti text not null,
        expires_at timestamptz not null,
        primary key (client_id, jti)
      );
      create index used_assertion_expires_at_idx on used_assertion (expires_at);
    `,
  },
  {
    version: 4,
    name: 'lookup answers as bytes',
    sql: `
      -- The person's lookup answer, rendered at write time as one text value that lookups slice
      -- and copy (see lookup.record.ts); filled for existing persons when the store opens.
      alter table person add column lookup text;
      -- The first instant at which the person's varslingsstatus is no longer KAN_VARSLES
      -- (epoch milliseconds; null when it never is): the inverse of the 18-month boundary.
      alter table person add column varsling_flip bigint;
      -- Finds the persons still without a record at once (empty once they are filled).
      create index person_lookup_missing_idx on person (personidentifikator) where lookup is null;
    `,
  },
  {
    version: 5,
    name: 'person rows stored whole',
    sql: `
      -- A person with a certificate of their own is a row of about 2.4 kB (the base64 certificate
      -- is half of it), above the 2 kB at which PostgreSQL starts to TOAST: it first tries to
      -- compress the certificate (base64 of random-looking bytes: never smaller with pglz), then
      -- moves it to the TOAST table, a second insert and index entry per person. Rows are now
      -- kept whole in the heap up to a page: a bulk import costs the server about a third less,
      -- and a lookup reads the certificate with the row. (New and rewritten rows; existing ones
      -- stay as they are until they are written.)
      alter table person set (toast_tuple_target = 8160);
    `,
  },
  {
    version: 6,
    name: 'audit identifiers stored without compression',
    sql: `
      -- A 1000-identifier lookup's audit entry is about 14 kB of identifiers: always moved to the
      -- TOAST table, and first compressed with pglz, which cost the server about 0.45 ms per entry
      -- (measured: 0.75 ms per entry as before, 0.3 ms without compression). Lookups write one
      -- entry each, so that was the largest share of the database's work under bulk lookups.
      -- Stored out of line as they are, at about twice the disk.
      alter table audit_log alter column identifiers set storage external;
    `,
  },
  {
    version: 7,
    name: 'person rows without repeated fragments',
    // Persons written before version 4 have no lookup record yet: rendered from the columns below
    // before they go.
    prepare: async (tx, data) => {
      await data.renderMissingLookupRecords(tx);
    },
    sql: `
      -- The answer's fragments were kept twice: in columns of their own and inside the lookup
      -- record. They are now only in the record (a third fewer bytes per row), whose readers cut
      -- them out (partsOfLookupRecord). Every person has a record from here on.
      alter table person drop column base, drop column epost, drop column mobil,
        drop column digital_post, drop column spraak;
      drop index person_lookup_missing_idx;
      alter table person alter column lookup set not null;

      -- A provider's persons are a large share of the register: their update is a scan either way,
      -- and the index cost every bulk load its build.
      drop index person_mailbox_provider_idx;

      -- Keys compared byte for byte: the same order for digits and the same equality as before,
      -- but B-tree builds and searches use memcmp and abbreviated keys instead of the database's
      -- locale (which PostgreSQL never trusts for abbreviated keys, whatever it is).
      alter table person drop constraint person_personidentifikator_check;
      alter table person alter column personidentifikator type text collate "C",
        alter column epost_key type text collate "C", alter column mobil_key type text collate "C";
      -- Eleven digits, checked without a regular expression (which cost a bulk load about 4 µs a row).
      alter table person add constraint person_personidentifikator_check
        check (octet_length(personidentifikator) = 11
               and octet_length(btrim(personidentifikator, '0123456789')) = 0);
    `,
  },
  {
    version: 8,
    name: 'the rules the stored records were rendered with',
    sql: `
      -- Each person's stored flip instant follows from the 18-month rule's period
      -- (docs/freshness.md#changing-the-period). The register remembers the period its records
      -- were rendered with, so that opening it with another renders the flips again
      -- (register/person.writer.ts, renderFlipsForThePeriod). Records so far: 18 months.
      create table register_rule (name text primary key, value text not null);
      insert into register_rule (name, value) values ('freshness_months', '18');
    `,
  },
  {
    version: 9,
    name: 'the organisations that delegated to a maskinporten client',
    sql: `
      -- The consumer_org a client's assertions may name besides its own organisation
      -- (docs/tokens.md#delegations): registered with krr clients add --delegated-by. The embedded
      -- store keeps them with the client in its file (client-file.repository.ts).
      create table maskinporten_client_delegation (
        client_id text not null references maskinporten_client (client_id) on delete cascade,
        orgno text not null check (orgno ~ '^[0-9]{9}$'),
        primary key (client_id, orgno)
      );
    `,
  },
  {
    version: 10,
    name: 'the register clock and removed persons',
    sql: `
      -- The register's clock (docs/testdata.md#the-clock), one row shared by every krr process on
      -- the store: frozen at an instant (epoch milliseconds), or running at an offset from the
      -- system clock. version grows with each change; readers take only newer readings.
      create table register_clock (
        singleton boolean primary key default true check (singleton),
        frozen_at bigint,
        offset_ms bigint not null default 0,
        version bigint not null default 0
      );
      insert into register_clock (singleton) values (true);

      -- Persons removed from the register by the test-data API (docs/testdata.md#delete), each
      -- with the change id of the removal, so that the change feed and the lookup cache learn of
      -- it (docs/change-feed.md#removed-persons). A row stays when the identifier is written
      -- again; readers leave out the removals of identifiers that are registered.
      create table person_removed (
        personidentifikator text collate "C" primary key,
        change_id bigint not null default nextval('person_change_id')
      );
      create unique index person_removed_change_id_idx on person_removed (change_id);
    `,
  },
  {
    version: 11,
    name: 'min profil: sessions, one-time codes, the outbox, self-service audit detail',
    sql: `
      -- Signed-in citizens of Min profil (docs/minprofil.md#sessions). The cookie carries a random
      -- id; the store keeps only its SHA-256, so a copy of this table signs no one in. A session
      -- ends on "Logg ut" (ended_at) or when idle past the timeout (last_seen_at).
      create table minprofil_session (
        id_hash text primary key,
        personidentifikator text not null check (personidentifikator ~ '^[0-9]{11}$'),
        acr text,
        created_at timestamptz not null,
        last_seen_at timestamptz not null,
        ended_at timestamptz
      );
      create index minprofil_session_last_seen_idx on minprofil_session (last_seen_at);

      -- One-time codes sent to a new e-mail address or mobile number (docs/minprofil.md#codes):
      -- the new value waits here until the citizen enters the code. Only the code's hash is kept.
      create table profile_code (
        id bigserial primary key,
        personidentifikator text not null check (personidentifikator ~ '^[0-9]{11}$'),
        session_hash text,
        channel text not null check (channel in ('epost', 'mobil')),
        value text not null,
        code_hash text not null,
        created_at timestamptz not null,
        expires_at timestamptz not null,
        tries integer not null default 0,
        used_at timestamptz
      );
      create index profile_code_person_idx on profile_code (personidentifikator, created_at);

      -- Messages to citizens, written in the same transaction as what causes them and delivered
      -- after it commits (docs/minprofil.md#the-outbox). kind names the message's purpose for
      -- logs and metrics; recipient and text are personal data and never logged.
      create table outbox (
        id bigserial primary key,
        kind text not null,
        channel text not null check (channel in ('epost', 'sms')),
        recipient text not null,
        subject text not null default '',
        text text not null,
        created_at timestamptz not null,
        attempts integer not null default 0,
        next_attempt_at timestamptz not null,
        claimed_until timestamptz,
        delivered_at timestamptz,
        delivered_to text,
        last_error text,
        failed_at timestamptz
      );
      create index outbox_due_idx on outbox (next_attempt_at) where delivered_at is null and failed_at is null;

      -- What a self-service change changed (field names, never values): docs/minprofil.md#audit.
      alter table audit_log add column detail text;
    `,
  },
  {
    version: 12,
    name: "the audit trail searchable by identifier (Min profil's lookup history)",
    sql: `
      -- "Hvem har slått meg opp" (docs/minprofil.md#lookup-history) asks for the entries whose
      -- identifiers hold one person's: identifiers @> array[$1::text]. A GIN index on the text[]
      -- answers that from the index instead of reading the whole trail. Each entry adds one index
      -- key per identifier; fastupdate (the default) queues them in the pending list and merges
      -- them in bulk, so a lookup's insert stays cheap (measured in docs/minprofil.md#lookup-history).
      create index audit_log_identifiers_idx on audit_log using gin (identifiers);
    `,
  },
  {
    version: 13,
    name: "the register's jobs: leases and runs",
    sql: `
      -- Which krr process runs a job now (docs/jobs.md#one-place-at-a-time): a row per job, taken
      -- when free or expired and renewed while the run lasts, on the database's real clock (a
      -- frozen test clock must not keep a lease alive). A killed process's lease runs out.
      create table job_lease (
        name text primary key,
        holder text not null,
        until timestamptz not null
      );

      -- Each run of a job (docs/jobs.md#running-them): when, where, how it ended, what it counted.
      -- counts is a JSON object of names to numbers, never personal data; register_at is the
      -- register's clock at the start, clock_version the clock's version (a moved clock makes
      -- the jobs due again, docs/jobs.md#schedule).
      create table job_run (
        id bigserial primary key,
        job text not null,
        holder text not null,
        started_at timestamptz not null default now(),
        ended_at timestamptz,
        register_at bigint not null,
        clock_version bigint not null,
        outcome text not null default 'running'
          check (outcome in ('running', 'ok', 'failed', 'stopped', 'abandoned')),
        counts text not null default '{}',
        error text
      );
      create index job_run_job_idx on job_run (job, id);
    `,
  },
  {
    version: 14,
    name: 'the reminders sent before the 18-month rule stops a channel',
    sql: `
      -- One row per person reminded (docs/jobs.md#reminders): the confirmation (varsling_basis) the
      -- last reminder was for. Written in the transaction that writes the reminder to the outbox,
      -- with ON CONFLICT, so that a reminder goes once per confirmation even with two runs at once;
      -- a new confirmation is a new basis, and the person can be reminded again once it ages.
      create table reminder_sent (
        personidentifikator text collate "C" primary key check (personidentifikator ~ '^[0-9]{11}$'),
        basis bigint not null,
        sent_at timestamptz not null
      );
      -- The persons the reminder can be for, in the order the job pages through them: a page of
      -- those due and not yet reminded is found from this index (an index-only scan) and the anti
      -- join with reminder_sent, without reading the register's rows (measured in
      -- docs/jobs.md#reminders: 100k persons, a run with nothing to send reads 611 buffers instead
      -- of 21 908).
      create index person_reminder_idx on person (personidentifikator, varsling_basis)
        where status = 'AKTIV' and not reserved and varsling_basis is not null;
    `,
  },
  {
    version: 15,
    name: 'folkeregister: the event list position, event counts, conflicts for the operator',
    sql: `
      -- How far krr folkeregister sync has read Folkeregisteret's event list (docs/folkeregister.md#position):
      -- one row, written in the same transaction as the effects of the events up to it.
      create table folkeregister_position (
        singleton boolean primary key default true check (singleton),
        last_sequence bigint not null check (last_sequence >= 0),
        updated_at timestamptz not null
      );
      -- Events read, by hendelsestype, and by what they did here (docs/folkeregister.md#counts).
      create table folkeregister_event_count (
        type text primary key,
        count bigint not null
      );
      -- New identifiers that could not be applied, for the operator (docs/folkeregister.md#conflicts).
      -- No identifiers here: those are in the audit trail, under the same sequence number.
      create table folkeregister_conflict (
        sequence bigint primary key,
        type text not null,
        reason text not null,
        recorded_at timestamptz not null
      );
    `,
  },
  {
    version: 16,
    name: 'retention: delivered and given-up outbox messages by age',
    sql: `
      -- The retention job (docs/jobs.md#retention) deletes the messages delivered or given up
      -- before a cutoff, a batch at a time: this partial index finds them by created_at without
      -- reading the pending ones or the whole table.
      create index outbox_done_created_idx on outbox (created_at)
        where delivered_at is not null or failed_at is not null;
    `,
  },
  {
    version: 17,
    name: 'the audit trail in monthly partitions',
    // The trail gets a row per request and is kept for months (docs/operations.md#partitions-and-retention):
    // partitioned by month, a month past the retention is dropped whole instead of deleted row by
    // row. `prepare` renames the old table and makes the partitioned one with the partitions of the
    // months its rows are in (and the current and next); the rows keep their ids, and the id
    // sequence goes on from where it was.
    prepare: (tx) => partitionAuditTrail(tx),
    sql: `
      insert into audit_log (id, at, client_id, consumer, supplier, endpoint, identifiers, status, detail)
        select id, at, client_id, consumer, supplier, endpoint, identifiers, status, detail
        from audit_log_unpartitioned;
      drop table audit_log_unpartitioned;
      -- The indexes after the copy (built once instead of kept up row by row), the same as before;
      -- the primary key must hold the partition key, so it is (id, at): ids stay unique as the
      -- sequence gives them.
      alter table audit_log add primary key (id, at);
      create index audit_log_at_idx on audit_log (at);
      create index audit_log_identifiers_idx on audit_log using gin (identifiers);
      analyze audit_log;
    `,
  },
];

/**
 * The steps of a migration that rewrite data with the register's own code (rendering a person's
 * answer, say). The store knows no person or answer, so the register hands them in when it opens
 * the store (register/open-store.ts).
 */
export interface DataMigrations {
  /** Renders the lookup record of every person who has none (before version 7 drops its sources). */
  renderMissingLookupRecords(tx: Queryable): Promise<unknown>;
}

/**
 * Brings the schema up to date (or up to `options.upTo`, for tests of a migration). Safe when
 * several processes start at once (advisory lock).
 */
export async function migrate(
  db: Database,
  data: DataMigrations,
  options: { readonly upTo?: number } = {},
): Promise<void> {
  await db.exec(`create table if not exists schema_migrations (
    version integer primary key, name text not null, applied_at timestamptz not null default now())`);
  // Long work: a migration's data step may touch every person (docs/operations.md#timeouts).
  await db.transaction(
    async (tx) => {
      await tx.query('select pg_advisory_xact_lock(72617201)');
      const applied = new Set(
        (await tx.query<{ version: number }>('select version from schema_migrations')).map((r) => r.version),
      );
      for (const m of MIGRATIONS) {
        if (applied.has(m.version) || m.version > (options.upTo ?? Infinity)) continue;
        await m.prepare?.(tx, data);
        // Statements one by one: the extended protocol takes a single statement per call.
        for (const statement of splitStatements(m.sql)) await tx.query(statement);
        await tx.query('insert into schema_migrations (version, name) values ($1, $2)', [m.version, m.name]);
      }
    },
    { long: true },
  );
}

function splitStatements(script: string): string[] {
  return script
    .split(/;\s*$/m)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter((s) => s.length > 0);
}

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

// The audit trail's monthly partitions (docs/operations.md#partitions-and-retention): `audit_log`
// is partitioned by range of `at`, one partition per UTC calendar month named audit_log_YYYY_MM,
// and a default partition (audit_log_default) that takes a row of any month without one, so that
// an insert never fails for want of a partition. Migration 17 makes the partitions of the months
// the trail holds; the audit-partitions job (docs/jobs.md#audit-partitions) keeps the coming
// months made and drops the months past the retention. A partition's bounds follow from its name:
// only the names made here are read back.

import type { Queryable, StoreTransaction } from './database.js';

export const AUDIT_DEFAULT_PARTITION = 'audit_log_default';

/** One partition of a month: [start, end) in epoch milliseconds. */
export interface AuditPartition {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

/** Partitions are made and dropped one process at a time (the migration's lock is 72617201). */
const PARTITION_LOCK = 72617204;

/**
 * How long making or dropping a partition waits for its table locks (dropping one locks the whole
 * trail). Behind a long reader (a `krr audit` of a large trail), waiting longer would hold up every
 * lookup's audit insert queued behind it; instead the step gives up and the next run tries again.
 */
export const PARTITION_LOCK_TIMEOUT_MS = 2000;

/** Whether `err` is PostgreSQL's lock_not_available: a lock not had within the lock timeout. */
export function isLockTimeout(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '55P03';
}

async function partitionLocks(tx: Queryable, lockTimeoutMs: number): Promise<void> {
  await tx.query(`select pg_advisory_xact_lock(${PARTITION_LOCK})`);
  await tx.query(`select set_config('lock_timeout', $1, true)`, [
    `${Math.max(1, Math.round(lockTimeoutMs))}ms`,
  ]);
}

const MONTH_NAME = /^audit_log_([0-9]{4})_([0-9]{2})$/;

/** The partition of the UTC month that holds `at`. */
export function partitionOf(at: number): AuditPartition {
  const d = new Date(at);
  return monthPartition(d.getUTCFullYear(), d.getUTCMonth());
}

/** The partition `months` months after the one that holds `at` (negative: before). */
export function partitionAfter(at: number, months: number): AuditPartition {
  const d = new Date(at);
  return monthPartition(d.getUTCFullYear(), d.getUTCMonth() + months);
}

/** `month` from 0, and may run past 11 or below 0 (Date.UTC carries it into the year). */
function monthPartition(year: number, month: number): AuditPartition {
  const start = Date.UTC(year, month, 1);
  const end = Date.UTC(year, month + 1, 1);
  const s = new Date(start);
  const name = `audit_log_${String(s.getUTCFullYear()).padStart(4, '0')}_${String(s.getUTCMonth() + 1).padStart(2, '0')}`;
  return { name, start, end };
}

/** The instant `months` calendar months before `at` (UTC; the 31st becomes the month's last day). */
export function monthsBefore(at: number, months: number): number {
  const d = new Date(at);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth() - months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return Date.UTC(
    year,
    month,
    Math.min(d.getUTCDate(), lastDay),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    d.getUTCMilliseconds(),
  );
}

const bound = (t: number) => `'${new Date(t).toISOString()}'`;

/** The month partitions of `audit_log`, oldest first (not the default partition). */
export async function auditPartitions(q: Queryable): Promise<AuditPartition[]> {
  const rows = await q.query<{ name: string }>(
    `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
     where i.inhparent = 'audit_log'::regclass`,
  );
  const partitions: AuditPartition[] = [];
  for (const { name } of rows) {
    const m = MONTH_NAME.exec(name);
    if (m) partitions.push(monthPartition(Number(m[1]), Number(m[2]) - 1));
  }
  return partitions.sort((a, b) => a.start - b.start);
}

async function exists(q: Queryable, name: string): Promise<boolean> {
  const [row] = await q.query<{ found: boolean }>('select to_regclass($1) is not null as found', [name]);
  return row?.found === true;
}

/**
 * Makes the partition `p` unless it is there; answers whether it made it. The rows of its month
 * that the default partition took meanwhile move into it, in the same transaction: the partition
 * is made as a table of its own, filled from the default, then attached (which builds its indexes
 * and checks that the default holds none of its month any more).
 */
export async function createAuditPartition(
  tx: StoreTransaction,
  p: AuditPartition,
  lockTimeoutMs = PARTITION_LOCK_TIMEOUT_MS,
): Promise<boolean> {
  await partitionLocks(tx, lockTimeoutMs);
  if (await exists(tx, p.name)) return false;
  const hasDefault = await exists(tx, AUDIT_DEFAULT_PARTITION);
  // The default first, as ATTACH will take it: no entry of the month may slip into it between
  // the move and the attach (which would then fail its check of the default).
  if (hasDefault) await tx.query(`lock table ${AUDIT_DEFAULT_PARTITION} in access exclusive mode`);
  await tx.query(`create table ${p.name} (like audit_log including defaults including storage)`);
  if (hasDefault) {
    await tx.query(
      `with moved as (
         delete from ${AUDIT_DEFAULT_PARTITION} where at >= ${bound(p.start)} and at < ${bound(p.end)}
         returning id, at, client_id, consumer, supplier, endpoint, identifiers, status, detail
       )
       insert into ${p.name} (id, at, client_id, consumer, supplier, endpoint, identifiers, status, detail)
       select * from moved`,
    );
  }
  await tx.query(
    `alter table audit_log attach partition ${p.name} for values from (${bound(p.start)}) to (${bound(p.end)})`,
  );
  return true;
}

/** Drops the partition `p` with its rows (the caller decided they are past keeping). */
export async function dropAuditPartition(
  tx: StoreTransaction,
  p: AuditPartition,
  lockTimeoutMs = PARTITION_LOCK_TIMEOUT_MS,
): Promise<boolean> {
  await partitionLocks(tx, lockTimeoutMs);
  if (!(await exists(tx, p.name))) return false;
  await tx.query(`drop table ${p.name}`);
  return true;
}

/**
 * Migration 17's first part: the unpartitioned trail renamed out of the way (its indexes dropped,
 * its id sequence kept for the new table), the partitioned `audit_log` made with the default
 * partition and one partition per month of the existing rows, the current month and the next
 * (by the database's clock). The migration's SQL then copies the rows and builds the indexes.
 */
export async function partitionAuditTrail(tx: Queryable): Promise<void> {
  const months = await tx.query<{ at: string }>(
    `select distinct to_char(date_trunc('month', at at time zone 'UTC'), 'YYYY-MM-DD"T00:00:00Z"') as at
     from audit_log`,
  );
  const [now] = await tx.query<{ ms: number }>(`select (extract(epoch from now()) * 1000)::int8 as ms`);
  const wanted = new Map<string, AuditPartition>();
  for (const t of [...months.map((r) => Date.parse(r.at)), Number(now!.ms)]) {
    const p = partitionOf(t);
    wanted.set(p.name, p);
  }
  const next = partitionAfter(Number(now!.ms), 1);
  wanted.set(next.name, next);

  for (const statement of [
    'alter table audit_log drop constraint audit_log_pkey',
    'drop index audit_log_at_idx',
    'drop index audit_log_identifiers_idx',
    'alter sequence audit_log_id_seq owned by none',
    'alter table audit_log rename to audit_log_unpartitioned',
    `create table audit_log (
       id bigint not null default nextval('audit_log_id_seq'),
       at timestamptz not null,
       client_id text,
       consumer text,
       supplier text,
       endpoint text not null,
       identifiers text[] not null,
       status smallint not null,
       detail text
     ) partition by range (at)`,
    'alter table audit_log alter column identifiers set storage external',
    'alter sequence audit_log_id_seq owned by audit_log.id',
    `create table ${AUDIT_DEFAULT_PARTITION} partition of audit_log default`,
  ])
    await tx.query(statement);
  for (const p of [...wanted.values()].sort((a, b) => a.start - b.start)) {
    await tx.query(
      `create table ${p.name} partition of audit_log for values from (${bound(p.start)}) to (${bound(p.end)})`,
    );
  }
}

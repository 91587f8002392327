// Migration 17 (docs/operations.md#partitions-and-retention) on both stores: a trail written by
// schema version 16, with entries in several months, becomes the partitioned one with every entry,
// its id and its month's partition; the id sequence goes on; new entries land in their month's
// partition, or in the default one when their month has none; the trail is still searched.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openStore, REGISTER_DATA_MIGRATIONS } from '../register/open-store.js';
import { partitionAfter, partitionOf } from '../store/audit-partitions.js';
import type { Database, StoreConfig } from '../store/database.js';
import { openEmbedded } from '../store/embedded.database.js';
import { migrate } from '../store/migrations.js';
import { openPostgres } from '../store/postgres.database.js';
import { freshStoreConfig, skipReason, STORE_KINDS } from '../../test/support/stores.js';
import { AuditRepository } from './audit.repository.js';

const KARI = '03048100014';
const OLA = '15107300121';

/** Entries as version 16 wrote them: months apart, and either side of a month's first instant. */
const OLD_ENTRIES = [
  { at: '2025-01-15T10:00:00.000Z', identifiers: [KARI], detail: null },
  { at: '2025-06-01T00:00:00.000Z', identifiers: [OLA], detail: null },
  { at: '2025-06-30T23:59:59.999Z', identifiers: [KARI, OLA], detail: null },
  { at: '2026-01-31T23:59:59.999Z', identifiers: [KARI], detail: 'epost' },
  { at: '2026-02-01T00:00:00.000Z', identifiers: [OLA], detail: null },
];

function openUnmigrated(config: StoreConfig): Promise<Database> {
  return config.kind === 'embedded'
    ? openEmbedded(config.dataDir)
    : openPostgres({ url: config.url, ...(config.schema ? { schema: config.schema } : {}) });
}

interface Row {
  id: number;
  at: string;
  identifiers: string[];
  detail: string | null;
  part: string;
}

const rowsOf = (db: Database) =>
  db.query<Row>(
    `select id, to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at, identifiers, detail,
            tableoid::regclass::text as part
     from audit_log order by id`,
  );

for (const kind of STORE_KINDS) {
  describe(
    `migration 17: the audit trail in monthly partitions (${kind})`,
    { skip: await skipReason(kind) },
    () => {
      it('keeps every entry and its id, each in its month, and goes on from the same ids', async () => {
        const { config, cleanup } = await freshStoreConfig(kind);
        try {
          const old = await openUnmigrated(config);
          let before: { id: number }[];
          try {
            await migrate(old, REGISTER_DATA_MIGRATIONS, { upTo: 16 });
            // A gap in the ids, as a rolled-back insert leaves: the sequence, not max(id), goes on.
            await old.query(`select setval('audit_log_id_seq', 41)`);
            for (const e of OLD_ENTRIES) {
              await old.query(
                `insert into audit_log (at, client_id, consumer, supplier, endpoint, identifiers, status, detail)
               values ($1::text::timestamptz, 'c', '974761076', null, '/rest/v2/personer', $2::text[], 200, $3)`,
                [e.at, e.identifiers, e.detail],
              );
            }
            await old.query(`select nextval('audit_log_id_seq')`);
            before = await old.query<{ id: number }>('select id from audit_log order by id');
          } finally {
            await old.close();
          }
          assert.deepEqual(
            before.map((r) => Number(r.id)),
            [42, 43, 44, 45, 46],
          );

          const db = await openStore(config);
          try {
            const [kindRow] = await db.query<{ relkind: string }>(
              `select relkind from pg_class where oid = 'audit_log'::regclass`,
            );
            assert.equal(kindRow!.relkind, 'p', 'partitioned');
            const rows = await rowsOf(db);
            assert.deepEqual(
              rows.map((r) => ({ ...r, id: Number(r.id) })),
              OLD_ENTRIES.map((e, i) => ({
                id: 42 + i,
                at: e.at,
                identifiers: e.identifiers,
                detail: e.detail,
                part: partitionOf(Date.parse(e.at)).name,
              })),
            );
            assert.deepEqual(
              rows.map((r) => r.part),
              [
                'audit_log_2025_01',
                'audit_log_2025_06',
                'audit_log_2025_06',
                'audit_log_2026_01',
                'audit_log_2026_02',
              ],
            );

            // The partitions: the months of the rows, the current and the next (no gap filled), the default.
            const now = Date.now();
            const parts = (
              await db.query<{ name: string }>(
                `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
               where i.inhparent = 'audit_log'::regclass order by 1`,
              )
            ).map((r) => r.name);
            assert.deepEqual(
              parts,
              [
                ...new Set([
                  'audit_log_2025_01',
                  'audit_log_2025_06',
                  'audit_log_2026_01',
                  'audit_log_2026_02',
                  partitionOf(now).name,
                  partitionAfter(now, 1).name,
                ]),
                'audit_log_default',
              ].sort(),
            );
            const gone = await db.query<{ found: boolean }>(
              `select to_regclass('audit_log_unpartitioned') is not null as found`,
            );
            assert.equal(gone[0]!.found, false, 'the old table is dropped');

            // The same indexes, the primary key on (id, at); identifiers kept out of line as before.
            const indexes = await db.query<{ name: string; def: string }>(
              `select indexrelid::regclass::text as name, pg_get_indexdef(indexrelid) as def from pg_index
             where indrelid = 'audit_log'::regclass order by 1`,
            );
            assert.deepEqual(
              indexes.map((i) => i.name),
              ['audit_log_at_idx', 'audit_log_identifiers_idx', 'audit_log_pkey'],
            );
            assert.match(indexes[2]!.def, /\(id, at\)/);
            assert.match(indexes[1]!.def, /USING gin \(identifiers\)/);
            const storage = await db.query<{ attstorage: string }>(
              `select distinct a.attstorage from pg_attribute a
             where a.attname = 'identifiers' and (a.attrelid = 'audit_log'::regclass
               or a.attrelid in (select inhrelid from pg_inherits where inhparent = 'audit_log'::regclass))`,
            );
            assert.deepEqual(
              storage.map((r) => r.attstorage),
              ['e'],
            );

            // New entries: the sequence goes on; each lands in its month's partition, or the default.
            const audit = new AuditRepository(db);
            const entry = (at: Date, identifiers: string[]) => ({
              at,
              clientId: 'c',
              consumer: '974761076',
              supplier: null,
              endpoint: '/rest/v2/personer',
              identifiers,
              status: 200,
            });
            await audit.record(entry(new Date(now), [KARI]));
            await audit.record(entry(new Date('2025-06-15T12:00:00Z'), [OLA]));
            await audit.record(entry(new Date('2030-05-05T05:05:05Z'), [KARI]));
            const added = (await rowsOf(db)).slice(OLD_ENTRIES.length);
            assert.deepEqual(
              added.map((r) => [Number(r.id), r.part]),
              [
                [48, partitionOf(now).name],
                [49, 'audit_log_2025_06'],
                [50, 'audit_log_default'],
              ],
            );

            // krr audit's search reads across the partitions, in id order.
            const found = [];
            for await (const e of audit.search({ person: KARI }, 2)) found.push(e.id);
            assert.deepEqual(found, [42, 44, 45, 48, 50]);
            const ranged = [];
            for await (const e of audit.search({
              consumer: '974761076',
              from: new Date('2025-06-01T00:00:00Z'),
              to: new Date('2026-02-01T00:00:00Z'),
            }))
              ranged.push(e.id);
            assert.deepEqual(ranged, [43, 44, 45, 49]);
          } finally {
            await db.close();
          }
        } finally {
          await cleanup();
        }
      });
    },
  );
}

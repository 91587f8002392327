// Group commit of audit entries: concurrent lookups' entries all land, in order, each caller's
// promise settling only after its own entry is written; a failed insert fails its callers. Both stores.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { skipReason, STORE_KINDS, openTestStore } from '../../test/support/stores.js';
import type { TestStore } from '../../test/support/stores.js';
import { AuditBatch } from './audit.batch.js';
import { AuditRepository } from './audit.repository.js';
import type { AuditEntry } from './audit.repository.js';

const entry = (n: number): AuditEntry => ({
  at: new Date(Date.UTC(2024, 0, 1, 12, 0, n)),
  clientId: `client-${n}`,
  consumer: '991825827',
  supplier: n % 2 ? null : '889640782',
  endpoint: '/rest/v2/personer',
  identifiers: Array.from({ length: 1 + (n % 5) }, (_, i) => `0${n}`.padStart(10, '0') + i),
  status: n % 3 ? 200 : 422,
});

for (const kind of STORE_KINDS) {
  describe(`AuditBatch (${kind})`, { skip: await skipReason(kind) }, () => {
    let store: TestStore;
    before(async () => {
      store = await openTestStore(kind);
    });
    after(async () => store?.dispose());

    it('writes every concurrent entry, each awaited by its own caller', async () => {
      const batch = new AuditBatch(store.db, 1);
      const repository = new AuditRepository(store.db);
      const written: number[] = [];
      const entries = Array.from({ length: 40 }, (_, n) => entry(n));
      await Promise.all(
        entries.map(async (e, n) => {
          await batch.record(e);
          // When a caller's promise settles, its entry is in the store.
          const latest = await repository.latest(100);
          assert.ok(
            latest.some((l) => l.clientId === e.clientId),
            `entry ${n} is stored when awaited`,
          );
          written.push(n);
        }),
      );
      assert.equal(written.length, 40);
      const latest = (await repository.latest(100)).reverse();
      assert.deepEqual(latest, entries);
    });

    it('flush() resolves once every entry recorded so far is written, nobody awaiting them', async () => {
      const batch = new AuditBatch(store.db, 1);
      const repository = new AuditRepository(store.db);
      await batch.flush(); // nothing pending: at once
      const entries = Array.from({ length: 10 }, (_, n) => ({ ...entry(n), clientId: `flushed-${n}` }));
      // As a lookup whose client went away: nobody awaits the entries (docs/operations.md#stopping).
      for (const e of entries) void batch.record(e);
      await batch.flush();
      assert.equal(batch.depth, 0);
      const stored = new Set((await repository.latest(100)).map((l) => l.clientId));
      for (const e of entries) assert.ok(stored.has(e.clientId), `${e.clientId} was not written`);
    });

    it('stores a 1000-identifier entry whole and uncompressed (migration 6)', async () => {
      const [column] = await store.db.query<{ attstorage: string }>(
        `select attstorage from pg_attribute where attrelid = 'audit_log'::regclass and attname = 'identifiers'`,
      );
      assert.equal(column?.attstorage, 'e', 'external: out of line, never compressed');
      const identifiers = Array.from({ length: 1000 }, (_, i) => String(10_000_000_000 + i * 7919));
      await new AuditBatch(store.db, 1).record({ ...entry(3), clientId: 'bulk', identifiers });
      const [stored] = await store.db.query<{ bytes: number; compression: string | null }>(
        `select pg_column_size(identifiers) as bytes, pg_column_compression(identifiers) as compression
         from audit_log where client_id = 'bulk'`,
      );
      assert.equal(stored?.compression, null);
      assert.ok(Number(stored?.bytes) > 11 * 1000, `${stored?.bytes} bytes: the identifiers as they are`);
      const [latest] = await new AuditRepository(store.db).latest(1);
      assert.deepEqual(latest?.identifiers, identifiers);
    });

    it('keeps what a refused lookup asked, each value cut to 11 characters: commas, empty strings, no identifier at all', async () => {
      const batch = new AuditBatch(store.db, 1);
      const asked = [
        ['12345678901,12345678902'],
        ['', '12345678901'],
        [''],
        [],
        ['1,', ',2', 'x'],
        ['1234567890,', '1'],
        ['12345678901,1234567890', '1'],
        ['12345678901', '12345678902'],
      ];
      await Promise.all(
        asked.map((identifiers, n) => batch.record({ ...entry(n), clientId: `asked-${n}`, identifiers })),
      );
      const stored = await new AuditRepository(store.db).latest(100);
      for (const [n, identifiers] of asked.entries()) {
        assert.deepEqual(
          stored.find((e) => e.clientId === `asked-${n}`)?.identifiers,
          identifiers.map((v) => v.slice(0, 11)),
          `entry ${n}`,
        );
      }
    });

    it('rejects the callers of a failed insert', async () => {
      const batch = new AuditBatch(store.db, 1);
      const bad = { ...entry(1), endpoint: null as unknown as string }; // endpoint is not null
      await assert.rejects(Promise.all([batch.record(bad), batch.record(entry(2))]));
    });
  });
}

// The outbox's repository on both stores: a message is kept only when the transaction that wrote
// it commits, and the dev inbox reads the newest first.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { enqueueMessage, OutboxRepository } from './outbox.repository.js';
import type { OutboxMessage } from './outbox.js';
import { openTestStore, skipReason, STORE_KINDS } from '../../test/support/stores.js';
import type { TestStore } from '../../test/support/stores.js';

const message = (recipient: string, text: string): OutboxMessage => ({
  kind: 'engangskode',
  channel: 'epost',
  recipient,
  subject: 'Engangskode',
  text,
});

for (const kind of STORE_KINDS) {
  describe(`the outbox repository (${kind})`, { skip: await skipReason(kind) }, () => {
    let store: TestStore;
    let outbox: OutboxRepository;
    before(async () => {
      store = await openTestStore(kind);
      outbox = new OutboxRepository(store.db);
    });
    after(async () => store?.dispose());

    it('keeps a message written in a committed transaction and none from a rolled-back one', async () => {
      const now = new Date('2026-12-04T10:00:00.123Z');
      await assert.rejects(
        store.db.transaction(async (tx) => {
          await enqueueMessage(tx, message('rolled@example.no', 'Koden er 111111'), now);
          throw new Error('the request failed after writing');
        }),
        /the request failed after writing/,
      );
      assert.deepEqual(await outbox.recent(10), [], 'nothing from the rolled-back transaction');

      await store.db.transaction(async (tx) => {
        await tx.query('select 1');
        await enqueueMessage(tx, message('kept@example.no', 'Koden er 222222'), now);
      });
      const [kept, ...rest] = await outbox.recent(10);
      assert.equal(rest.length, 0);
      assert.ok(kept);
      assert.equal(typeof kept.id, 'number');
      assert.deepEqual(
        { ...kept, id: 0 },
        {
          id: 0,
          kind: 'engangskode',
          channel: 'epost',
          recipient: 'kept@example.no',
          subject: 'Engangskode',
          text: 'Koden er 222222',
          createdAt: now,
          attempts: 0,
          deliveredAt: null,
          deliveredTo: null,
          failedAt: null,
        },
      );
      assert.deepEqual(await outbox.byId(kept.id), kept);
    });

    it('lists the newest first, at most the limit', async () => {
      const now = new Date('2026-12-04T11:00:00Z');
      for (const n of [1, 2, 3]) await outbox.enqueue(message(`n${n}@example.no`, `melding ${n}`), now);
      const recent = await outbox.recent(2);
      assert.deepEqual(
        recent.map((m) => m.text),
        ['melding 3', 'melding 2'],
      );
    });
  });
}

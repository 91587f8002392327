// `krr serve` runs the outbox's delivery worker (docs/minprofil.md#the-outbox): in dev mode with
// KRR_SMTP_URL an e-mail goes to the SMTP server, and an SMS, with no gateway configured, to the
// dev inbox. Stopping the server stops the worker.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../config/config.js';
import type { CliValues } from '../config/config.js';
import { enqueueMessage, OutboxRepository } from '../outbox/outbox.repository.js';
import type { StoreKind } from '../store/database.js';
import { copyEmptyEmbeddedStore, freshDatabase, skipReason, STORE_KINDS } from '../../test/support/stores.js';
import { startSmtpServer } from '../../test/support/smtp-server.js';
import { startServer } from './serve.command.js';

async function freshStore(kind: StoreKind): Promise<{ values: CliValues; cleanup: () => Promise<void> }> {
  if (kind === 'postgres') {
    const database = await freshDatabase('krr_outbox');
    return { values: { database: database.url }, cleanup: database.cleanup };
  }
  const dir = await mkdtemp(join(tmpdir(), 'krr-outbox-'));
  await copyEmptyEmbeddedStore(join(dir, 'data'));
  return { values: { dataDir: join(dir, 'data') }, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Waits until `check` resolves true (the worker's poll); fails after 10 s. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what}: not within 10 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const kind of STORE_KINDS) {
  describe(`krr serve's outbox (${kind})`, { skip: await skipReason(kind) }, () => {
    it('delivers e-mail to the configured SMTP server and SMS, unconfigured in dev mode, to the dev inbox', async () => {
      const smtp = await startSmtpServer();
      const store = await freshStore(kind);
      try {
        const config = loadConfig(
          { ...store.values, dev: true, port: 0, logLevel: 'silent' },
          { KRR_SMTP_URL: smtp.url, KRR_SMTP_FROM: 'KRR dev <krr@localhost>' },
        );
        const server = await startServer(config, { demo: false });
        try {
          assert.deepEqual(Object.fromEntries(server.outbox.destinations), {
            epost: 'smtp',
            sms: 'dev-inbox',
          });
          await server.db.transaction(async (tx) => {
            await enqueueMessage(
              tx,
              {
                kind: 'engangskode',
                channel: 'epost',
                recipient: 'nora@example.no',
                subject: 'Kode',
                text: 'Koden er 424242.',
              },
              new Date(),
            );
            await enqueueMessage(
              tx,
              {
                kind: 'engangskode',
                channel: 'sms',
                recipient: '41234567',
                subject: '',
                text: 'Koden er 525252.',
              },
              new Date(),
            );
          });
          const mail = await smtp.nextTo('nora@example.no');
          assert.equal(mail.text, 'Koden er 424242.');
          assert.equal(mail.fromHeader, '"KRR dev" <krr@localhost>');
          const outbox = new OutboxRepository(server.db);
          await eventually(
            async () => (await outbox.recent(2)).every((m) => m.deliveredAt !== null),
            'both marked delivered',
          );
          const [smsMessage, email] = await outbox.recent(2);
          assert.equal(smsMessage?.deliveredTo, 'dev-inbox');
          assert.equal(email?.deliveredTo, 'smtp');
        } finally {
          await server.close();
        }
      } finally {
        await smtp.close();
        await store.cleanup();
      }
    });
  });
}

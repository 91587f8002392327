// `krr sync` end to end (docs/change-feed.md#krr-sync): real krr apps listening on loopback,
// their real change feed (src/changes), on both stores. A source with persons imported through the
// import path; a second register, empty, synced with --once must end with an identical export, also
// after the source changes (updates, deletions, new persons); and a third register synced from the
// second must too: synced changes are local changes, so a chain of registers works.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isDerCertificate } from '../../src/certificate/certificate.js';
import { syntheticPersons } from '../../src/demo/synthetic-persons.js';
import type { Person, PersonRules } from '../../src/person/person.js';
import { renderExportLine, renderPerson } from '../../src/answer/answer.render.js';
import { PersonWriter } from '../../src/register/person.writer.js';
import type { Database } from '../../src/store/database.js';
import { exportOf } from '../support/fake-feed.js';
import { openTestStore, skipReason, STORE_KINDS } from '../support/stores.js';
import type { TestStore } from '../support/stores.js';
import { startTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';
import { importPersons } from '../../src/transfer/import.service.js';
import { FeedClient } from '../../src/sync/feed.client.js';
import { DEFAULT_SYNC_SCOPES, staticToken } from '../../src/sync/maskinporten.client.js';
import { SourceRefusedError } from '../../src/sync/sync.errors.js';
import { syncOnce } from '../../src/sync/sync.service.js';

const RULES: PersonRules = { allowSynthetic: true, isCertificate: isDerCertificate };
const NOW = Date.UTC(2025, 0, 15, 12);

function persons(count: number, seed: number): Person[] {
  return [...syntheticPersons(count, { seed, now: NOW })];
}

async function importInto(db: Database, list: readonly Person[]): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/require-await -- an AsyncIterable, as the import takes; nothing to await
  async function* lines() {
    for (const p of list) yield renderExportLine(renderPerson(p));
  }
  await importPersons(new PersonWriter(db), lines(), { rules: RULES });
}

for (const kind of STORE_KINDS) {
  describe(
    `krr sync between real krr registers over HTTP (${kind} store)`,
    { skip: await skipReason(kind) },
    () => {
      let source: TestApp;
      let middle: TestApp;
      let end: TestStore;
      let sourceUrl: string;
      let middleUrl: string;
      let token: string;

      before(async () => {
        [source, middle, end] = await Promise.all([
          startTestApp(kind),
          startTestApp(kind),
          openTestStore(kind),
        ]);
        sourceUrl = await source.app.listen({ port: 0, host: '127.0.0.1' });
        middleUrl = await middle.app.listen({ port: 0, host: '127.0.0.1' });
        // Both apps trust the same test issuer.
        token = await source.token(DEFAULT_SYNC_SCOPES);
      });
      after(async () => {
        await Promise.all([source?.close(), middle?.close(), end?.dispose()]);
      });

      const sync = (db: Database, from: string, tokenForSource = token) =>
        syncOnce({ db, source: new FeedClient({ from, auth: staticToken(tokenForSource) }), rules: RULES });

      it('an empty register synced with --once from one of 50 persons has the same export; then a third from it', async () => {
        const initial = persons(50, 11);
        await importInto(source.store.db, initial);
        const expected = await exportOf(source.store.db);
        assert.equal(expected.trim().split('\n').length, 50);

        const first = await sync(middle.store.db, sourceUrl);
        assert.equal(first.persons, 50);
        assert.equal(first.caughtUp, true);
        assert.ok(first.cursor > 200_000_000, 'the source’s change ids start above 200 000 000');
        assert.equal(await exportOf(middle.store.db), expected);

        // The chain: the middle register's own feed carries what it synced.
        const chained = await sync(end.db, middleUrl);
        assert.equal(chained.persons, 50);
        assert.equal(await exportOf(end.db), expected);
      });

      it('follows the source’s updates, deletions and new persons, and a re-run changes nothing', async () => {
        const changed = persons(56, 12);
        const deleted = persons(50, 11)
          .filter((p) => p.status === 'AKTIV' && p.kontaktinformasjon)
          .slice(0, 2);
        await source.write([
          ...[3, 9, 17, 30, 44].map((i) => changed[i]!),
          ...changed.slice(50),
          ...deleted.map((p): Person => ({
            personidentifikator: p.personidentifikator,
            status: 'SLETTET',
            reservasjon: 'NEI',
          })),
        ]);
        const expected = await exportOf(source.store.db);
        for (const p of deleted) {
          assert.ok(
            expected.includes(`{"personidentifikator":"${p.personidentifikator}","status":"SLETTET"}\n`),
          );
        }

        const second = await sync(middle.store.db, sourceUrl);
        assert.equal(second.persons, 5 + 6 + 2);
        assert.equal(await exportOf(middle.store.db), expected);
        await sync(end.db, middleUrl);
        assert.equal(await exportOf(end.db), expected);

        const again = await sync(middle.store.db, sourceUrl);
        assert.equal(again.persons, 0);
        const downstream = await sync(end.db, middleUrl);
        assert.equal(downstream.persons, 0, 'writing an unchanged state is no change, so nothing flows on');
      });

      it('pages of 1000: a source of 2,100 more persons takes three pages and ends equal', async () => {
        await importInto(source.store.db, persons(2_200, 13).slice(100));
        const expected = await exportOf(source.store.db);
        const summary = await sync(middle.store.db, sourceUrl);
        assert.equal(summary.pages, 3);
        assert.equal(summary.persons, 2_100);
        assert.equal(await exportOf(middle.store.db), expected);
      });

      it('a token without the feed scope is refused with 403 by the real feed', async () => {
        const weak = await source.token(['krr:global/kontaktinformasjon.read']);
        const err = await sync(end.db, sourceUrl, weak).catch((e: unknown) => e);
        assert.ok(err instanceof SourceRefusedError);
        assert.equal(err.status, 403);
      });
    },
  );
}

// `krr sync` (docs/change-feed.md#krr-sync) on both stores, against a real source: a small change feed
// served over loopback with node:http, shaped as docs/change-feed.md#answer says (pages of 3 here), its
// persons in the wire shape with the feed's derived fields. After each run the target's export must equal the
// source's persons' export lines. Covers resuming after an interruption, idempotent re-runs,
// SLETTET, refusals that write nothing, retries, polling with back-off, a moved cursor, a reset source.

import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isDerCertificate } from '../certificate/certificate.js';
import type { PersonRules } from '../person/person.js';
import { exportOf, FakeFeed, FIRST_ID, persons, SOURCE_TOKEN, wireOf } from '../../test/support/fake-feed.js';
import { openTestStore, skipReason, STORE_KINDS } from '../../test/support/stores.js';
import type { TestStore } from '../../test/support/stores.js';
import { FeedClient } from './feed.client.js';
import type { FeedSource } from './feed.client.js';
import { staticToken } from './maskinporten.client.js';
import {
  SourceAnswerError,
  SourceRefusedError,
  SourceUnavailableError,
  SyncConflictError,
  SyncDataError,
} from './sync.errors.js';
import { abortableSleep, cursorName, follow, readCursor, syncOnce } from './sync.service.js';
import type { SyncOptions } from './sync.service.js';

const TOKEN = SOURCE_TOKEN;
const RULES: PersonRules = { allowSynthetic: true, isCertificate: isDerCertificate };
for (const kind of STORE_KINDS) {
  describe(
    `krr sync against a change feed over HTTP (${kind} store)`,
    { skip: await skipReason(kind) },
    () => {
      const feed = new FakeFeed();
      let store: TestStore;

      // One store for the suite (an embedded store takes seconds to open), emptied before each test.
      before(async () => {
        await feed.start();
        store = await openTestStore(kind);
      });
      after(async () => {
        await feed.stop();
        await store.dispose();
      });
      beforeEach(async () => {
        await store.db.query('delete from person');
        await store.db.query("delete from register_setting where name like 'sync:%'");
        feed.restartWith([]);
        feed.requests = [];
        feed.refuse = undefined;
        feed.failNext = 0;
        feed.pageSize = 3;
      });

      const client = (token = TOKEN) => new FeedClient({ from: `${feed.url}/`, auth: staticToken(token) });
      const options = (extra: Partial<SyncOptions> = {}): SyncOptions => ({
        db: store.db,
        source: client(),
        rules: RULES,
        backoff: { initialMs: 10, maxMs: 40 },
        sleep: (_ms, signal) => abortableSleep(1, signal),
        ...extra,
      });

      it('copies the source page by page; the export equals the source and the cursor is its last id', async () => {
        feed.put(persons(10, 1));
        const summary = await syncOnce(options());
        assert.equal(await exportOf(store.db), feed.expectedExport());
        assert.deepEqual(feed.requests, [0, FIRST_ID + 2, FIRST_ID + 5, FIRST_ID + 8]);
        assert.equal(summary.persons, 10);
        assert.equal(summary.pages, 4);
        assert.equal(summary.caughtUp, true);
        assert.equal(summary.stopped, false);
        assert.equal(summary.startCursor, 0);
        assert.equal(summary.cursor, feed.siste);
        assert.equal(summary.source, feed.url, 'the URL without its trailing slash names the cursor');
        assert.equal(await readCursor(store.db, feed.url), feed.siste);
        const [row] = await store.db.query<{ value: string }>(
          'select value from register_setting where name = $1',
          [`sync:${feed.url}`],
        );
        assert.equal(row?.value, String(feed.siste));
        // The feed's derived fields are recomputed here, not reported as unknown.
        assert.equal(summary.ignoredFields.size, 0);
      });

      it('an empty source: one page, nothing written, caught up', async () => {
        const summary = await syncOnce(options());
        assert.equal(summary.persons, 0);
        assert.equal(summary.pages, 1);
        assert.equal(summary.caughtUp, true);
        assert.equal(await exportOf(store.db), '');
      });

      it('follows changes between runs: updated, new and deleted persons, from the stored cursor', async () => {
        const first = persons(10, 1);
        feed.put(first);
        await syncOnce(options());
        const cursor = feed.siste;

        // Same identifiers, other content (seed 2) for three persons; two new persons; one deleted.
        const changed = persons(12, 2);
        feed.put([changed[1]!, changed[4]!, changed[7]!, changed[10]!, changed[11]!]);
        const victim = first.find(
          (p) => p.status === 'AKTIV' && p.kontaktinformasjon && ![1, 4, 7].includes(first.indexOf(p)),
        )!;
        feed.put([
          { personidentifikator: victim.personidentifikator, status: 'SLETTET', reservasjon: 'NEI' },
        ]);
        feed.requests = [];

        const summary = await syncOnce(options());
        assert.equal(feed.requests[0], cursor, 'the second run starts where the first ended');
        assert.equal(summary.startCursor, cursor);
        assert.equal(summary.persons, 6);
        assert.equal(summary.pages, 2);
        assert.equal(await exportOf(store.db), feed.expectedExport());
        const exported = (await exportOf(store.db)).split('\n');
        assert.ok(
          exported.includes(`{"personidentifikator":"${victim.personidentifikator}","status":"SLETTET"}`),
          'the deleted person keeps its identifier and status, and nothing else',
        );
      });

      it('SLETTET in the feed removes contact data, mailbox and certificate locally, also when the feed still carries them', async () => {
        const withEverything = persons(40, 1).find(
          (p) => p.status === 'AKTIV' && p.kontaktinformasjon && p.digital_post && p.sertifikat,
        )!;
        feed.put([withEverything]);
        await syncOnce(options());
        assert.match(await exportOf(store.db), /digital_post/);

        const { personidentifikator } = withEverything;
        feed.putWire(personidentifikator, { ...wireOf(withEverything), status: 'SLETTET' });
        feed.register.set(personidentifikator, {
          personidentifikator,
          status: 'SLETTET',
          reservasjon: 'NEI',
        });
        await syncOnce(options());
        assert.equal(
          await exportOf(store.db),
          `{"personidentifikator":"${personidentifikator}","status":"SLETTET"}\n`,
        );
      });

      it('IKKE_REGISTRERT in the feed (a person removed at the source, docs/change-feed.md#removed-persons) removes the person here', async () => {
        const list = persons(5, 3);
        feed.put(list);
        await syncOnce(options());
        const gone = list[0]!.personidentifikator;
        assert.match(await exportOf(store.db), new RegExp(gone));
        feed.putWire(gone, {
          personidentifikator: gone,
          status: 'IKKE_REGISTRERT',
          varslingsstatus: 'KAN_IKKE_VARSLES',
        });
        feed.register.delete(gone);
        const summary = await syncOnce(options());
        assert.equal(summary.persons, 1);
        assert.equal(await exportOf(store.db), feed.expectedExport());
        assert.doesNotMatch(await exportOf(store.db), new RegExp(gone));
      });

      it('resumes after being stopped midway: continues from the stored cursor, losing and repeating nothing', async () => {
        feed.put(persons(14, 1));
        const controller = new AbortController();
        const stopped = await syncOnce(
          options({
            signal: controller.signal,
            onProgress: (p) => {
              if (p.pages === 2) controller.abort(); // e.g. SIGINT during page 2: it is still committed
            },
          }),
        );
        assert.equal(stopped.stopped, true);
        assert.equal(stopped.caughtUp, false);
        assert.equal(stopped.pages, 2);
        assert.equal(stopped.cursor, FIRST_ID + 5);
        assert.equal(await readCursor(store.db, feed.url), FIRST_ID + 5);
        const partial = (await exportOf(store.db)).trim().split('\n');
        assert.equal(partial.length, 6);

        // Meanwhile the source changes a person already synced and one not yet synced.
        const changed = persons(14, 3);
        feed.put([changed[0]!, changed[12]!]);

        const resumed = await syncOnce(options());
        assert.equal(resumed.startCursor, FIRST_ID + 5);
        assert.equal(resumed.caughtUp, true);
        assert.equal(resumed.persons, 14 - 6 + 1, 'the rest, plus the changed person that moved to the end');
        assert.deepEqual(feed.requests.slice(0, 3), [0, FIRST_ID + 2, FIRST_ID + 5]);
        assert.equal(new Set(feed.requests).size, feed.requests.length, 'no page was asked for twice');
        assert.equal(await exportOf(store.db), feed.expectedExport());
      });

      it('a bad person stops the run naming its position (never the identifier), and nothing of its page is written', async () => {
        const list = persons(9, 1);
        feed.put(list);
        const bad = list[4]!; // page 2, second person
        feed.putWire(bad.personidentifikator, {
          ...wireOf(bad),
          status: 'AKTIV',
          kontaktinformasjon: { mobiltelefonnummer: '12' },
        });
        // Moved to the end of the feed: pages are now 0,1,2 | 3,5,6 | 7,8,bad.
        const err = await syncOnce(options()).then(
          () => assert.fail('expected a refusal of the bad person'),
          (e: unknown) => e,
        );
        assert.ok(err instanceof SyncDataError);
        assert.match(
          err.message,
          new RegExp(
            `page after change id ${FIRST_ID + 6} \\(up to ${feed.siste}\\): person 3 of 3 \\(list\\[2\\]\\) is not valid here: mobiltelefonnummer is not a valid mobile number at /kontaktinformasjon/mobiltelefonnummer; nothing of this page was written`,
          ),
        );
        assert.ok(!err.message.includes(bad.personidentifikator));
        assert.equal(await readCursor(store.db, feed.url), FIRST_ID + 6, 'the pages before it are committed');
        assert.equal((await exportOf(store.db)).trim().split('\n').length, 6);

        // The source corrects the person: the next run takes it from the stored cursor.
        feed.put([bad]);
        feed.requests = [];
        await syncOnce(options());
        assert.equal(feed.requests[0], FIRST_ID + 6);
        assert.equal(await exportOf(store.db), feed.expectedExport());
      });

      it('is idempotent: a re-run from the start rewrites the same state and changes no change id', async () => {
        feed.put(persons(10, 1));
        await syncOnce(options());
        const changeIds = () =>
          store.db.query<{ personidentifikator: string; change_id: number }>(
            'select personidentifikator, change_id from person order by personidentifikator',
          );
        const before = await changeIds();
        const exported = await exportOf(store.db);

        const again = await syncOnce(options());
        assert.equal(again.persons, 0);
        assert.equal(again.pages, 1);

        const restarted = await syncOnce(options({ fromId: 0 }));
        assert.equal(restarted.persons, 10);
        assert.equal(await exportOf(store.db), exported);
        assert.deepEqual(await changeIds(), before, 'the same state is no change');
        assert.equal(await readCursor(store.db, feed.url), feed.siste);
      });

      it('a 403 from the source is a SourceRefusedError with its detail, and writes nothing', async () => {
        feed.put(persons(5, 1));
        feed.refuse = {
          status: 403,
          detail: 'the token has none of the scopes this endpoint needs: krr:global/hentendring.read',
        };
        const err = await syncOnce(options()).catch((e: unknown) => e);
        assert.ok(err instanceof SourceRefusedError);
        assert.equal(err.status, 403);
        assert.equal(err.detail, feed.refuse.detail);
        assert.match(
          err.message,
          /^the source refused the change feed request: HTTP 403: the token has none/,
        );
        assert.ok(!err.message.includes(TOKEN));
        assert.equal(await exportOf(store.db), '');
        assert.equal(await readCursor(store.db, feed.url), undefined);
      });

      it('a token the source does not accept is a 401 refusal, asked once', async () => {
        feed.put(persons(2, 1));
        const err = await syncOnce(options({ source: client('wrong-token') })).catch((e: unknown) => e);
        assert.ok(err instanceof SourceRefusedError);
        assert.equal(err.status, 401);
        assert.match(
          err.message,
          /HTTP 401: the access token is missing or invalid \(the token was not accepted\)/,
        );
        assert.equal(await exportOf(store.db), '');
      });

      it('retries a source that answers 5xx, with back-off, and gives up after the retries', async () => {
        feed.put(persons(4, 1));
        feed.failNext = 2;
        const retries: number[] = [];
        await syncOnce(options({ onRetry: (_e, ms) => retries.push(ms) }));
        assert.deepEqual(retries, [10, 20]);
        assert.equal(await exportOf(store.db), feed.expectedExport());

        feed.failNext = 100;
        feed.put(persons(5, 2));
        const err = await syncOnce(options({ retries: 2 })).catch((e: unknown) => e);
        assert.ok(err instanceof SourceUnavailableError);
        assert.match(err.message, /answered HTTP 503/);
        assert.equal(feed.failNext, 100 - 3, 'one try and two retries');
      });

      it('follow: polls with back-off (doubling to the maximum, reset by changes) and stops on the signal', async () => {
        feed.put(persons(5, 1));
        const extra = persons(6, 2)[5]!;
        const controller = new AbortController();
        const delays: number[] = [];
        const summary = await follow(
          options({
            signal: controller.signal,
            sleep: (ms, signal) => {
              delays.push(ms);
              if (delays.length === 4) feed.put([extra]); // arrives while idle
              if (delays.length === 7) controller.abort(); // SIGTERM while waiting
              return abortableSleep(1, signal);
            },
          }),
        );
        assert.deepEqual(delays, [10, 20, 40, 40, 10, 20, 40]);
        assert.equal(summary.stopped, true);
        assert.equal(summary.persons, 6);
        assert.equal(summary.caughtUp, true);
        assert.equal(await exportOf(store.db), feed.expectedExport());
      });

      it('follow: a source that is down is retried until it answers', async () => {
        feed.put(persons(3, 1));
        feed.failNext = 4;
        const controller = new AbortController();
        const retries: number[] = [];
        const summary = await follow(
          options({
            signal: controller.signal,
            retries: 0, // not used by follow: it never gives up on a retryable failure
            onRetry: (_e, ms) => retries.push(ms),
            onProgress: (p) => {
              if (p.caughtUp) controller.abort();
            },
          }),
        );
        assert.deepEqual(retries, [10, 20, 40, 40]);
        assert.equal(summary.persons, 3);
        assert.equal(await exportOf(store.db), feed.expectedExport());
      });

      it('refuses to go on when another process moved the cursor', async () => {
        feed.put(persons(9, 1));
        const inner = client();
        let calls = 0;
        const meddling: FeedSource = {
          url: inner.url,
          async fetchPage(fra) {
            if (++calls === 2) {
              await store.db.query('update register_setting set value = $2 where name = $1', [
                cursorName(inner.url),
                String(FIRST_ID),
              ]);
            }
            return inner.fetchPage(fra);
          },
        };
        const err = await syncOnce(options({ source: meddling })).catch((e: unknown) => e);
        assert.ok(err instanceof SyncConflictError);
        assert.match(err.message, /another krr sync/);
        assert.equal((await exportOf(store.db)).trim().split('\n').length, 3, 'only the first page');
      });

      it('a source whose ids went back below the cursor (reset) is refused with the way out (--restart)', async () => {
        feed.put(persons(6, 1));
        await syncOnce(options());
        feed.restartWith(persons(2, 2));
        const err = await syncOnce(options()).catch((e: unknown) => e);
        assert.ok(err instanceof SourceAnswerError);
        assert.match(err.message, /below this register's sync cursor .* --restart/);
        await syncOnce(options({ fromId: 0 }));
        // A restart rewrites what the source has; persons only this register holds stay as they were.
        const exported = await exportOf(store.db);
        for (const line of feed.expectedExport().trim().split('\n')) assert.ok(exported.includes(line));
      });
    },
  );
}

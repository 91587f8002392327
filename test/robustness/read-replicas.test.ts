// Read replicas for real (docs/operations.md#replicas): a PostgreSQL primary and a streaming
// replica of this file's own (test/support/pg-replica.ts), and two `krr serve` servers in this
// process on the primary, A reading through the replica and B without one. The replica's replay is
// paused on purpose to make it lag. Checked: lookups are answered by the replica while it is fresh
// (seen in A's /metrics by store role); a write made while the replica lags is seen by A's lookups
// (the replica is passed over) and the cache never gives the old record again; the cache does not
// keep rows from a replica behind its watermark (the hazard of docs/operations.md#replicas, shown
// to be real without the safeguard); the feed paged through A and B in turn never goes back and
// misses nothing while the replica lags; a read the replica cancelled for a recovery conflict is
// answered by the primary; export runs with a replica; and with the replica stopped no request fails.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import postgres from 'postgres';
import { after, before, describe, it } from 'node:test';
import type { AccessToken } from '../../src/access/access-token.js';
import { viewFor } from '../../src/access/access.view.js';
import { devKeyFor, mintDevToken } from '../../src/auth/dev-issuer.js';
import { main } from '../../src/cli/main.js';
import { startServer } from '../../src/cli/serve.command.js';
import type { RunningServer } from '../../src/cli/serve.command.js';
import { loadConfig } from '../../src/config/config.js';
import { idportenIssuerOf } from '../../src/idporten/idporten-issuer.js';
import { mintIdportenAccessToken } from '../../src/idporten/idporten.tokens.js';
import { syntheticPersons } from '../../src/demo/synthetic-persons.js';
import { CachedLookupSource } from '../../src/lookup/lookup.cache.js';
import { LookupService } from '../../src/lookup/lookup.service.js';
import type { Language, Person } from '../../src/person/person.js';
import { openStore } from '../../src/register/open-store.js';
import { PersonRepository } from '../../src/register/person.repository.js';
import { PersonWriter } from '../../src/register/person.writer.js';
import type { Database } from '../../src/store/database.js';
import { observeDatabase } from '../../src/store/observed.database.js';
import { openPostgres } from '../../src/store/postgres.database.js';
import { ReplicaSet } from '../../src/store/read-replicas.js';
import { replicaClusterUnavailable, startReplicaCluster } from '../support/pg-replica.js';
import type { ReplicaCluster } from '../support/pg-replica.js';
import { skipReason } from '../support/stores.js';

const PERSONS = [...syntheticPersons(400, { seed: 21 })].filter((p) => p.status === 'AKTIV');
const SCOPES = ['krr:global/kontaktinformasjon.read', 'krr:global/digitalpost.read'];
const FEED_SCOPES = [...SCOPES, 'krr:global/hentendring.read'];
const DEADLINE_MS = 15_000;

async function skip(): Promise<string | false> {
  const store = await skipReason('postgres');
  if (store) return store;
  const cluster = await replicaClusterUnavailable();
  if (cluster) console.log(`# skipping the read replica tests: ${cluster}`);
  return cluster ?? false;
}

/** `p` with another language: a new change id. */
function withLanguage(p: Person, spraak: Language): Person {
  return { ...p, spraak, spraak_oppdatert: Math.floor(Date.now() / 1000) * 1000 };
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + DEADLINE_MS;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`not within ${DEADLINE_MS} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('read replicas: a real primary and streaming replica', { skip: await skip() }, () => {
  let cluster: ReplicaCluster;
  let primary: Database;
  let writer: PersonWriter;
  let a: RunningServer; // reads through the replica
  let b: RunningServer; // primary only
  const tokens = new Map<RunningServer, { lookup: string; feed: string }>();

  async function tokensOf(server: RunningServer) {
    const jwk = await devKeyFor(server.config.store, server.db);
    const mint = (scopes: string[]) =>
      mintDevToken(jwk, { issuer: server.config.auth.devIssuer, scopes, consumer: '0192:991825827' });
    tokens.set(server, { lookup: await mint(SCOPES), feed: await mint(FEED_SCOPES) });
  }

  async function post(server: RunningServer, path: string, body: unknown, feed = false) {
    const res = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tokens.get(server)![feed ? 'feed' : 'lookup']}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    return { status: res.status, text: await res.text() };
  }

  async function lookup(server: RunningServer, ids: readonly string[]): Promise<string> {
    const res = await post(server, '/rest/v2/personer', { personidentifikatorer: ids });
    assert.equal(res.status, 200, res.text);
    return res.text;
  }

  async function metrics(server: RunningServer): Promise<string> {
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    return res.text();
  }

  /** The value of one sample in the metrics text (0 when absent). */
  function sample(text: string, series: string): number {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? 0 : Number(line.slice(series.length + 1));
  }

  const replicaRaw = 'krr_db_operation_duration_seconds_count{role="replica",replica="0",operation="raw"}';
  const healthy = 'krr_db_replica_healthy{replica="0"}';

  before(async () => {
    cluster = await startReplicaCluster();
    primary = await openStore({ kind: 'postgres', url: cluster.primaryUrl });
    writer = new PersonWriter(primary);
    await writer.write(PERSONS);
    const serve = (readDatabase: string[]) =>
      startServer(
        loadConfig(
          { database: cluster.primaryUrl, readDatabase, dev: true, port: 0, jobs: false, logLevel: 'warn' },
          {},
        ),
        { demo: false },
      );
    a = await serve([cluster.replicaUrl]);
    b = await serve([]);
    await tokensOf(a);
    await tokensOf(b);
  });

  after(async () => {
    await a?.close();
    await b?.close();
    await primary?.close();
    await cluster?.dispose();
  });

  it('answers lookups from the replica while it is fresh, and labels it by index only', async () => {
    await until('the replica is fresh', async () => sample(await metrics(a), healthy) === 1);
    const before = sample(await metrics(a), replicaRaw);
    const ids = PERSONS.slice(0, 50).map((p) => p.personidentifikator);
    const text = await lookup(a, ids);
    assert.equal((JSON.parse(text) as { personer: unknown[] }).personer.length, 50);
    const m = await metrics(a);
    assert.ok(sample(m, replicaRaw) > before, 'the records were read on replica 0');
    assert.match(m, /krr_db_replica_lag_seconds\{replica="0"\} [0-9.e-]+/);
    assert.match(m, /krr_db_replica_lag_bytes\{replica="0"\} \d+/);
    assert.match(m, /krr_db_operations_in_flight\{role="replica",replica="0"\}/);
    assert.ok(!m.includes(new URL(cluster.replicaUrl).port), 'no address of the replica in the metrics');
    // B has no replica: none of its reads are labelled so.
    assert.ok(!(await metrics(b)).includes('role="replica"'));
  });

  it("answers the person endpoint's GET from the replica", async () => {
    await until('the replica is fresh', async () => sample(await metrics(a), healthy) === 1);
    const replicaQuery = replicaRaw.replace('operation="raw"', 'operation="query"');
    const before = sample(await metrics(a), replicaQuery);
    const p = PERSONS[10]!;
    const token = await mintIdportenAccessToken(await devKeyFor(a.config.store, a.db), {
      issuer: idportenIssuerOf(a.config),
      pid: p.personidentifikator,
      scopes: ['krr:user/kontaktinformasjon.read'],
      clientId: 'krr-replica-test',
      acr: 'idporten-loa-high',
      expiresInSeconds: 300,
    });
    const res = await fetch(`${a.url}/rest/v1/person`, { headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.equal(
      (JSON.parse(text) as { personidentifikator: string }).personidentifikator,
      p.personidentifikator,
    );
    assert.ok(sample(await metrics(a), replicaQuery) > before, 'the person was read on replica 0');
  });

  it('never reads from a read database that is not a standby', async () => {
    const set = await ReplicaSet.open(primary, [cluster.primaryUrl], {});
    try {
      await set.check();
      assert.equal(set.status()[0]!.healthy, false);
      let used = 0;
      const reads = set.router(primary, (db) => ({
        ...db,
        query: (text, params) => {
          used++;
          return db.query(text, params);
        },
      }));
      await reads.query('select 1');
      assert.equal(used, 0, 'the statement went to the primary');
    } finally {
      await set.close();
    }
  });

  it('passes a lagging replica over: a write through another node is seen, and never the old record again', async () => {
    const p = PERSONS[60]!;
    const id = p.personidentifikator;
    assert.doesNotMatch(await lookup(a, [id]), /"spraak":"se"/);
    // Cached on A now, from the replica.
    assert.doesNotMatch(await lookup(a, [id]), /"spraak":"se"/);
    await cluster.pauseReplay();
    try {
      await writer.write([withLanguage(p, 'se')]);
      // B reads the primary; A must not answer from the paused replica once it is beyond the bound.
      assert.match(await lookup(b, [id]), /"spraak":"se"/);
      await until('A sees the write', async () => /"spraak":"se"/.test(await lookup(a, [id])));
      assert.equal(sample(await metrics(a), healthy), 0, 'the paused replica is passed over');
      // Neither the cache nor a read may go back to the old record, while paused and after.
      for (let i = 0; i < 20; i++) assert.match(await lookup(a, [id]), /"spraak":"se"/);
    } finally {
      await cluster.resumeReplay();
    }
    await until('the replica is fresh again', async () => sample(await metrics(a), healthy) === 1);
    for (let i = 0; i < 20; i++) assert.match(await lookup(a, [id]), /"spraak":"se"/);
  });

  it('never keeps rows from a replica behind the cache watermark (and without the safeguard it would)', async () => {
    // A store whose statements go to the primary and whose raw reads (the lookup rows) go to the
    // replica: the cache's probe sees the newest change while its fill comes from the lagging
    // replica, the order that makes the hazard. Real connections to both servers.
    const replicaDb = await openPostgres({ url: cluster.replicaUrl, createSchema: false });
    const mixed: Database = {
      ...primary,
      query: (text, params) => primary.query(text, params),
      queryRaw: (text, params) => replicaDb.queryRaw(text, params),
    };
    const clock = { now: () => Date.now() };
    const audit = { record: async () => {} };
    const caller: AccessToken = {
      issuer: 'test',
      issuerKind: 'maskinporten',
      clientId: 'test',
      scopes: [],
      consumer: '991825827',
      supplier: null,
      pid: null,
    };
    const serviceOver = (cache: CachedLookupSource) =>
      new LookupService({
        persons: new PersonRepository(mixed),
        source: cache,
        audit,
        clock,
        identifierRules: { allowSynthetic: true },
      });
    const safe = serviceOver(
      new CachedLookupSource(new PersonRepository(mixed), 1 << 24, undefined, new PersonRepository(primary)),
    );
    const unsafe = serviceOver(new CachedLookupSource(new PersonRepository(mixed), 1 << 24));
    const ask = async (service: LookupService, id: string) =>
      (
        await service.lookupBytes(
          {
            endpoint: '/rest/v2/personer',
            identifiers: [id],
            includeUnregistered: true,
            view: viewFor(31, undefined),
          },
          caller,
        )
      ).toString('utf8');
    const p = PERSONS[70]!;
    const id = p.personidentifikator;
    try {
      await until('the replica has the person', async () => {
        const [row] = await replicaDb.query<{ n: number }>(
          'select count(*)::int8 as n from person where personidentifikator = $1',
          [id],
        );
        return row!.n === 1;
      });
      await ask(safe, id);
      await ask(unsafe, id);
      await cluster.pauseReplay();
      try {
        await writer.write([withLanguage(p, 'en')]);
        assert.match(await ask(safe, id), /"spraak":"en"/, 'the stale row was read again from the primary');
        assert.doesNotMatch(await ask(unsafe, id), /"spraak":"en"/, 'without it, the stale row is taken');
      } finally {
        await cluster.resumeReplay();
      }
      await until('the replica replayed the write', async () => {
        const [row] = await replicaDb.query<{ n: number }>(
          'select count(*)::int8 as n from person where personidentifikator = $1 and lookup like \'%"en"%\'',
          [id],
        );
        return row!.n === 1;
      });
      assert.match(await ask(safe, id), /"spraak":"en"/);
      // The hazard: the stale row stays cached though every server has the change.
      assert.doesNotMatch(await ask(unsafe, id), /"spraak":"en"/, 'the unsafe cache kept the stale row');
    } finally {
      await replicaDb.close();
    }
  });

  it('pages the feed through both nodes in turn without going back or missing a change while the replica lags', async () => {
    await cluster.pauseReplay();
    const written = new Map<string, Language>();
    try {
      let from = 0;
      let last = 0;
      const seen = new Map<string, string>();
      let pages = 0;
      for (;;) {
        const node = pages % 2 === 0 ? a : b;
        // Writes between the pages, while the replica replays nothing.
        if (pages < 6) {
          const p = PERSONS[100 + pages]!;
          const spraak: Language = pages % 2 === 0 ? 'nn' : 'en';
          await writer.write([withLanguage(p, spraak)]);
          written.set(p.personidentifikator, spraak);
        }
        const res = await post(node, '/rest/v2/krr/hentEndringer', { fraEndringsId: from }, true);
        assert.equal(res.status, 200, res.text);
        const page = JSON.parse(res.text) as {
          list: { personidentifikator: string; spraak?: string }[];
          tilEndringsId: number;
          sisteEndringsId: number;
        };
        assert.ok(
          page.sisteEndringsId >= last,
          `sisteEndringsId went back: ${page.sisteEndringsId} < ${last}`,
        );
        assert.ok(page.tilEndringsId >= from);
        last = page.sisteEndringsId;
        for (const person of page.list) seen.set(person.personidentifikator, JSON.stringify(person));
        pages++;
        from = page.tilEndringsId;
        if (pages >= 6 && page.tilEndringsId === page.sisteEndringsId) break;
        assert.ok(pages < 100);
      }
      for (const [id, spraak] of written) {
        assert.ok(seen.has(id), 'every written person came through the feed');
        assert.ok(seen.get(id)!.includes(`"${spraak}"`), 'in its latest state');
      }
    } finally {
      await cluster.resumeReplay();
    }
  });

  it('exports with --read-database', async () => {
    await until('the replica is fresh', async () => sample(await metrics(a), healthy) === 1);
    let text = '';
    const out = new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString('utf8');
        done();
      },
    });
    const code = await main(
      ['node', 'krr', 'export', '--database', cluster.primaryUrl, '--read-database', cluster.replicaUrl],
      out,
      out,
    );
    assert.equal(code, 0, text.slice(0, 500));
    assert.equal(text.trim().split('\n').length, PERSONS.length);
  });

  it('reads again on the primary what recovery cancelled on the replica', async () => {
    let replicaFailures = 0;
    const set = await ReplicaSet.open(primary, [cluster.replicaUrl], {});
    const admin = postgres(cluster.primaryUrl, { max: 1, onnotice: () => {} });
    try {
      await until('the replica is fresh', () => Promise.resolve(set.status()[0]!.healthy));
      const reads = set.router(primary, (db) =>
        observeDatabase(db, {
          started: () => {},
          finished: (_operation, _seconds, ok) => {
            if (!ok) replicaFailures++;
          },
        }),
      );
      const read = reads.query<{ n: number }>('select count(*)::int8 as n from person, pg_sleep(1.5)');
      await until('the read runs on the replica', async () => {
        const [row] = await cluster.replica<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity
          where state = 'active' and query like '%pg_sleep(1.5)%' and pid <> pg_backend_pid()`;
        return row!.n === 1;
      });
      // Replaying this lock must wait for the replica's read: after 200 ms the replica cancels it.
      await admin.begin(async (tx) => {
        await tx`lock table person in access exclusive mode`;
        await new Promise((resolve) => setTimeout(resolve, 600));
      });
      const [row] = await read;
      assert.equal(row!.n, PERSONS.length, 'answered, by the primary');
      assert.equal(replicaFailures, 1, 'after the replica cancelled it');
    } finally {
      await admin.end({ timeout: 1 });
      await set.close();
    }
  });

  it('fails no request when the replica stops', async () => {
    await until('the replica is fresh', async () => sample(await metrics(a), healthy) === 1);
    let stop = false;
    const failures: string[] = [];
    let answered = 0;
    const workers = Array.from({ length: 3 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        // A different slice each time: cache misses, read on the replica while it is there.
        const start = (i * 7 + w * 31) % (PERSONS.length - 10);
        const ids = PERSONS.slice(start, start + 10).map((p) => p.personidentifikator);
        const res = await post(a, '/rest/v2/personer', { personidentifikatorer: ids });
        if (res.status === 200) answered++;
        else failures.push(`${res.status} ${res.text.slice(0, 200)}`);
      }
    });
    try {
      await until('lookups are answered', () => Promise.resolve(answered > 20));
      await cluster.stopReplica();
      await until('the stopped replica is passed over', async () => sample(await metrics(a), healthy) === 0);
      const after = answered;
      await until('lookups go on', () => Promise.resolve(answered > after + 20));
    } finally {
      stop = true;
      await Promise.all(workers);
    }
    assert.deepEqual(failures, []);
    const ready = await fetch(`${a.url}/health/ready`);
    assert.equal(ready.status, 200);
  });
});

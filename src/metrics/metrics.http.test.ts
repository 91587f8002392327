// GET /metrics (docs/operations.md#metrics) on both stores, through the app: the text format, the
// values moving with what the app does, what the store holds read at scrape time, the token, and
// that no identifier, address or token ever shows in a label or value.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import type { Person } from '../person/person.js';
import { JobsRepository } from '../jobs/jobs.repository.js';
import { OutboxRepository } from '../outbox/outbox.repository.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/config.js';
import { assertErrorBody } from '../../test/support/error-body.js';
import { skipReason, STORE_KINDS } from '../../test/support/stores.js';
import { startTestApp } from '../../test/support/test-app.js';
import type { TestApp } from '../../test/support/test-app.js';

const SCOPES = ['krr:global/kontaktinformasjon.read', 'krr:global/digitalpost.read'];
const EMAIL = 'metrics.person@example.no';
const MOBILE = '+4791234567';
const A = makeIdentifier({ day: 11, month: 3, year: 91 });
const B = makeIdentifier({ day: 12, month: 4, year: 92 });
const UNKNOWN = makeIdentifier({ day: 13, month: 5, year: 93 });

const PERSONS: Person[] = [
  {
    personidentifikator: A,
    status: 'AKTIV',
    reservasjon: 'NEI',
    kontaktinformasjon: { epostadresse: EMAIL, mobiltelefonnummer: MOBILE },
  },
  { personidentifikator: B, status: 'AKTIV', reservasjon: 'NEI' },
];

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

interface Scrape {
  readonly text: string;
  readonly samples: readonly Sample[];
  /** `# TYPE` of each metric family. */
  readonly types: ReadonlyMap<string, string>;
}

/** The text format's lines (https://prometheus.io/docs/instrumenting/exposition_formats/), parsed. */
function parse(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { text, samples, types };
}

/** The value of the sample `name` whose labels include `labels`; 0 when there is none. */
function value(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  const found = scrape.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return found.reduce((sum, s) => sum + s.value, 0);
}

function has(scrape: Scrape, name: string, labels: Record<string, string> = {}): boolean {
  return scrape.samples.some(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

async function scrape(t: TestApp, headers: Record<string, string> = {}): Promise<Scrape> {
  const res = await t.app.inject({ method: 'GET', url: '/metrics', headers });
  assert.equal(res.statusCode, 200, res.body);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return parse(res.body);
}

function lookup(t: TestApp, token: string, version: 1 | 2, identifiers: readonly string[]) {
  return t.post(`/rest/v${version}/personer`, { personidentifikatorer: identifiers }, token);
}

const REQUESTS = 'krr_http_requests_total';

for (const kind of STORE_KINDS) {
  describe(`GET /metrics (${kind})`, { skip: await skipReason(kind) }, () => {
    let t: TestApp;
    let token: string;
    before(async () => {
      // Every scrape reads the store again, so a write shows in the next one.
      t = await startTestApp(kind, { env: { KRR_METRICS_STORE_READ_SECONDS: '0' } });
      await t.write(PERSONS);
      token = await t.token(SCOPES);
    });
    after(async () => t?.close());

    it('answers the text format with process metrics, every krr metric family, and is not in the OpenAPI document', async () => {
      // A statement of the app's own (the scrape's readings of the store are not counted).
      assert.equal((await t.app.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200);
      const s = await scrape(t);
      for (const name of ['process_cpu_user_seconds_total', 'nodejs_heap_size_used_bytes'])
        assert.ok(has(s, name), name);
      const families: [string, string][] = [
        ['krr_http_requests_total', 'counter'],
        ['krr_http_request_duration_seconds', 'histogram'],
        ['krr_lookups_total', 'counter'],
        ['krr_lookup_persons_answered_total', 'counter'],
        ['krr_lookup_cache_hits_total', 'counter'],
        ['krr_lookup_cache_misses_total', 'counter'],
        ['krr_lookup_cache_bytes', 'gauge'],
        ['krr_lookup_cache_answer_bytes', 'gauge'],
        ['krr_lookup_cache_entries', 'gauge'],
        ['krr_db_operation_duration_seconds', 'histogram'],
        ['krr_db_operation_failures_total', 'counter'],
        ['krr_db_operations_in_flight', 'gauge'],
        ['krr_audit_queue_depth', 'gauge'],
        ['krr_audit_write_duration_seconds', 'histogram'],
        ['krr_audit_entries_written_total', 'counter'],
        ['krr_audit_write_failures_total', 'counter'],
        ['krr_metrics_store_read_ok', 'gauge'],
        ['krr_outbox_messages', 'gauge'],
        ['krr_job_last_run_start_timestamp_seconds', 'gauge'],
        ['krr_job_last_run_end_timestamp_seconds', 'gauge'],
        ['krr_job_last_run_outcome', 'gauge'],
        ['krr_job_runs', 'gauge'],
        ['krr_sync_cursor', 'gauge'],
        ['krr_folkeregister_conflicts', 'gauge'],
      ];
      for (const [name, type] of families) assert.equal(s.types.get(name), type, name);
      assert.equal(value(s, 'krr_metrics_store_read_ok'), 1);
      // The store's operations so far, as the primary.
      assert.ok(value(s, 'krr_db_operation_duration_seconds_count', { role: 'primary' }) > 0);

      const doc = await t.app.inject({ method: 'GET', url: '/v3/api-docs' });
      assert.equal(doc.statusCode, 200);
      assert.equal(doc.json<{ paths: Record<string, unknown> }>().paths['/metrics'], undefined);
    });

    it('counts a lookup under its route and status, the persons answered, the cache and the audit inserts', async () => {
      const before = await scrape(t);
      const route = { method: 'POST', route: '/rest/v1/personer', status: '200' };

      // v1 answers the unregistered too: 3 persons; all three read from the store.
      const first = await lookup(t, token, 1, [A, B, UNKNOWN, A]);
      assert.equal(first.statusCode, 200, first.body);
      const mid = await scrape(t);
      assert.equal(value(mid, REQUESTS, route) - value(before, REQUESTS, route), 1);
      assert.equal(
        value(mid, 'krr_http_request_duration_seconds_count', route) -
          value(before, 'krr_http_request_duration_seconds_count', route),
        1,
      );
      assert.equal(value(mid, 'krr_lookups_total') - value(before, 'krr_lookups_total'), 1);
      assert.equal(
        value(mid, 'krr_lookup_persons_answered_total') - value(before, 'krr_lookup_persons_answered_total'),
        3,
      );
      assert.equal(
        value(mid, 'krr_lookup_cache_misses_total') - value(before, 'krr_lookup_cache_misses_total'),
        3,
      );
      assert.ok(value(mid, 'krr_lookup_cache_bytes') > 0);
      assert.ok(value(mid, 'krr_lookup_cache_answer_bytes') > 0);
      assert.ok(value(mid, 'krr_lookup_cache_answer_bytes') < value(mid, 'krr_lookup_cache_bytes'));
      assert.ok(value(mid, 'krr_lookup_cache_entries') >= 2);
      assert.equal(
        value(mid, 'krr_audit_entries_written_total') - value(before, 'krr_audit_entries_written_total'),
        1,
      );
      assert.ok(
        value(mid, 'krr_audit_write_duration_seconds_count') >
          value(before, 'krr_audit_write_duration_seconds_count'),
      );
      assert.equal(value(mid, 'krr_audit_queue_depth'), 0);
      assert.equal(value(mid, 'krr_db_operations_in_flight', { role: 'primary' }), 0);

      // v2 without inkluderIkkeRegistrerte answers the registered only: 2 persons, both from the cache.
      const second = await lookup(t, token, 2, [A, B, UNKNOWN]);
      assert.equal(second.statusCode, 200, second.body);
      const end = await scrape(t);
      const v2 = { method: 'POST', route: '/rest/v2/personer', status: '200' };
      assert.equal(value(end, REQUESTS, v2) - value(mid, REQUESTS, v2), 1);
      assert.equal(
        value(end, 'krr_lookup_persons_answered_total') - value(mid, 'krr_lookup_persons_answered_total'),
        2,
      );
      assert.equal(value(end, 'krr_lookup_cache_hits_total') - value(mid, 'krr_lookup_cache_hits_total'), 2);
      assert.equal(
        value(end, 'krr_lookup_cache_misses_total') - value(mid, 'krr_lookup_cache_misses_total'),
        1,
      );
    });

    it('counts a refused lookup under its status, and no persons for it', async () => {
      const before = await scrape(t);
      const res = await lookup(t, token, 1, ['1234567890X']);
      assert.equal(res.statusCode, 422);
      const after = await scrape(t);
      const refused = { method: 'POST', route: '/rest/v1/personer', status: '422' };
      assert.equal(value(after, REQUESTS, refused) - value(before, REQUESTS, refused), 1);
      assert.equal(
        value(after, 'krr_lookup_persons_answered_total'),
        value(before, 'krr_lookup_persons_answered_total'),
      );
    });

    it('never shows an identifier, address or token: route patterns only, unmatched paths as "unmatched"', async () => {
      // Not a number a float could print as (a run of zeros or nines): a bad check digit, a letter, 12 digits.
      const badCheck = `${A.slice(0, 10)}${(Number(A[10]) + 1) % 10}`;
      const invalid = ['1234567890X', badCheck, `${A}9`];
      await lookup(t, token, 1, [A, B, UNKNOWN]);
      await lookup(t, token, 2, invalid);
      await lookup(t, 'not-a-token-' + A, 1, [A]);
      const testdataToken = await t.token(['krr:testdata.write']);
      const one = await t.app.inject({
        method: 'GET',
        url: `/testdata/personer/${A}`,
        headers: { authorization: `Bearer ${testdataToken}` },
      });
      assert.ok(one.statusCode < 500, one.body);
      const missing = await t.app.inject({ method: 'GET', url: `/rest/v1/person/${B}?fnr=${UNKNOWN}` });
      assert.equal(missing.statusCode, 404);
      const queried = await t.app.inject({ method: 'GET', url: `/health/live?fnr=${UNKNOWN}&e=${EMAIL}` });
      assert.equal(queried.statusCode, 200);

      const s = await scrape(t);
      for (const secret of [A, B, UNKNOWN, ...invalid, EMAIL, MOBILE, token, testdataToken, 'not-a-token'])
        assert.ok(!s.text.includes(secret), `the scrape holds ${secret.slice(0, 12)}…`);
      assert.ok(!s.text.includes('fnr='));
      assert.ok(has(s, REQUESTS, { method: 'GET', route: '/testdata/personer/:personidentifikator' }));
      assert.ok(value(s, REQUESTS, { method: 'GET', route: 'unmatched', status: '404' }) >= 1);
      assert.ok(value(s, REQUESTS, { route: '/health/live', status: '200' }) >= 1);
      assert.ok(value(s, REQUESTS, { route: '/rest/v1/personer', status: '401' }) >= 1);
      // Every route label is a pattern the app has, or "unmatched".
      for (const sample of s.samples.filter((x) => x.name === REQUESTS)) {
        const route = sample.labels.route!;
        assert.ok(route === 'unmatched' || route.startsWith('/'), route);
        assert.ok(!/[0-9]{6,}/.test(route), route);
      }
    });

    it('reads the outbox, the jobs and the sync cursors from the store at scrape time', async () => {
      const before = await scrape(t);
      assert.equal(value(before, 'krr_outbox_messages', { state: 'pending' }), 0);
      assert.ok(!has(before, 'krr_job_last_run_outcome', { job: 'metrics-test' }));

      const outbox = new OutboxRepository(t.store.db);
      const message = { kind: 'engangskode', channel: 'epost' as const, subject: 's', text: 'kode 123456' };
      await outbox.enqueue({ ...message, recipient: EMAIL }, new Date());
      await outbox.enqueue({ ...message, recipient: 'other@example.no' }, new Date());
      await t.store.db.query(
        `update outbox set failed_at = now() where id = (select min(id) from outbox where recipient = $1)`,
        ['other@example.no'],
      );
      const jobs = new JobsRepository(t.store.db);
      const failed = await jobs.start('metrics-test', 'host:1:abc', 0, 0);
      await jobs.finish(failed, 'failed', {}, 'a failure');
      const ok = await jobs.start('metrics-test', 'host:1:abc', 0, 0);
      await jobs.finish(ok, 'ok', { sent: 2 }, null);
      await t.store.db.query(`insert into register_setting (name, value) values ($1, $2)`, [
        'sync:https://krr.example.no/base',
        '4711',
      ]);

      const s = await scrape(t);
      assert.equal(value(s, 'krr_outbox_messages', { state: 'pending' }), 1);
      assert.equal(value(s, 'krr_outbox_messages', { state: 'failed' }), 1);
      assert.equal(value(s, 'krr_job_last_run_outcome', { job: 'metrics-test', outcome: 'ok' }), 1);
      assert.equal(value(s, 'krr_job_last_run_outcome', { job: 'metrics-test', outcome: 'failed' }), 0);
      assert.equal(value(s, 'krr_job_runs', { job: 'metrics-test', outcome: 'ok' }), 1);
      assert.equal(value(s, 'krr_job_runs', { job: 'metrics-test', outcome: 'failed' }), 1);
      const started = value(s, 'krr_job_last_run_start_timestamp_seconds', { job: 'metrics-test' });
      const ended = value(s, 'krr_job_last_run_end_timestamp_seconds', { job: 'metrics-test' });
      assert.ok(started > 1.7e9 && ended >= started, `${started} ${ended}`);
      assert.equal(value(s, 'krr_sync_cursor', { source: 'https://krr.example.no/base' }), 4711);
      assert.ok(!s.text.includes(EMAIL) && !s.text.includes('123456'));

      assert.equal(
        value(s, 'krr_folkeregister_position'),
        0,
        'nothing applied before krr folkeregister sync ran',
      );
      await t.store.db.query(
        `insert into folkeregister_position (singleton, last_sequence, updated_at) values (true, 90210, now())
         on conflict (singleton) do update set last_sequence = excluded.last_sequence`,
      );
      await t.store.db.query(
        `insert into folkeregister_conflict (sequence, type, reason, recorded_at)
         values (90200, 'endringIIdentifikasjonsnummer', 'the new identifier has an entry', now())
         on conflict (sequence) do nothing`,
      );
      const f = await scrape(t);
      assert.equal(value(f, 'krr_folkeregister_position'), 90210);
      assert.equal(value(f, 'krr_folkeregister_conflicts'), 1);
    });

    it('counts failed store operations and audit inserts, and still answers when the store cannot be read', async () => {
      const before = await scrape(t);
      // The audit trail and the outbox out of reach for a moment: a lookup's insert fails (so does
      // the lookup: no answer leaves unrecorded), and the scrape's reading of the outbox fails.
      await t.store.db.query('alter table audit_log rename to audit_log_away');
      await t.store.db.query('alter table outbox rename to outbox_away');
      let failedLookup: number;
      let during: Scrape;
      try {
        failedLookup = (await lookup(t, token, 1, [A])).statusCode;
        during = await scrape(t);
      } finally {
        await t.store.db.query('alter table audit_log_away rename to audit_log');
        await t.store.db.query('alter table outbox_away rename to outbox');
      }
      assert.equal(failedLookup, 500);
      assert.equal(value(during, 'krr_metrics_store_read_ok'), 0);
      assert.ok(!has(during, 'krr_outbox_messages'));
      assert.ok(has(during, 'process_cpu_user_seconds_total'));
      assert.ok(
        value(during, 'krr_audit_write_failures_total') > value(before, 'krr_audit_write_failures_total'),
      );
      assert.ok(
        value(during, 'krr_db_operation_failures_total', { role: 'primary', operation: 'query' }) >
          value(before, 'krr_db_operation_failures_total', { role: 'primary', operation: 'query' }),
      );
      assert.equal(value(during, 'krr_db_operations_in_flight', { role: 'primary' }), 0);
      assert.equal(value(during, REQUESTS, { route: '/rest/v1/personer', status: '500' }), 1);

      const after = await scrape(t);
      assert.equal(value(after, 'krr_metrics_store_read_ok'), 1);
      assert.ok(has(after, 'krr_outbox_messages', { state: 'pending' }));
    });

    it('is exempt from the rate limit, and each app has a registry of its own', async () => {
      const limited = await startTestApp(kind, {
        env: { KRR_RATE_LIMIT_MAX: '1', KRR_RATE_LIMIT_WINDOW_SECONDS: '60' },
      });
      try {
        for (let i = 0; i < 3; i++) {
          const res = await limited.app.inject({ method: 'GET', url: '/metrics' });
          assert.equal(res.statusCode, 200, res.body);
        }
        const mine = await scrape(limited);
        // This app answered no lookup, whatever the other app did in this process.
        assert.equal(value(mine, REQUESTS, { route: '/rest/v1/personer' }), 0);
        assert.equal(value(mine, 'krr_lookups_total'), 0);
        assert.ok(value(await scrape(t), 'krr_lookups_total') > 0);
      } finally {
        await limited.close();
      }
    });

    it('asks for the configured token (401 with the error body without it), and is not served when disabled', async () => {
      const secret = 'metrics-token-0123456789';
      const guarded = await startTestApp(kind, { env: { KRR_METRICS_TOKEN: secret } });
      try {
        for (const headers of [
          {},
          { authorization: 'Bearer wrong-token-0123456789' },
          { authorization: `Bearer ${secret}x` },
          { authorization: `Basic ${secret}` },
        ]) {
          const res = await guarded.app.inject({ method: 'GET', url: '/metrics', headers });
          assertErrorBody(res, 401);
          assert.ok(!res.body.includes(secret));
        }
        const s = await scrape(guarded, { authorization: `Bearer ${secret}` });
        assert.ok(value(s, REQUESTS, { route: '/metrics', status: '401' }) >= 4);
        assert.ok(!s.text.includes(secret));
      } finally {
        await guarded.close();
      }
      const off = await startTestApp(kind, { env: { KRR_METRICS_ENABLED: 'false' } });
      try {
        const res = await off.app.inject({ method: 'GET', url: '/metrics' });
        assertErrorBody(res, 404);
      } finally {
        await off.close();
      }
    });
  });
}

describe('the metrics configuration', () => {
  it('serves /metrics by default, without a token, reading the store at most every 5 s', () => {
    const config = loadConfig({}, {});
    assert.deepEqual(config.metrics, { enabled: true, token: undefined, storeReadSeconds: 5 });
  });

  it('takes KRR_METRICS_ENABLED, KRR_METRICS_TOKEN and KRR_METRICS_STORE_READ_SECONDS', () => {
    const config = loadConfig(
      {},
      {
        KRR_METRICS_ENABLED: 'false',
        KRR_METRICS_TOKEN: 'a-token-of-twenty-chars',
        KRR_METRICS_STORE_READ_SECONDS: '0',
      },
    );
    assert.deepEqual(config.metrics, {
      enabled: false,
      token: 'a-token-of-twenty-chars',
      storeReadSeconds: 0,
    });
  });

  it("takes the config file's metrics block, the environment over it", () => {
    const dir = mkdtempSync(join(tmpdir(), 'krr-metrics-config-'));
    try {
      const file = join(dir, 'krr.json');
      writeFileSync(
        file,
        JSON.stringify({ metrics: { enabled: false, token: 'a-token-from-the-file', storeReadSeconds: 2 } }),
      );
      assert.deepEqual(loadConfig({ config: file }, {}).metrics, {
        enabled: false,
        token: 'a-token-from-the-file',
        storeReadSeconds: 2,
      });
      assert.deepEqual(loadConfig({ config: file }, { KRR_METRICS_ENABLED: 'true' }).metrics.enabled, true);
      writeFileSync(file, JSON.stringify({ metrics: { token: 'short-secret' } }));
      assert.throws(
        () => loadConfig({ config: file }, {}),
        (err: Error) => /metrics\/token/.test(err.message) && !err.message.includes('short-secret'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a short token and a bad number of seconds, without echoing the token', () => {
    assert.throws(
      () => loadConfig({}, { KRR_METRICS_TOKEN: 'short-secret' }),
      (err: Error) => /KRR_METRICS_TOKEN/.test(err.message) && !err.message.includes('short-secret'),
    );
    assert.throws(() => loadConfig({}, { KRR_METRICS_STORE_READ_SECONDS: '301' }), /STORE_READ_SECONDS/);
  });
});

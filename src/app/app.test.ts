// The app around the endpoints: health, the OpenAPI document, Swagger UI, and logs that never
// carry personal data or tokens.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import { assertErrorBody } from '../../test/support/error-body.js';
import { skipReason, STORE_KINDS } from '../../test/support/stores.js';
import { startTestApp } from '../../test/support/test-app.js';
import { configuredJobs } from '../jobs/jobs.js';
import { JobsRunner } from '../jobs/jobs.runner.js';
import type { TestApp } from '../../test/support/test-app.js';

class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
}

for (const kind of STORE_KINDS) {
  describe(`the app (${kind})`, { skip: await skipReason(kind) }, () => {
    let t: TestApp;
    const logs = new LogCapture();
    before(async () => {
      t = await startTestApp(kind, { logLevel: 'trace', logDestination: logs });
    });
    after(async () => t?.close());

    it('answers /health/live and /health/ready', async () => {
      for (const url of ['/health/live', '/health/ready']) {
        const res = await t.app.inject({ method: 'GET', url });
        assert.equal(res.statusCode, 200);
        assert.deepEqual(res.json(), { status: 'UP' });
      }
    });

    it("answers GET /health with the store and each job's last run in its details", async () => {
      const before = await t.app.inject({ method: 'GET', url: '/health' });
      assert.equal(before.statusCode, 200);
      const shown = before.json<{
        status: string;
        details: { store: unknown; jobs: Record<string, unknown> };
      }>();
      assert.equal(shown.status, 'UP');
      assert.deepEqual(shown.details.store, { status: 'UP' });
      assert.deepEqual(
        Object.keys(shown.details.jobs).sort(),
        configuredJobs(t.config)
          .map((j) => j.name)
          .sort(),
      );
      assert.deepEqual(shown.details.jobs.retention, { status: 'UP', running: false }, 'never run');

      const runner = new JobsRunner({
        db: t.store.db,
        clock: { now: () => Date.now(), version: () => 0 },
        jobs: configuredJobs(t.config),
        log: { info() {}, warn() {} },
      });
      assert.equal((await runner.runNow('retention')).outcome, 'ok');
      const after = await t.app.inject({ method: 'GET', url: '/health' });
      const retention = after.json<{
        details: { jobs: Record<string, { lastRun?: Record<string, unknown> }> };
      }>().details.jobs.retention;
      assert.equal(retention?.lastRun?.outcome, 'ok');
      assert.match(String(retention?.lastRun?.startedAt), /^\d{4}-\d\d-\d\dT/);
      assert.deepEqual(Object.keys(retention?.lastRun?.counts as object).sort(), [
        'deleted_codes',
        'deleted_messages',
        'deleted_sessions',
        'failed_messages',
      ]);
    });

    it('serves the OpenAPI document with both lookup paths and Swagger UI', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/v3/api-docs' });
      assert.equal(res.statusCode, 200);
      const doc = res.json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
      assert.match(doc.openapi, /^3\./);
      assert.ok(doc.paths['/rest/v1/personer']?.post);
      assert.ok(doc.paths['/rest/v2/personer']?.post);
      const ui = await t.app.inject({ method: 'GET', url: '/swagger-ui/' });
      assert.equal(ui.statusCode, 200);
      assert.match(String(ui.headers['content-type']), /text\/html/);
    });

    it("answers a static file outside Swagger UI's folder with 403 and the error body, logged below error level", async () => {
      const from = logs.lines.length;
      for (const url of [
        '/swagger-ui/static/..%5cpackage.json',
        '/swagger-ui/static/..%2f..%2fpackage.json',
      ]) {
        const res = await t.app.inject({ method: 'GET', url });
        assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${url}: ${res.statusCode}`);
        assertErrorBody(res, res.statusCode);
        assert.doesNotMatch(res.body, /"name"\s*:\s*"krr"/);
      }
      const errors = logs.lines.slice(from).filter((l) => (JSON.parse(l) as { level: number }).level >= 50);
      assert.deepEqual(errors, []);
    });

    it('logs with request ids and never an identifier, e-mail, phone number or token, even at trace level', async () => {
      const id = makeIdentifier({ day: 11, month: 11, year: 91 });
      const email = 'secret.person@example.no';
      const mobile = '+4798765432';
      await t.write([
        {
          personidentifikator: id,
          status: 'AKTIV',
          reservasjon: 'NEI',
          kontaktinformasjon: { epostadresse: email, mobiltelefonnummer: mobile },
        },
      ]);
      const token = await t.token(['krr:global/kontaktinformasjon.read']);
      const ok = await t.post('/rest/v2/personer', { personidentifikatorer: [id] }, token);
      assert.ok(ok.body.includes(email), 'the caller gets the data');
      await t.post('/rest/v2/personer', { personidentifikatorer: [`${id.slice(0, 10)}x`] }, token);
      await t.post('/rest/v2/personer', `{"personidentifikatorer":["${id}"`, token);
      await t.post('/rest/v2/personer', { personidentifikatorer: [id] }, `${token}tampered`);
      await t.post(`/rest/v1/personer?fnr=${id}`, { personidentifikatorer: [id] }, token);
      await t.app.inject({ method: 'GET', url: `/rest/v1/person/${id}?epost=${email}` });

      assert.ok(logs.lines.length >= 8, 'requests are logged');
      const withReqId = logs.lines.filter((l) => (JSON.parse(l) as { reqId?: string }).reqId);
      assert.ok(withReqId.length >= 8, 'log lines carry the request id');
      const secrets = [id, id.slice(0, 10), email, mobile, token, token.split('.')[1]!, token.split('.')[2]!];
      for (const line of logs.lines) {
        for (const secret of secrets)
          assert.ok(
            !line.includes(secret),
            `a log line carries personal data or a token: ${line.slice(0, 200)}`,
          );
      }
    });
  });
}

describe('readiness', () => {
  it('answers 503 with the error body when the store is gone, while /health/live stays up', async () => {
    const t = await startTestApp('embedded');
    try {
      await t.store.db.close();
      const ready = await t.app.inject({ method: 'GET', url: '/health/ready' });
      assert.equal(ready.statusCode, 503);
      assert.equal(ready.json<{ errors: Array<{ status: string }> }>().errors[0]!.status, '503');
      const live = await t.app.inject({ method: 'GET', url: '/health/live' });
      assert.equal(live.statusCode, 200);
    } finally {
      await t.app.close();
      await t.store.dispose().catch(() => {});
    }
  });
});

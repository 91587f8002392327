// Rolling restarts behind HAProxy (docs/operations.md#rolling-restarts): two `krr serve` nodes on
// one PostgreSQL database, HAProxy in front checking /health/ready, and a steady load of lookups on
// kept-alive connections. Node 1 gets SIGTERM, exits 0, is started again and is back in the
// rotation; then node 2 likewise. Not one request fails, both nodes answered before and after, and
// every answered lookup is in the audit trail exactly once (each request asks for an identifier of
// its own, which marks its audit entry).

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { demoPersons } from '../../src/demo/demo-data.js';
import { makeIdentifier } from '../../src/identifier/identifier.generate.js';
import { haproxyMissingReason, startHaproxy } from '../support/haproxy.js';
import type { RunningHaproxy } from '../support/haproxy.js';
import { startNode, stopNode } from '../support/nodes.js';
import type { Node, NodeOptions } from '../support/nodes.js';
import { devToken, freePort, killHard } from '../support/processes.js';
import { freshDatabase, skipReason } from '../support/stores.js';

const SCOPES = 'krr:global/kontaktinformasjon.read krr:global/digitalpost.read';
/** Lookups at once, each loop on its kept-alive connection through HAProxy. */
const LOOPS = 4;

/** Identifiers nobody is registered with, a new one for each request (its mark in the audit trail). */
function* markers(): Generator<string, undefined> {
  const seen = new Set<string>();
  for (let year = 30; year < 100; year++)
    for (let month = 1; month <= 12; month++)
      for (let day = 1; day <= 28; day++) {
        const id = makeIdentifier({ day, month, year }, 700);
        if (!seen.has(id)) {
          seen.add(id);
          yield id;
        }
      }
}

interface Outcome {
  readonly marker: string;
  readonly node: string | undefined;
  /** The HTTP status, or the network error's text. */
  readonly result: number | string;
}

const skip = (await skipReason('postgres')) || haproxyMissingReason() || false;

describe('rolling restarts behind HAProxy (postgres)', { skip }, () => {
  let scratch: string;
  let database: { url: string; cleanup: () => Promise<void> };
  const nodes = new Map<string, Node>();
  let lb: RunningHaproxy | undefined;

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'krr-rolling-'));
    database = await freshDatabase('krr_rolling');
  });
  after(async () => {
    for (const node of nodes.values()) await killHard(node.child);
    await lb?.stop();
    await database?.cleanup();
    await rm(scratch, { recursive: true, force: true });
  });

  it('restarts both nodes one at a time under a steady load: no request fails, every answered lookup audited', async () => {
    const lbPort = await freePort();
    const ports = { n1: await freePort(), n2: await freePort() };
    const options = (name: string): NodeOptions => ({
      database: database.url,
      publicUrl: `http://127.0.0.1:${lbPort}`,
      // The jobs on one node only: they take turns anyway (docs/jobs.md#one-place-at-a-time).
      extraArgs: name === 'n1' ? ['--demo'] : ['--no-jobs'],
      // Longer than HAProxy's check interval (100 ms) with room for a busy machine.
      env: { KRR_SHUTDOWN_DRAIN_SECONDS: '1', KRR_SHUTDOWN_GRACE_SECONDS: '10' },
    });
    // One after the other: the first migrates the schema and seeds the demo persons.
    for (const name of ['n1', 'n2'] as const)
      nodes.set(name, await startNode(name, ports[name], options(name)));
    lb = await startHaproxy(scratch, lbPort, [
      { name: 'n1', port: ports.n1 },
      { name: 'n2', port: ports.n2 },
    ]);
    const token = await devToken(['--database', database.url], SCOPES);
    const person = demoPersons(Date.now())[0]!.person.personidentifikator;

    const outcomes: Outcome[] = [];
    const next = markers();
    let loading = true;
    const loop = async () => {
      while (loading) {
        const marker = next.next().value;
        assert.ok(marker, 'ran out of identifiers');
        try {
          const res = await fetch(`${lb!.url}/rest/v2/personer`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ personidentifikatorer: [person, marker] }),
            signal: AbortSignal.timeout(20_000),
          });
          const text = await res.text();
          let result: number | string = res.status;
          if (res.status === 200) {
            const answered = (
              JSON.parse(text) as { personer: { personidentifikator: string }[] }
            ).personer.map((p) => p.personidentifikator);
            if (!answered.includes(person)) result = `200 without the person: ${text.slice(0, 200)}`;
          } else result = `${res.status}: ${text.slice(0, 200)}`;
          outcomes.push({ marker, node: res.headers.get('x-served-by') ?? undefined, result });
        } catch (err) {
          outcomes.push({ marker, node: undefined, result: String((err as Error).cause ?? err) });
        }
      }
    };
    /** Waits until `node` has answered `count` more lookups than it had at the call. */
    const answeredBy = async (node: string, count: number) => {
      const from = outcomes.filter((o) => o.node === node).length;
      const deadline = Date.now() + 30_000;
      while (outcomes.filter((o) => o.node === node).length < from + count) {
        assert.ok(Date.now() < deadline, `${node} answered no ${count} lookups within 30 s: ${lb!.output()}`);
        await sleep(20);
      }
    };

    const loops = Array.from({ length: LOOPS }, loop);
    try {
      await answeredBy('n1', 20);
      await answeredBy('n2', 20);
      for (const name of ['n1', 'n2'] as const) {
        const before = outcomes.length;
        const end = await stopNode(nodes.get(name)!);
        assert.deepEqual(
          end,
          { code: 0, signal: null },
          `${name} did not exit 0: ${nodes.get(name)!.output()}`,
        );
        // Meanwhile the other node answered everything.
        assert.ok(outcomes.length > before, `no lookup was answered while ${name} stopped`);
        nodes.set(name, await startNode(name, ports[name], options(name)));
        await answeredBy(name, 20);
      }
      await answeredBy('n1', 20);
      await answeredBy('n2', 20);
    } finally {
      loading = false;
      await Promise.all(loops);
    }

    const failed = outcomes.filter((o) => o.result !== 200);
    assert.deepEqual(failed, [], `${failed.length} of ${outcomes.length} lookups failed`);
    for (const node of ['n1', 'n2'])
      assert.ok(
        outcomes.some((o) => o.node === node),
        `${node} answered none`,
      );

    // Every answered lookup is in the trail, once: the nodes have stopped writing (the last ones
    // still run, but each answer left only after its entry was written).
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql<{ marker: string; n: number }[]>`
        select m.marker, count(*)::int as n
        from audit_log, unnest(audit_log.identifiers) as m(marker)
        where audit_log.endpoint = '/rest/v2/personer' and m.marker <> ${person}
        group by m.marker`;
      const counted = new Map(rows.map((r) => [r.marker, r.n]));
      const missing = outcomes.filter((o) => counted.get(o.marker) !== 1);
      assert.deepEqual(
        missing.map((o) => ({ marker: o.marker, n: counted.get(o.marker) ?? 0 })),
        [],
        'answered lookups not in the audit trail exactly once',
      );
      console.log(`# ${outcomes.length} lookups, none failed, each audited once`);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});

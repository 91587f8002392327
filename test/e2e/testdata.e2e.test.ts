// The test-data API as an agency's test suite uses it (docs/testdata.md): a real `krr serve --dev`
// process and a second one on the same PostgreSQL, a token from `krr token --scope
// krr:testdata.write`, persons made through the first with relative timestamps, the clock turned
// across the 18-month boundary and back through the first, and lookups and the change feed read
// through the second at each step.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { devToken, killHard, serve } from '../support/processes.js';
import type { Server } from '../support/processes.js';
import { freshDatabase, skipReason } from '../support/stores.js';

const LOOKUP = 'krr:global/kontaktinformasjon.read krr:global/digitalpost.read krr:global/hentendring.read';

type Answer = { personidentifikator: string; status: string; varslingsstatus?: string };

async function call(base: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined, text };
}

/** Asks until `check` holds (the other process taking the clock's notification); fails after 10 s. */
async function eventually<T>(ask: () => Promise<T>, check: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await ask();
    if (check(value)) return value;
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(value)} after 10 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe(
  'the test-data API and the clock across two krr serve --dev processes on one PostgreSQL',
  { skip: await skipReason('postgres') },
  () => {
    let database: { url: string; cleanup: () => Promise<void> };
    let one: Server;
    let two: Server;
    let write: string;
    let read: string;

    before(async () => {
      database = await freshDatabase('krr_testdata');
      one = await serve(['--dev', '--database', database.url]);
      // The same issuer as the first (its public URL), so one token serves both.
      two = await serve(['--dev', '--database', database.url, '--public-url', one.base]);
      const store = ['--database', database.url, '--public-url', one.base];
      [write, read] = await Promise.all([devToken(store, 'krr:testdata.write'), devToken(store, LOOKUP)]);
    });
    after(async () => {
      await Promise.all([one && killHard(one.child), two && killHard(two.child)]);
      await database?.cleanup();
    });

    const lookup = async (server: Server, pid: string) => {
      const res = await call(server.base, read, 'POST', '/rest/v2/personer', {
        personidentifikatorer: [pid],
        inkluderIkkeRegistrerte: true,
      });
      assert.equal(res.status, 200, res.text);
      return (res.json as { personer: Answer[] }).personer[0]!;
    };
    const feed = async (server: Server) => {
      const seen = new Map<string, Answer>();
      let fra = 0;
      for (;;) {
        const res = await call(server.base, read, 'POST', '/rest/v2/krr/hentEndringer', {
          fraEndringsId: fra,
        });
        assert.equal(res.status, 200, res.text);
        const page = res.json as { list: Answer[]; tilEndringsId: number; sisteEndringsId: number };
        for (const p of page.list) seen.set(p.personidentifikator, p);
        if (page.tilEndringsId === page.sisteEndringsId) return seen;
        fra = page.tilEndringsId;
      }
    };
    const clock = async (server: Server) =>
      (await call(server.base, write, 'GET', '/testdata/klokke')).json as { naa: string; fryst: boolean };

    it('krr token --scope krr:testdata.write gives a dev token with that scope', () => {
      assert.equal(decodeJwt(write).scope, 'krr:testdata.write');
    });

    it('persons made through one process, the clock turned through it, are seen through the other at each step', async () => {
      const frozen = await call(one.base, write, 'PUT', '/testdata/klokke', {
        naa: '2026-06-15T12:00:00+02:00',
      });
      assert.deepEqual(frozen.json, { naa: '2026-06-15T12:00:00+02', fryst: true });
      await eventually(
        () => clock(two),
        (c) => c.naa === '2026-06-15T12:00:00+02',
        'the second process frozen too',
      );

      const made = await call(one.base, write, 'POST', '/testdata/personer', { mal: 'aktiv' });
      assert.equal(made.status, 201, made.text);
      // The template's person, replaced with one confirmed 17 months ago.
      const pid = (made.json as Answer).personidentifikator;
      const put = await call(one.base, write, 'PUT', `/testdata/personer/${pid}`, {
        status: 'AKTIV',
        kontaktinformasjon: { epostadresse: 'grense@example.no', epostadresse_sist_verifisert: '-P17M' },
      });
      assert.equal(put.status, 200, put.text);

      assert.equal((await lookup(two, pid)).varslingsstatus, 'KAN_VARSLES');
      assert.equal((await feed(two)).get(pid)!.varslingsstatus, 'KAN_VARSLES');

      const moved = await call(one.base, write, 'PUT', '/testdata/klokke', { forskyv: 'P2M' });
      assert.deepEqual(moved.json, { naa: '2026-08-15T12:00:00+02', fryst: true });
      await eventually(
        () => lookup(two, pid),
        (p) => p.varslingsstatus === 'KAN_IKKE_VARSLES',
        'past the boundary in the second process',
      );
      assert.equal((await feed(two)).get(pid)!.varslingsstatus, 'KAN_IKKE_VARSLES');
      assert.equal((await lookup(one, pid)).varslingsstatus, 'KAN_IKKE_VARSLES', 'and at once in the first');

      await call(one.base, write, 'PUT', '/testdata/klokke', { forskyv: '-P2M' });
      await eventually(
        () => lookup(two, pid),
        (p) => p.varslingsstatus === 'KAN_VARSLES',
        'back before the boundary',
      );
      assert.equal((await feed(two)).get(pid)!.varslingsstatus, 'KAN_VARSLES');

      // A reset through the second process; the first sees the register as it left it.
      const reset = await call(two.base, write, 'POST', '/testdata/nullstill', { datasett: 'tomt' });
      assert.equal(reset.status, 200, reset.text);
      assert.equal((await lookup(one, pid)).status, 'IKKE_REGISTRERT');
      assert.equal((await feed(one)).get(pid)!.status, 'IKKE_REGISTRERT');

      const real = await call(two.base, write, 'PUT', '/testdata/klokke', { reell: true });
      assert.equal((real.json as { fryst: boolean }).fryst, false);
      await eventually(
        () => clock(one),
        (c) => !c.fryst,
        'real time again in the first',
      );
    });
  },
);

// The reminder job as an operator runs it (docs/jobs.md): a register of 3,000 imported persons on
// PostgreSQL, `krr serve` delivering the outbox to a real SMTP server and a real SMS receiver, and
// two `krr jobs run` processes running the jobs at once. The test-data clock is moved across 16
// and 18 months; the process running the reminders is killed halfway; the other takes over. Each
// due person gets exactly one reminder, by e-mail when they have an address, else by SMS; nobody
// else gets one; moving the clock on sends nothing again for the same confirmation.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { makeIdentifier } from '../../src/identifier/identifier.generate.js';
import { assertOk, devToken, exited, killHard, krr, serve, startKrr } from '../support/processes.js';
import type { Server } from '../support/processes.js';
import { startHttpReceiver } from '../support/http-receiver.js';
import type { TestHttpReceiver } from '../support/http-receiver.js';
import { startSmtpServer } from '../support/smtp-server.js';
import type { TestSmtpServer } from '../support/smtp-server.js';
import { freshDatabase, skipReason } from '../support/stores.js';

/** The register's clock at the start: 15 June 2026, noon in Oslo. */
const T0 = '2026-06-15T12:00:00+02:00';
const PUBLIC_URL = 'https://krr.example.test';
const iso = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d, 10)).toISOString();

type Group = 'due-epost' | 'due-sms' | 'fresh' | 'reserved' | 'slettet' | 'no-channel';
interface Planned {
  readonly pid: string;
  readonly group: Group;
  readonly epost?: string;
  readonly mobil?: string;
  readonly spraak?: string;
}

const LANGUAGES = ['nb', 'nn', 'en', 'se', undefined] as const;

/**
 * 3,000 persons. After the clock moves six months on (to 15 December 2026): `due-epost` confirmed
 * 16 months and a day before, with both channels (the reminder goes by e-mail); `due-sms` 21
 * months before (past the 18 months), a mobile only; `fresh` 8 months before; `reserved` and
 * `slettet` long ago; `no-channel` an entry without contact information.
 */
function plan(): Planned[] {
  const groups: [Group, number][] = [
    ['due-epost', 1200],
    ['due-sms', 400],
    ['fresh', 600],
    ['reserved', 300],
    ['slettet', 300],
    ['no-channel', 200],
  ];
  const persons: Planned[] = [];
  let n = 0;
  for (const [group, count] of groups) {
    for (let i = 0; i < count; i++, n++) {
      // A date a person, then the next valid individual number: 3,000 distinct identifiers.
      const pid = makeIdentifier(
        { day: 1 + (n % 28), month: 1 + (Math.floor(n / 28) % 12), year: 40 + Math.floor(n / 336) },
        100,
      );
      const epost = group === 'due-sms' || group === 'no-channel' ? undefined : `p${n}@example.test`;
      const mobil = group === 'no-channel' ? undefined : `+479${String(n).padStart(7, '0')}`;
      const spraak = LANGUAGES[n % LANGUAGES.length];
      persons.push({
        pid,
        group,
        ...(epost ? { epost } : {}),
        ...(mobil ? { mobil } : {}),
        ...(spraak ? { spraak } : {}),
      });
    }
  }
  return persons;
}

function importLine(p: Planned): string {
  if (p.group === 'slettet') return JSON.stringify({ personidentifikator: p.pid, status: 'SLETTET' });
  const basis = {
    'due-epost': iso(2025, 8, 14),
    'due-sms': iso(2025, 3, 1),
    fresh: iso(2026, 4, 15),
    reserved: iso(2024, 1, 1),
    'no-channel': iso(2024, 1, 1),
  }[p.group];
  return JSON.stringify({
    personidentifikator: p.pid,
    status: 'AKTIV',
    reservasjon: p.group === 'reserved' ? 'JA' : 'NEI',
    ...(p.group === 'reserved' ? { reservasjonstidspunkt: basis } : {}),
    ...(p.epost || p.mobil
      ? {
          kontaktinformasjon: {
            ...(p.epost ? { epostadresse: p.epost, epostadresse_oppdatert: basis } : {}),
            ...(p.mobil ? { mobiltelefonnummer: p.mobil, mobiltelefonnummer_oppdatert: basis } : {}),
          },
        }
      : {}),
    ...(p.spraak ? { spraak: p.spraak, spraak_oppdatert: basis } : {}),
  });
}

/** Asks until `check` holds; fails after `ms`. */
async function eventually<T>(ask: () => T | Promise<T>, check: (v: T) => boolean, what: string, ms = 90_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await ask();
    if (check(v)) return v;
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(v)} after ${ms} ms`);
    await sleep(50);
  }
}

describe(
  'the reminder job: two krr jobs run processes, one killed halfway',
  { skip: await skipReason('postgres') },
  () => {
    const persons = plan();
    let database: { url: string; cleanup: () => Promise<void> };
    let sql: postgres.Sql;
    let dir: string;
    let smtp: TestSmtpServer;
    let sms: TestHttpReceiver;
    let server: Server;
    let token: string;
    const runners: ChildProcess[] = [];
    let storeArgs: string[];

    const startRunner = () => {
      // Where the reminders point: the register's public URL, as the jobs' processes are configured.
      const child = startKrr(['jobs', 'run', '--no-delivery', ...storeArgs], { KRR_PUBLIC_URL: PUBLIC_URL });
      runners.push(child);
      return child;
    };
    const moveClock = async (forskyv: string) => {
      const res = await fetch(`${server.base}/testdata/klokke`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ forskyv }),
      });
      assert.equal(res.status, 200, await res.text());
    };
    const clockVersion = async () => Number((await sql`select version from register_clock`)[0]?.version ?? 0);
    /** Waits for a reminder run that started after the clock's latest move and ended well. */
    const reminderRunAfterMove = async () => {
      const version = await clockVersion();
      await eventually(
        () =>
          sql`select outcome from job_run where job = 'reminder' and clock_version = ${version} and outcome <> 'running' order by id desc limit 1`,
        (rows) => rows[0]?.outcome === 'ok',
        'a reminder run after the move',
      );
    };
    const outboxDrained = () =>
      eventually(
        async () =>
          Number(
            (
              await sql`select count(*)::int as n from outbox where delivered_at is null and failed_at is null`
            )[0]!.n,
          ),
        (n) => n === 0,
        'the outbox delivered',
      );
    const received = () => [
      ...smtp.received.map((m) => ({ channel: 'epost', to: m.to.join(','), text: m.text })),
      ...sms.received.map((r) => {
        const body = r.body as { to: string; text: string };
        return { channel: 'sms', to: body.to, text: body.text };
      }),
    ];

    before(async () => {
      database = await freshDatabase('krr_jobs_e2e');
      sql = postgres(database.url, { max: 2, onnotice: () => {} });
      dir = await mkdtemp(join(tmpdir(), 'krr-jobs-e2e-'));
      [smtp, sms] = await Promise.all([startSmtpServer(), startHttpReceiver()]);
      const config = join(dir, 'krr.json');
      await writeFile(
        config,
        JSON.stringify({
          smtp: { host: smtp.host, port: smtp.port, secure: false, from: 'krr@example.test' },
          sms: { url: sms.url },
          jobs: { pollSeconds: 1, leaseSeconds: 3, reminder: { pageSize: 25 } },
        }),
      );
      storeArgs = ['--database', database.url, '--config', config];
      const file = join(dir, 'persons.jsonl');
      await writeFile(file, `${persons.map(importLine).join('\n')}\n`);
      assertOk(await krr(['import', file, '--database', database.url]), 'krr import');
      server = await serve(['--dev', '--no-jobs', '--clock', T0, ...storeArgs]);
      token = await devToken(['--database', database.url, '--public-url', server.base], 'krr:testdata.write');
    });
    after(async () => {
      await Promise.all([...runners.map((c) => killHard(c)), server && killHard(server.child)]);
      await Promise.all([smtp?.close(), sms?.close()]);
      await sql?.end({ timeout: 1 });
      await database?.cleanup();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('sends nobody a reminder while nobody is 16 months old', async () => {
      startRunner();
      startRunner();
      await reminderRunAfterMove();
      await outboxDrained();
      assert.deepEqual(received(), []);
    });

    it('moved six months on, reminds each due person once, though the process running it is killed halfway', async () => {
      await moveClock('P6M');
      const due = persons.filter((p) => p.group === 'due-epost' || p.group === 'due-sms');
      // Halfway: some reminders recorded, not all. The holder's pid is in its lease.
      const holder = await eventually(
        async () => {
          const [row] = await sql`select l.holder, (select count(*)::int from reminder_sent) as sent
          from job_lease l where l.name = 'reminder' and l.until >= now()`;
          return row ? { holder: String(row.holder), sent: Number(row.sent) } : { holder: '', sent: 0 };
        },
        (v) => v.sent > 0 && v.sent < due.length,
        'a reminder run halfway',
      );
      const victim = runners.find((c) => holder.holder.includes(`:${c.pid}:`));
      assert.ok(victim, `the lease names one of the two runners: ${holder.holder}`);
      victim.kill('SIGKILL');
      await exited(victim);

      await eventually(
        async () => Number((await sql`select count(*)::int as n from reminder_sent`)[0]!.n),
        (n) => n === due.length,
        'every due person reminded (the other runner took over)',
      );
      await reminderRunAfterMove();
      await outboxDrained();

      const got = received();
      const byRecipient = new Map<string, number>();
      for (const m of got) byRecipient.set(m.to, (byRecipient.get(m.to) ?? 0) + 1);
      const expected = new Map<string, string>(
        due.map((p) => (p.group === 'due-epost' ? [p.epost!, 'epost'] : [p.mobil!, 'sms'])),
      );
      assert.equal(got.length, due.length, 'one message per due person');
      for (const [to, channel] of expected) {
        assert.equal(byRecipient.get(to), 1, `exactly one reminder to a due ${channel} recipient`);
      }
      assert.deepEqual(
        [...byRecipient.keys()].filter((to) => !expected.has(to)),
        [],
        'no reminder to anyone not due',
      );
      const dueSmsNumbers = new Set(due.filter((p) => p.group === 'due-sms').map((p) => p.mobil));
      assert.ok(
        got.filter((m) => m.channel === 'sms').every((m) => dueSmsNumbers.has(m.to)),
        'SMS only without an e-mail address',
      );
      // The text names Min profil and nothing of the person: every reminder in one language is the same text.
      const texts = new Set(got.map((m) => m.text));
      assert.ok(
        texts.size >= 4 && texts.size <= 8,
        `a text per language and channel, not per person: ${texts.size}`,
      );
      for (const m of got) {
        assert.ok(m.text.includes(`${PUBLIC_URL}/minprofil`), 'the link to Min profil');
        for (const p of due) assert.ok(!m.text.includes(p.pid), 'no identifier in a reminder');
      }
      const [killed] =
        await sql`select count(*)::int as n from job_run where job = 'reminder' and outcome = 'abandoned'`;
      assert.equal(Number(killed!.n), 1, "the killed process's run is recorded as abandoned");
    });

    it('moved on across 18 months with both runners again, sends nothing twice for the same confirmation', async () => {
      startRunner();
      const before = received().length;
      await moveClock('P3M');
      await reminderRunAfterMove();
      await outboxDrained();
      assert.equal(received().length, before);
      const status = await krr(['jobs', 'status', '--json', ...storeArgs]);
      assertOk(status, 'krr jobs status');
      const reminder = (
        JSON.parse(status.stdout) as { name: string; lastRun: { outcome: string } | null }[]
      ).find((j) => j.name === 'reminder');
      assert.equal(reminder?.lastRun?.outcome, 'ok');
    });
  },
);

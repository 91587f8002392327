// `krr audit` (docs/operations.md#audit-trail) on both stores: one person's entries without the
// other identifiers of their bulk lookups, one consumer's with what it asked, a date range, paging
// past a page, the reading itself recorded, and clear refusals of bad options.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditRepository } from '../audit/audit.repository.js';
import { loadConfig } from '../config/config.js';
import type { KrrConfig } from '../config/config.js';
import { ConfigError } from '../errors/errors.js';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import { openStore } from '../register/open-store.js';
import { copyEmptyEmbeddedStore, freshDatabase, skipReason, STORE_KINDS } from '../../test/support/stores.js';
import { AUDIT_READ_ENDPOINT, auditQueryOf, runAudit } from './audit.command.js';
import type { AuditCommandOptions } from './audit.command.js';

class Text extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.text += chunk.toString('utf8');
    done();
  }
}

const KARI = makeIdentifier({ day: 12, month: 3, year: 85 });
const OLA = makeIdentifier({ day: 1, month: 7, year: 90 });
const NAV = '889640782';
const SKATT = '974761076';

type Line = Record<string, unknown>;

for (const kind of STORE_KINDS) {
  describe(`krr audit (${kind})`, { skip: await skipReason(kind) }, () => {
    let config: KrrConfig;
    let cleanup: () => Promise<void>;
    before(async () => {
      if (kind === 'postgres') {
        const database = await freshDatabase('krr_audit_cli');
        config = loadConfig({ database: database.url, logLevel: 'silent' }, {});
        cleanup = database.cleanup;
      } else {
        const dir = await mkdtemp(join(tmpdir(), 'krr-audit-cli-'));
        await copyEmptyEmbeddedStore(join(dir, 'data'));
        config = loadConfig({ dataDir: join(dir, 'data'), logLevel: 'silent' }, {});
        cleanup = () => rm(dir, { recursive: true, force: true });
      }
      const db = await openStore(config.store);
      try {
        const audit = new AuditRepository(db);
        const entry = (at: string, consumer: string, identifiers: string[]) =>
          audit.record({
            at: new Date(at),
            clientId: 'client-1',
            consumer,
            supplier: null,
            endpoint: '/rest/v2/personer',
            identifiers,
            status: 200,
          });
        await entry('2026-01-10T10:00:00Z', NAV, [KARI, OLA]);
        await entry('2026-02-10T10:00:00Z', SKATT, [OLA]);
        await entry('2026-03-10T10:00:00Z', SKATT, [KARI]);
        // More than a page of one consumer's entries (the command reads 1000 at a time).
        for (let i = 0; i < 1005; i += 201)
          await db.transaction(async (tx) => {
            for (let j = i; j < Math.min(i + 201, 1005); j++)
              await audit.record(
                {
                  at: new Date(Date.UTC(2026, 3, 1) + j * 1000),
                  clientId: 'client-2',
                  consumer: NAV,
                  supplier: null,
                  endpoint: '/rest/v1/personer',
                  identifiers: [OLA],
                  status: 200,
                },
                tx,
              );
          });
      } finally {
        await db.close();
      }
    });
    after(async () => cleanup?.());

    const read = async (opts: AuditCommandOptions): Promise<{ lines: Line[]; summary: string }> => {
      const out = new Text();
      const err = new Text();
      await runAudit(config, opts, out, err);
      return {
        lines: out.text
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Line),
        summary: err.text,
      };
    };

    it("prints one person's entries, counting but never showing the others asked with them", async () => {
      const { lines, summary } = await read({ person: KARI });
      const lookups = lines.filter((l) => l.endpoint !== AUDIT_READ_ENDPOINT);
      assert.deepEqual(
        lookups.map((l) => [l.at, l.consumer, l.identifiersInRequest]),
        [
          ['2026-01-10T10:00:00.000Z', NAV, 2],
          ['2026-03-10T10:00:00.000Z', SKATT, 1],
        ],
      );
      for (const l of lines) {
        assert.equal(l.personidentifikator, KARI);
        assert.equal(l.identifiers, undefined);
      }
      assert.ok(!JSON.stringify(lines).includes(OLA), "the other person's identifier is not shown");
      assert.equal(lines.at(-1)?.endpoint, AUDIT_READ_ENDPOINT, 'the reading itself is the last entry');
      assert.match(String(lines.at(-1)?.clientId), /^cli:/);
      assert.equal(summary, `${lines.length} entries\n`);
    });

    it("prints one consumer's entries in a date range, past a page, with what it asked", async () => {
      const { lines } = await read({ consumer: `0192:${NAV}`, from: '2026-04-01', to: '2026-05-01' });
      const lookups = lines.filter((l) => l.endpoint !== AUDIT_READ_ENDPOINT);
      assert.equal(lookups.length, 1005, 'every entry in the range, across pages');
      assert.ok(
        lookups.every((l) => l.consumer === NAV && JSON.stringify(l.identifiers) === JSON.stringify([OLA])),
      );
      const ids = lookups.map((l) => Number(l.id));
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => a - b),
        'oldest first',
      );
      assert.ok(!lookups.some((l) => String(l.at).startsWith('2026-01')), 'nothing before --from');
    });

    it('records each reading in the trail, with who read what', async () => {
      const { lines } = await read({ consumer: SKATT, from: '2026-02-01T00:00:00+01:00' });
      const readings = (await read({ person: KARI })).lines.filter((l) => l.endpoint === AUDIT_READ_ENDPOINT);
      assert.ok(readings.length >= 2, 'the earlier readings of Kari are there too');
      assert.deepEqual(
        lines.filter((l) => l.endpoint !== AUDIT_READ_ENDPOINT).map((l) => l.at),
        ['2026-02-10T10:00:00.000Z', '2026-03-10T10:00:00.000Z'],
      );
      const last = lines.at(-1)!;
      assert.equal(last.endpoint, AUDIT_READ_ENDPOINT);
      assert.equal(last.consumer, SKATT);
      assert.equal(last.detail, 'consumer,from=2026-01-31T23:00:00.000Z');
    });

    it('refuses bad options before opening the store, without repeating the value', () => {
      const bad: [AuditCommandOptions, RegExp][] = [
        [{}, /exactly one of --person/],
        [{ person: KARI, consumer: NAV }, /exactly one of --person/],
        [{ person: '12345678901' }, /--person must be a valid/],
        [{ consumer: '123' }, /--consumer must be an organisation number/],
        [{ person: KARI, from: '2026-02-30' }, /--from must be a date/],
        [{ person: KARI, to: 'yesterday' }, /--to must be a date/],
        [{ person: KARI, from: '2026-05-01', to: '2026-04-01' }, /--to must be after --from/],
      ];
      for (const [opts, message] of bad) {
        assert.throws(
          () => auditQueryOf(opts, config),
          (e: unknown) =>
            e instanceof ConfigError && message.test(e.message) && !e.message.includes('12345678901'),
          JSON.stringify(opts),
        );
      }
    });
  });
}

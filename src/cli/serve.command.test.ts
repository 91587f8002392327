// `krr serve --demo` (docs/operations.md#demo-data): with --clock, two seedings into two fresh
// stores give byte-identical registers (persons, timestamps, certificates), their timestamps counted
// back from the clock; the banner says what --demo did, also when the store already held persons.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/config.js';
import type { CliValues } from '../config/config.js';
import {
  DEMO_DIGIPOST_PROVIDER_CERTIFICATE,
  DEMO_EBOKS_PROVIDER_CERTIFICATE,
} from '../demo/demo-certificates.js';
import { DIGIPOST_ORGNO, EBOKS_ORGNO } from '../demo/demo-data.js';
import { ProviderService } from '../provider/provider.service.js';
import type { StoreKind } from '../store/database.js';
import { parseInstant } from '../time/oslo-time.js';
import { exportPersons } from '../transfer/export.service.js';
import { copyEmptyEmbeddedStore, freshDatabase, skipReason, STORE_KINDS } from '../../test/support/stores.js';
import { startServer, startupBanner } from './serve.command.js';

const CLOCK = '2025-03-14T09:26:53+01:00';
const DAY = 86_400_000;

/** A fresh, empty store as the command line names it, and how to remove it. */
async function freshStore(kind: StoreKind): Promise<{ values: CliValues; cleanup: () => Promise<void> }> {
  if (kind === 'postgres') {
    const database = await freshDatabase('krr_demo');
    return { values: { database: database.url }, cleanup: database.cleanup };
  }
  const dir = await mkdtemp(join(tmpdir(), 'krr-demo-'));
  await copyEmptyEmbeddedStore(join(dir, 'data'));
  return { values: { dataDir: join(dir, 'data') }, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

interface Served {
  readonly banner: string;
  readonly exported: string;
  readonly providers: { orgno: string; certificate: string }[];
}

/** `krr serve --dev --demo --clock CLOCK --port 0` on the store: its banner, then its register. */
async function serveDemo(values: CliValues): Promise<Served> {
  const config = loadConfig({ ...values, dev: true, port: 0, clock: CLOCK, logLevel: 'silent' }, {});
  const server = await startServer(config, { demo: true });
  try {
    let exported = '';
    for await (const chunk of exportPersons(server.db)) exported += chunk;
    const providers = (await new ProviderService(server.db).list()).map((p) => ({
      orgno: p.orgno,
      certificate: p.certificate,
    }));
    return { banner: startupBanner(config, server), exported, providers };
  } finally {
    await server.close();
  }
}

for (const kind of STORE_KINDS) {
  describe(`krr serve --demo --clock (${kind})`, { skip: await skipReason(kind) }, () => {
    it('seeds the same register into two fresh stores, and says so; a second start adds nothing', async () => {
      const first = await freshStore(kind);
      const second = await freshStore(kind);
      try {
        const a = await serveDemo(first.values);
        const b = await serveDemo(second.values);

        assert.equal(a.exported, b.exported, 'the two exports differ');
        assert.deepEqual(a.providers, b.providers);
        const lines = a.exported.trimEnd().split('\n');
        assert.equal(lines.length, 8);
        // The providers' certificates are the fixed demo ones, and the persons show them.
        assert.deepEqual(
          [...a.providers].sort((x, y) => x.orgno.localeCompare(y.orgno)),
          [
            { orgno: DIGIPOST_ORGNO, certificate: DEMO_DIGIPOST_PROVIDER_CERTIFICATE },
            { orgno: EBOKS_ORGNO, certificate: DEMO_EBOKS_PROVIDER_CERTIFICATE },
          ].sort((x, y) => x.orgno.localeCompare(y.orgno)),
        );
        assert.ok(a.exported.includes(DEMO_EBOKS_PROVIDER_CERTIFICATE));
        // The timestamps count back from the clock: "fresh" is 30 days before it, to the second.
        const clock = parseInstant(CLOCK)!;
        const verified = lines
          .map((l) => JSON.parse(l) as { kontaktinformasjon?: { epostadresse_sist_verifisert?: string } })
          .map((p) => p.kontaktinformasjon?.epostadresse_sist_verifisert)
          .filter((t): t is string => t !== undefined)
          .map((t) => parseInstant(t));
        assert.ok(verified.includes(clock - 30 * DAY), `no e-mail verified 30 days before ${CLOCK}`);
        assert.ok(verified.every((t) => t !== undefined && t <= clock));

        assert.match(
          a.banner,
          /--demo seeded 8 demo persons and 2 mailbox providers, their timestamps counted back from .*the --clock instant: the same data every time/,
        );
        assert.match(a.banner, /Demo persons:/);

        const again = await serveDemo(first.values);
        assert.equal(again.exported, a.exported);
        assert.match(
          again.banner,
          /--demo added nothing: the store already held 8 persons \(8 of them demo persons, as an earlier seeding left them\)/,
        );
        assert.doesNotMatch(again.banner, /--demo seeded/);
      } finally {
        await first.cleanup();
        await second.cleanup();
      }
    });
  });
}

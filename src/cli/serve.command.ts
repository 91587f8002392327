import type { FastifyInstance } from 'fastify';
import { devKeyFor, publicJwk } from '../auth/dev-issuer.js';
import { TokenVerifier } from '../auth/token-verifier.js';
import { baseUrlFor, withListenPort } from '../config/config.js';
import type { KrrConfig } from '../config/config.js';
import { recordDevIdentity } from '../maskinporten/dev-identity.js';
import { devTokenServiceOptions } from '../maskinporten/maskinporten.app.js';
import { freePort } from '../maskinporten/free-port.js';
import { DEMO_PROVIDERS, demoPersons } from '../demo/demo-data.js';
import type { DemoPerson } from '../demo/demo-data.js';
import { seedDemo } from '../demo/demo-seed.js';
import { ConfigError } from '../errors/errors.js';
import { buildApp } from '../app/app.js';
import { Readiness } from '../health/readiness.js';
import { idportenIssuerOf } from '../idporten/idporten-issuer.js';
import { PersonRepository } from '../register/person.repository.js';
import type { Database } from '../store/database.js';
import { openReadReplicas, openStore } from '../register/open-store.js';
import type { ReplicaSet } from '../store/read-replicas.js';
import { outboxDeliveryFor } from '../outbox/outbox.delivery.js';
import type { OutboxDelivery } from '../outbox/outbox.delivery.js';
import { RegisterClock } from '../register/register-clock.js';
import { JobsRunner } from '../jobs/jobs.runner.js';
import { configuredJobs } from '../jobs/jobs.js';
import { formatOslo } from '../time/oslo-time.js';
import type { EpochMs } from '../time/oslo-time.js';

export interface ServeOptions {
  /** Seed the demo persons when the register is empty. */
  readonly demo: boolean;
}

/** What `--demo` did (docs/operations.md#demo-data). */
export type DemoOutcome =
  | {
      readonly seeded: readonly DemoPerson[];
      /** The instant the demo timestamps count back from: the `--clock` instant, else the start. */
      readonly anchor: EpochMs;
    }
  | {
      /** The register held this many persons already, so nothing was seeded. */
      readonly existing: number;
      /** The demo persons among them (seeded by an earlier start or `krr seed`). */
      readonly demoPresent: readonly DemoPerson[];
    };

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly db: Database;
  /** The read replicas (docs/operations.md#replicas), when configured. */
  readonly replicas: ReplicaSet | undefined;
  readonly url: string;
  /**
   * Where this machine reaches it: `url`, with `0.0.0.0` and `::` as `127.0.0.1` (what the ready
   * file holds, docs/operations.md#ready-file).
   */
  readonly localUrl: string;
  /** The config served with: with `--port 0`, the port chosen (and the public URL and issuer derived from it). */
  readonly config: KrrConfig;
  /** The register's clock, shared with every krr process on the store (docs/testdata.md#the-clock). */
  readonly clock: RegisterClock;
  /** With `--demo`: what it did. */
  readonly demo: DemoOutcome | undefined;
  /** The outbox's delivery worker (docs/minprofil.md#the-outbox), running until `close()`. */
  readonly outbox: OutboxDelivery;
  /** The register's jobs (docs/jobs.md), unless turned off (`--no-jobs`). */
  readonly jobs: JobsRunner | undefined;
  /** Whether it is stopping: set by `close()`, before anything else (docs/operations.md#stopping). */
  readonly readiness: Readiness;
  /**
   * Stops it (docs/operations.md#stopping): not ready at once; with `drain`, serving on for the
   * configured drain delay; then no new connections, the requests in flight finished (within the
   * grace period), the audit trail's entries written, the jobs, the outbox and the store closed.
   */
  close(options?: CloseOptions): Promise<void>;
}

export interface CloseOptions {
  /**
   * Wait the drain delay (`shutdown.drainSeconds`) before no longer accepting connections: for a
   * load balancer's health check (SIGTERM). Without it (Ctrl-C at a terminal) the server stops at once.
   */
  readonly drain?: boolean;
}

/** Opens the store and serves the API until `close()`. */
export async function startServer(requested: KrrConfig, options: ServeOptions): Promise<RunningServer> {
  // The issuer and the metadata name the server's URL, so a `--port 0` server picks its port first.
  const config =
    requested.http.port === 0 ? withListenPort(requested, await freePort(requested.http.host)) : requested;
  if (!config.dev && config.auth.trustedIssuers.length === 0) {
    throw new ConfigError(
      'no trusted token issuers are configured, so every request would be refused: set trustedIssuers in --config (or KRR_TRUSTED_ISSUERS), or run with --dev',
    );
  }
  const db = await openStore(config.store);
  let replicas: ReplicaSet | undefined;
  // Changes of a replica's state are logged once the app's logger exists (by index, never its URL).
  let onReplicaChange: ((index: number, healthy: boolean, why: string) => void) | undefined;
  let clock: RegisterClock | undefined;
  let outbox: OutboxDelivery | undefined;
  let jobs: JobsRunner | undefined;
  const readiness = new Readiness();
  try {
    replicas = await openReadReplicas(config.store, db, {
      onChange: (index, healthy, why) => onReplicaChange?.(index, healthy, why),
    });
    // `--clock` freezes the store's clock at start; without it the store's clock stands as it is.
    clock = await RegisterClock.open(db, config.clock === undefined ? {} : { initial: config.clock });
    let demo: DemoOutcome | undefined;
    if (options.demo) {
      const persons = new PersonRepository(db);
      const existing = await persons.count();
      if (existing === 0) {
        // Counted back from the register's clock (frozen by --clock), so that the same --clock
        // gives the same register every time (docs/operations.md#demo-data).
        const anchor = clock.now();
        demo = { seeded: await seedDemo(db, anchor), anchor };
      } else {
        // Only the identifiers are compared: they do not depend on the instant.
        const candidates = demoPersons(clock.now());
        const present = new Set(
          (await persons.findMany(candidates.map((p) => p.person.personidentifikator))).map(
            (p) => p.personidentifikator,
          ),
        );
        demo = { existing, demoPresent: candidates.filter((p) => present.has(p.person.personidentifikator)) };
      }
    }
    const devJwk = config.dev ? await devKeyFor(config.store, db) : undefined;
    const verifier = new TokenVerifier({
      trustedIssuers: config.auth.trustedIssuers,
      clockSkewSeconds: config.auth.clockSkewSeconds,
      // docs/tokens.md#key-fetching: https only, except a loopback issuer in dev mode.
      allowHttpLoopback: config.dev,
      ...(devJwk
        ? {
            dev: {
              issuer: config.auth.devIssuer,
              idportenIssuer: idportenIssuerOf(config),
              publicJwk: publicJwk(devJwk),
            },
          }
        : {}),
    });
    const app = await buildApp({
      config,
      db,
      ...(replicas ? { replicas } : {}),
      verifier,
      clock,
      readiness,
      ...(devJwk ? { maskinporten: devTokenServiceOptions(config, devJwk), devKey: devJwk } : {}),
    });
    const replicaLog = app.log.child({ component: 'replicas' });
    onReplicaChange = (index, healthy, why) =>
      healthy
        ? replicaLog.info({ replica: index }, `read replica ${index} is used: ${why}`)
        : replicaLog.warn({ replica: index }, `read replica ${index} is passed over: ${why}`);
    for (const s of replicas?.status() ?? [])
      onReplicaChange(s.index, s.healthy, s.healthy ? 'it is fresh' : 'it is not (yet) known fresh');
    // Recorded before listening, so that nothing can fail once the server is up.
    if (config.dev) {
      await recordDevIdentity(config.store, db, {
        publicUrl: config.publicUrl,
        issuer: config.auth.devIssuer,
      });
    }
    await app.listen({ host: config.http.host, port: config.http.port });
    // The app itself never needs the worker (its tests inject requests without one): messages wait
    // in the outbox, in the store, until a worker of some krr process on it delivers them.
    outbox = outboxDeliveryFor(config, db, app.log.child({ component: 'outbox' }));
    await outbox.start();
    if (config.jobs.enabled) {
      jobs = new JobsRunner({
        db,
        clock,
        jobs: configuredJobs(config),
        log: app.log.child({ component: 'jobs' }),
        pollMs: config.jobs.pollSeconds * 1000,
        leaseMs: config.jobs.leaseSeconds * 1000,
      });
      jobs.start();
    }
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.http.port;
    const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
    return {
      app,
      db,
      replicas,
      url: `http://${host}:${port}`,
      localUrl: baseUrlFor(config.http.host, port),
      config,
      clock,
      demo,
      outbox,
      jobs,
      readiness,
      async close(options: CloseOptions = {}) {
        const log = app.log.child({ component: 'shutdown' });
        // First: /health/ready answers 503, and every answer from now on closes its connection.
        readiness.stop();
        const drainMs = options.drain ? config.shutdown.drainSeconds * 1000 : 0;
        log.info({ drainSeconds: drainMs / 1000 }, 'stopping: not ready; serving on for the drain delay');
        await Promise.all([
          // A run in progress stops at its next safe point and gives its lease up, so that another
          // process can take the job over at once (docs/jobs.md#one-place-at-a-time).
          jobs?.stop(),
          // The load balancer's health check sees the 503 meanwhile and sends new requests to the
          // other servers; what still comes here is served.
          drainMs > 0 ? new Promise((r) => setTimeout(r, drainMs)) : undefined,
        ]);
        log.info(
          { graceSeconds: config.shutdown.graceSeconds },
          'stopping: no new connections; waiting for the requests in flight',
        );
        // app.close() stops listening, ends the idle kept-alive connections, waits for the requests
        // in flight, then writes the audit trail's pending entries (its onClose hook). A request
        // still running at the grace period's end loses its connection.
        const grace = setTimeout(() => {
          log.warn('stopping: the grace period is over; closing the connections left');
          app.server.closeAllConnections();
        }, config.shutdown.graceSeconds * 1000);
        try {
          await app.close();
        } finally {
          clearTimeout(grace);
        }
        log.info('stopping: requests finished and the audit trail written');
        // After the app: a request that enqueued a message has committed; the round in flight
        // finishes, and what is left waits in the store for the next start.
        await outbox!.stop();
        await clock!.close();
        await replicas?.close();
        await db.close();
        log.info('stopping: the store is closed');
      },
    };
  } catch (err) {
    await jobs?.stop();
    await outbox?.stop();
    await clock?.close();
    await replicas?.close();
    await db.close();
    throw err;
  }
}

const DEMO_PROVIDER_COUNT = DEMO_PROVIDERS.length;

function storeArgs(config: KrrConfig): string {
  return config.store.kind === 'embedded'
    ? `--data-dir ${config.store.dataDir}`
    : '--database "$KRR_DATABASE_URL"';
}

/** What a person who just ran `npm start` needs: where it is, how to get a token, a lookup to paste. */
export function startupBanner(requested: KrrConfig, server: RunningServer): string {
  const config = server.config ?? requested;
  const lines = [
    `krr is serving ${server.url} (store: ${config.store.kind}${config.dev ? ', dev mode' : ''})`,
  ];
  const clock = server.clock.view();
  if (clock.frozen) lines.push(`the register's clock is frozen at ${formatOslo(clock.now)}`);
  else if (Math.abs(clock.now - Date.now()) > 1000)
    lines.push(`the register's clock runs at ${formatOslo(clock.now)} (moved through the test-data API)`);
  const demo = server.demo;
  if (demo && 'existing' in demo) {
    const held = `${demo.existing} ${demo.existing === 1 ? 'person' : 'persons'}`;
    const among =
      demo.demoPresent.length === 0
        ? 'none of them a demo person; `krr seed` adds them'
        : `${demo.demoPresent.length} of them demo persons, as an earlier seeding left them`;
    lines.push(`--demo added nothing: the store already held ${held} (${among})`);
  } else if (demo) {
    lines.push(
      `--demo seeded ${demo.seeded.length} demo persons and ${DEMO_PROVIDER_COUNT} mailbox providers, their timestamps counted back from ${formatOslo(demo.anchor)}` +
        (config.clock === undefined
          ? ' (the start; with --clock the same data every time)'
          : ' (the --clock instant: the same data every time)'),
    );
  }
  lines.push(`  OpenAPI: ${server.url}/v3/api-docs   Swagger UI: ${server.url}/swagger-ui/`);
  if (config.testdataApi)
    lines.push(`  test-data API: ${server.url}/testdata/... (scope krr:testdata.write; docs/testdata.md)`);
  if (config.dev) {
    const tokenCmd = `npx krr token ${storeArgs(config)} --consumer 0192:991825827 --scope "krr:global/kontaktinformasjon.read krr:global/digitalpost.read"`;
    lines.push('', 'Get a token (dev issuer):', `  ${tokenCmd}`);
    lines.push(
      '',
      `Maskinporten-like token service (JWT-bearer grant), issuer ${config.auth.devIssuer}:`,
      `  metadata ${config.publicUrl}/.well-known/oauth-authorization-server   token POST ${config.publicUrl}/token   JWKS ${config.publicUrl}/jwk`,
      `  register a client: npx krr clients add ${storeArgs(config)} --client-id ID --orgno ORGNO --scopes "krr:global/kontaktinformasjon.read" --jwk PUBLIC_JWK_FILE`,
      `ID-porten-like sign-in: ${idportenIssuerOf(config)}/.well-known/openid-configuration`,
      `  or a person's token: npx krr token ${storeArgs(config)} --port ${config.http.port} --pid <identifier> --scope "krr:user/kontaktinformasjon.read krr:user/spraak.write"`,
    );
    const persons = demo === undefined ? [] : 'seeded' in demo ? demo.seeded : demo.demoPresent;
    if (persons.length > 0) {
      lines.push('', 'Demo persons:');
      for (const p of persons) lines.push(`  ${p.person.personidentifikator}  ${p.label}`);
      const first = persons[0]!.person.personidentifikator;
      lines.push(
        '',
        'Look one up:',
        `  curl -s -X POST ${server.url}/rest/v2/personer -H "Authorization: Bearer $(${tokenCmd} 2>/dev/null | tail -n 1)" -H 'Content-Type: application/json' -d '{"personidentifikatorer":["${first}"]}'`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

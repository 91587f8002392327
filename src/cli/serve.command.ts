import type { FastifyInstance } from 'fastify';
import { devKeyFor, publicJwk } from '../auth/dev-issuer.js';
import { TokenVerifier } from '../auth/token-verifier.js';
import { withListenPort } from '../config/config.js';
import type { KrrConfig } from '../config/config.js';
import { recordDevIdentity } from '../maskinporten/dev-identity.js';
import { devTokenServiceOptions } from '../maskinporten/maskinporten.app.js';
import { freePort } from '../maskinporten/free-port.js';
import { demoPersons } from '../demo/demo-data.js';
import { seedDemo } from '../demo/demo-seed.js';
import { ConfigError } from '../errors/errors.js';
import { buildApp } from '../app/app.js';
import { idportenIssuerOf } from '../idporten/idporten-issuer.js';
import { PersonRepository } from '../register/person.repository.js';
import type { Database } from '../store/database.js';
import { openStore } from '../register/open-store.js';
import { RegisterClock } from '../register/register-clock.js';
import { formatOslo } from '../time/oslo-time.js';

export interface ServeOptions {
  /** Seed the demo persons when the register is empty. */
  readonly demo: boolean;
}

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly db: Database;
  readonly url: string;
  /** The config served with: with `--port 0`, the port chosen (and the public URL and issuer derived from it). */
  readonly config: KrrConfig;
  /** The register's clock, shared with every krr process on the store (docs/testdata.md#the-clock). */
  readonly clock: RegisterClock;
  close(): Promise<void>;
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
  let clock: RegisterClock | undefined;
  try {
    // `--clock` freezes the store's clock at start; without it the store's clock stands as it is.
    clock = await RegisterClock.open(db, config.clock === undefined ? {} : { initial: config.clock });
    if (options.demo && (await new PersonRepository(db).count()) === 0) {
      await seedDemo(db, clock.now());
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
      verifier,
      clock,
      ...(devJwk ? { maskinporten: devTokenServiceOptions(config, devJwk), devKey: devJwk } : {}),
    });
    // Recorded before listening, so that nothing can fail once the server is up.
    if (config.dev) {
      await recordDevIdentity(config.store, db, {
        publicUrl: config.publicUrl,
        issuer: config.auth.devIssuer,
      });
    }
    await app.listen({ host: config.http.host, port: config.http.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.http.port;
    const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
    return {
      app,
      db,
      url: `http://${host}:${port}`,
      config,
      clock,
      async close() {
        await app.close();
        await clock!.close();
        await db.close();
      },
    };
  } catch (err) {
    await clock?.close();
    await db.close();
    throw err;
  }
}

function storeArgs(config: KrrConfig): string {
  return config.store.kind === 'embedded'
    ? `--data-dir ${config.store.dataDir}`
    : '--database "$KRR_DATABASE_URL"';
}

/** What a person who just ran `npm start` needs: where it is, how to get a token, a lookup to paste. */
export function startupBanner(requested: KrrConfig, server: RunningServer, demo: boolean): string {
  const config = server.config ?? requested;
  const lines = [
    `krr is serving ${server.url} (store: ${config.store.kind}${config.dev ? ', dev mode' : ''})`,
  ];
  const clock = server.clock.view();
  if (clock.frozen) lines.push(`the register's clock is frozen at ${formatOslo(clock.now)}`);
  else if (Math.abs(clock.now - Date.now()) > 1000)
    lines.push(`the register's clock runs at ${formatOslo(clock.now)} (moved through the test-data API)`);
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
    if (demo) {
      const persons = demoPersons(server.clock.now());
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

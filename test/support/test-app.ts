// An app over a real store, with a dev issuer whose key lives in memory, driven with inject().

import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { JWK } from 'jose';
import { exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import { mintDevToken, publicJwk } from '../../src/auth/dev-issuer.js';
import type { DevTokenRequest } from '../../src/auth/dev-issuer.js';
import { TokenVerifier } from '../../src/auth/token-verifier.js';
import type { TokenVerifierOptions } from '../../src/auth/token-verifier.js';
import { loadConfig } from '../../src/config/config.js';
import type { KrrConfig } from '../../src/config/config.js';
import { buildApp } from '../../src/app/app.js';
import type { AppDeps } from '../../src/app/app.js';
import { idportenIssuerOf } from '../../src/idporten/idporten-issuer.js';
import { mintIdportenAccessToken } from '../../src/idporten/idporten.tokens.js';
import type { Person } from '../../src/person/person.js';
import { PersonWriter } from '../../src/register/person.writer.js';
import type { StoreKind } from '../../src/store/database.js';
import type { Clock } from '../../src/time/clock.js';
import { RegisterClock } from '../../src/register/register-clock.js';
import type { EpochMs } from '../../src/time/oslo-time.js';
import { openTestStore } from './stores.js';
import type { TestStore } from './stores.js';

export const TEST_ISSUER = 'https://krr-test.invalid/maskinporten/';

export interface TestApp {
  readonly app: FastifyInstance;
  readonly store: TestStore;
  readonly config: KrrConfig;
  /** Moves the frozen clock used for the 18-month rule (not with `registerClock`). */
  setNow(at: EpochMs): void;
  /** With the option `registerClock`: the store's shared clock the app runs on. */
  readonly registerClock: RegisterClock | undefined;
  /** A Maskinporten-shaped token from the dev Maskinporten-like issuer. */
  token(scopes: readonly string[], extra?: Partial<DevTokenRequest>): Promise<string>;
  /**
   * An ID-porten-shaped token of `pid` from the dev ID-porten-like issuer (docs/tokens.md#krr-token);
   * `pid` null: one from that issuer without `pid`.
   */
  personToken(scopes: readonly string[], pid: string | null): Promise<string>;
  /** POSTs JSON (or raw text) to `url` with the token, if any. */
  post(
    url: string,
    body: unknown,
    token?: string,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
  write(persons: readonly Person[]): Promise<void>;
  close(): Promise<void>;
}

let sharedKey: Promise<JWK> | undefined;
function testKey(): Promise<JWK> {
  sharedKey ??= (async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    return { ...(await exportJWK(privateKey)), kid: 'krr-test-key', alg: 'RS256' };
  })();
  return sharedKey;
}

export async function startTestApp(
  kind: StoreKind,
  options: {
    now?: EpochMs;
    env?: NodeJS.ProcessEnv;
    allowSynthetic?: boolean;
    logLevel?: string;
    logDestination?: NodeJS.WritableStream;
    /** Trusted issuers beside the dev one, and the verifier's bounds (token-attack tests). */
    verifier?: Partial<TokenVerifierOptions>;
    /**
     * Run on the store's shared clock (register/register-clock.ts), as `krr serve` does, frozen
     * at `now` when that is given: the test-data API can turn it.
     */
    registerClock?: boolean;
    /** false: an app outside dev mode (no dev key, no stand-ins); default true. */
    dev?: boolean;
    /** Min profil's real clock and sign-in flow (AppDeps.minprofil). */
    minprofil?: AppDeps['minprofil'];
  } = {},
): Promise<TestApp> {
  const store = await openTestStore(kind);
  const key = await testKey();
  const config = loadConfig(
    {
      dev: options.dev ?? true,
      syntheticIdentifiers: options.allowSynthetic ?? true,
      logLevel: options.logLevel ?? 'silent',
    },
    { KRR_DEV_ISSUER: TEST_ISSUER, ...options.env },
  );
  let now = options.now ?? Date.now();
  const registerClock = options.registerClock
    ? await RegisterClock.open(store.db, options.now === undefined ? {} : { initial: options.now })
    : undefined;
  const clock: Clock = registerClock ?? { now: () => now };
  const verifier = new TokenVerifier({
    trustedIssuers: [],
    clockSkewSeconds: config.auth.clockSkewSeconds,
    dev: { issuer: TEST_ISSUER, idportenIssuer: idportenIssuerOf(config), publicJwk: publicJwk(key) },
    // A dev-mode app: the tests' issuers serve over http on loopback.
    allowHttpLoopback: config.dev,
    ...options.verifier,
  });
  const app = await buildApp({
    config,
    db: store.db,
    verifier,
    clock,
    ...(options.dev === false ? {} : { devKey: key }),
    ...(options.minprofil ? { minprofil: options.minprofil } : {}),
    ...(options.logDestination ? { logDestination: options.logDestination } : {}),
  });
  const writer = new PersonWriter(store.db);
  return {
    app,
    store,
    config,
    registerClock,
    setNow(at) {
      if (registerClock)
        throw new Error('setNow: this app runs on the register clock; turn it through /testdata/klokke');
      now = at;
    },
    token: (scopes, extra = {}) =>
      mintDevToken(key, { issuer: TEST_ISSUER, scopes, consumer: '0192:991825827', ...extra }),
    personToken: async (scopes, pid) => {
      const issuer = idportenIssuerOf(config);
      if (pid !== null) {
        return mintIdportenAccessToken(key, {
          issuer,
          pid,
          scopes,
          clientId: 'krr-dev-client',
          acr: 'idporten-loa-high',
          expiresInSeconds: 3600,
        });
      }
      return new SignJWT({ scope: scopes.join(' '), client_id: 'krr-dev-client', token_type: 'Bearer' })
        .setProtectedHeader({ alg: 'RS256', kid: key.kid! })
        .setIssuer(issuer)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(await importJWK(key, 'RS256'));
    },
    post: (url, body, token, headers = {}) =>
      app.inject({
        method: 'POST',
        url,
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        payload: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    write: (persons) => writer.write(persons),
    async close() {
      await app.close();
      await registerClock?.close();
      await store.dispose();
    },
  };
}

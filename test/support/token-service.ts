// The dev-mode token service over a real socket, on a store of the given kind: an app that listens
// on a loopback port, with `trustedClientCas` pointing at a CA of the test's, and helpers to sign
// assertions, ask for tokens and use them, for the token-service attack suites.

import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { JWTPayload } from 'jose';
import { publicJwk } from '../../src/auth/dev-issuer.js';
import { TokenVerifier } from '../../src/auth/token-verifier.js';
import { buildApp } from '../../src/app/app.js';
import { clientRepositoryFor, ClientService } from '../../src/client/client.service.js';
import { loadConfig } from '../../src/config/config.js';
import { devTokenServiceOptions } from '../../src/maskinporten/maskinporten.app.js';
import type { StoreKind } from '../../src/store/database.js';
import { openTestStore } from './stores.js';
import type { TestStore } from './stores.js';
import type { TestCertificate } from './test-certificates.js';

/** The dev issuer of the app (the default: `npm start`'s), which assertions name as their aud. */
export const TOKEN_SERVICE_ISSUER = 'http://127.0.0.1:8080/';
export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export const newRsaKey = (): KeyObject => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

/** A JWK file's text for `key`'s public half, with `kid`. */
export async function jwkText(key: KeyObject, kid: string): Promise<string> {
  return JSON.stringify({ ...(await exportJWK(key)), kid });
}

export const x5c = (...certs: TestCertificate[]) => ({ x5c: certs.map((c) => c.der) });

export interface AssertionOptions {
  readonly iss: string;
  readonly key: KeyObject;
  readonly header: Record<string, unknown>;
  readonly scope: string;
  readonly claims?: JWTPayload;
  /** false: no jti. */
  readonly jti?: boolean;
}

export async function signAssertion(o: AssertionOptions): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ scope: o.scope, ...o.claims })
    .setProtectedHeader({ alg: 'RS256', ...o.header })
    .setIssuer(o.iss)
    .setAudience(TOKEN_SERVICE_ISSUER)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 60);
  if (o.jti !== false) jwt.setJti(randomUUID());
  return jwt.sign(o.key);
}

export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export interface TokenServiceApp {
  readonly store: TestStore;
  readonly app: FastifyInstance;
  /** `http://127.0.0.1:<port>`. */
  readonly base: string;
  readonly clients: ClientService;
  grant(assertion: string): Promise<Answer>;
  /** Asserts a 400 invalid_grant whose description matches `why` and repeats no part of the assertion. */
  refused(assertion: string, why: RegExp): Promise<void>;
  /** Asserts a token, and gives it with its claims. */
  tokenFor(assertion: string): Promise<{ token: string; claims: JWTPayload }>;
  post(path: string, token: string, body: unknown): Promise<Answer>;
  close(): Promise<void>;
}

/** `seed` runs on the store before the app starts (clients, providers, persons). */
export async function startTokenServiceApp(
  kind: StoreKind,
  trustedCa: TestCertificate,
  seed: (store: TestStore, clients: ClientService) => Promise<void>,
): Promise<TokenServiceApp> {
  const store = await openTestStore(kind);
  const scratch = await mkdtemp(join(tmpdir(), 'krr-token-service-'));
  try {
    await writeFile(join(scratch, 'ca.pem'), trustedCa.pem);
    const clients = new ClientService(clientRepositoryFor(store.config, store.db));
    await seed(store, clients);
    const dev = await generateKeyPair('RS256', { extractable: true });
    const devJwk = { ...(await exportJWK(dev.privateKey)), kid: 'krr-dev-token-service', alg: 'RS256' };
    const storeOption =
      store.config.kind === 'embedded' ? { dataDir: store.config.dataDir } : { database: store.config.url };
    const config = loadConfig(
      { dev: true, logLevel: 'silent', ...storeOption },
      { KRR_TRUSTED_CLIENT_CAS: join(scratch, 'ca.pem') },
    );
    const verifier = new TokenVerifier({
      trustedIssuers: [],
      clockSkewSeconds: config.auth.clockSkewSeconds,
      dev: { issuer: config.auth.devIssuer, publicJwk: publicJwk(devJwk) },
    });
    const app = await buildApp({
      config,
      db: store.db,
      verifier,
      clock: { now: () => Date.now() },
      maskinporten: devTokenServiceOptions(config, devJwk),
    });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const grant = async (assertion: string): Promise<Answer> => {
      const res = await fetch(`${base}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: JWT_BEARER, assertion }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    return {
      store,
      app,
      base,
      clients,
      grant,
      async refused(assertion, why) {
        const res = await grant(assertion);
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.error, 'invalid_grant');
        assert.match(String(res.body.error_description), why);
        for (const part of assertion.split('.'))
          assert.ok(!JSON.stringify(res.body).includes(part), 'the refusal repeats the assertion');
      },
      async tokenFor(assertion) {
        const res = await grant(assertion);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const token = String(res.body.access_token);
        return { token, claims: decodeJwt(token) };
      },
      async post(path, token, body) {
        const res = await fetch(`${base}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      },
      async close() {
        await app.close();
        await store.dispose();
        await rm(scratch, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await store.dispose();
    await rm(scratch, { recursive: true, force: true });
    throw err;
  }
}

// Wiring of the dev-mode token service into the app (one call from http/app.ts).

import type { X509Certificate } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { JWK } from 'jose';
import { publicJwk } from '../auth/dev-issuer.js';
import { clientRepositoryFor } from '../client/client.service.js';
import type { KrrConfig } from '../config/config.js';
import type { Database } from '../store/database.js';
import { loadTrustedCas } from './certificate-chain.js';
import { maskinportenRoutes } from './maskinporten.routes.js';
import { MaskinportenTokenService } from './token.service.js';
import { UsedAssertionRepository } from './used-assertion.repository.js';

export interface DevTokenServiceOptions {
  /** The Maskinporten-like issuer (default `<publicUrl>/`). */
  readonly issuer: string;
  readonly publicUrl: string;
  /** The dev issuer's private JWK. */
  readonly signingJwk: JWK;
  readonly trustedCas: readonly X509Certificate[];
}

/** The options for a dev server with `config` (reads the trusted CA files; bad ones stop the start). */
export function devTokenServiceOptions(config: KrrConfig, signingJwk: JWK): DevTokenServiceOptions {
  return {
    issuer: config.auth.devIssuer,
    publicUrl: config.publicUrl,
    signingJwk,
    trustedCas: loadTrustedCas(config.maskinporten.trustedClientCas),
  };
}

export async function registerDevTokenService(
  app: FastifyInstance,
  db: Database,
  config: KrrConfig,
  options: DevTokenServiceOptions,
): Promise<void> {
  const service = new MaskinportenTokenService({
    clients: clientRepositoryFor(config.store, db),
    usedAssertions: new UsedAssertionRepository(db),
    issuer: options.issuer,
    signingJwk: options.signingJwk,
    tokenExpiresInSeconds: config.maskinporten.tokenExpiresInSeconds,
    clockSkewSeconds: config.auth.clockSkewSeconds,
    trustedCas: options.trustedCas,
  });
  await maskinportenRoutes(app, {
    service,
    issuer: options.issuer,
    publicUrl: options.publicUrl,
    publicJwk: publicJwk(options.signingJwk),
  });
}

// GET /metrics in the Prometheus text format (docs/operations.md#metrics), and the hook that counts
// every request by its route's pattern. Not in the OpenAPI document, not audited, and exempt from
// the rate limit and load shedding (http/traffic-guard.ts): a busy server is when it is watched.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidTokenError } from '../errors/errors.js';
import type { AppMetrics } from './metrics.js';

export const METRICS_PATH = '/metrics';

export interface MetricsRouteDeps {
  readonly metrics: AppMetrics;
  /** When set, a scrape must send it as a bearer token. */
  readonly token: string | undefined;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Whether `request` carries `expected` as its bearer token. The digests are compared, in constant
 * time: neither the token's bytes nor its length show in how long a refusal takes.
 */
export function carriesToken(request: FastifyRequest, expected: Buffer): boolean {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer +(\S+) *$/i.exec(header) : null;
  const given = digest(match?.[1] ?? '');
  return timingSafeEqual(given, expected) && match !== null;
}

/**
 * Counts each answered request. Call before the routes are added; the 404 handler's answers count
 * too, under the route `unmatched` (their path may hold anything).
 */
export function registerRequestMetrics(app: FastifyInstance, metrics: AppMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.observeRequest(
      request.method,
      request.is404 ? undefined : request.routeOptions.url,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });
}

export function metricsRoutes(app: FastifyInstance, deps: MetricsRouteDeps): void {
  const expected = deps.token === undefined ? undefined : digest(deps.token);
  app.get(METRICS_PATH, { schema: { hide: true } }, async (request, reply) => {
    if (expected && !carriesToken(request, expected))
      throw new InvalidTokenError('a valid metrics token is required');
    const { contentType, body } = await deps.metrics.text();
    return reply.header('content-type', contentType).header('cache-control', 'no-store').send(body);
  });
}

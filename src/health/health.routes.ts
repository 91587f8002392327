import type { FastifyInstance } from 'fastify';
import { ShuttingDownError, StoreUnavailableError } from '../errors/errors.js';
import type { Database } from '../store/database.js';
import { sendJson } from '../http/send-json.js';
import type { Readiness } from './readiness.js';

export interface HealthDeps {
  readonly db: Database;
  /**
   * The details `GET /health` adds (docs/operations.md#health): each part's name and what it
   * reports, never personal data. Read on every call of `/health` only, not of `/health/ready`.
   */
  readonly details?: () => Promise<Readonly<Record<string, unknown>>>;
  /** Once it says stopping, `/health/ready` and `/health` answer 503 (docs/operations.md#stopping). */
  readonly readiness?: Readiness;
}

export function healthRoutes(app: FastifyInstance, deps: HealthDeps) {
  const ready = async () => {
    // The load balancer's cue to send new requests elsewhere; the process still lives (/health/live).
    if (deps.readiness?.stopping) throw new ShuttingDownError('the server is stopping');
    try {
      await deps.db.query('select 1');
    } catch {
      throw new StoreUnavailableError('the store cannot be reached');
    }
  };
  app.get('/health/live', { schema: { hide: true } }, async (_request, reply) =>
    sendJson(reply, '{"status":"UP"}'),
  );
  app.get('/health/ready', { schema: { hide: true } }, async (_request, reply) => {
    await ready();
    return sendJson(reply, '{"status":"UP"}');
  });
  app.get('/health', { schema: { hide: true } }, async (_request, reply) => {
    await ready();
    const details = { store: { status: 'UP' }, ...(deps.details ? await deps.details() : {}) };
    return sendJson(reply, JSON.stringify({ status: 'UP', details }));
  });
}

import type { FastifyInstance } from 'fastify';
import { StoreUnavailableError } from '../errors/errors.js';
import type { Database } from '../store/database.js';
import { sendJson } from '../http/send-json.js';

export function healthRoutes(app: FastifyInstance, deps: { db: Database }) {
  app.get('/health/live', { schema: { hide: true } }, async (_request, reply) =>
    sendJson(reply, '{"status":"UP"}'),
  );
  app.get('/health/ready', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await deps.db.query('select 1');
    } catch {
      throw new StoreUnavailableError('the store cannot be reached');
    }
    return sendJson(reply, '{"status":"UP"}');
  });
}

import type { FastifyReply } from 'fastify';

/**
 * Sends JSON text as `Content-Type: application/json`, exactly as Digdir's KRR does. (Fastify
 * appends `; charset=utf-8` to JSON strings; bytes are sent with the type as given.)
 */
export function sendJson(reply: FastifyReply, json: string, status = 200): FastifyReply {
  return reply.status(status).header('content-type', 'application/json').send(Buffer.from(json, 'utf8'));
}

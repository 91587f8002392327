// Response schemas are documentation only (http/openapi.ts): with the serializer compiler of
// registerOpenapi, a route with response schemas answers exactly what the same route without any
// answers, byte for byte, also on fastify's last-resort error path. Two real fastify apps compared.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { errorResponses, jsonResponse, registerSchemas, serialiseAsWithoutSchema } from './openapi.js';

const Thing = Type.Object({ b: Type.String(), a: Type.Integer() }, { $id: 'Thing' });

async function appWith(schemas: boolean): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  if (schemas) {
    app.setSerializerCompiler(() => serialiseAsWithoutSchema);
    registerSchemas(app, [Thing]);
    app.addSchema(Type.Object({ errors: Type.Array(Type.Object({})) }, { $id: 'Errors' }));
  }
  const schema = schemas
    ? { response: { 200: jsonResponse(Thing, 'a thing', true), ...errorResponses({ 404: 'none' }) } }
    : {};
  // Members the schema lacks, in an order of their own, a number where it wants a string.
  app.get('/thing', { schema }, () => ({ a: 'not a number', extra: [1, { z: null }], b: 2 }));
  app.get('/fails', { schema }, () => {
    throw Object.assign(new Error('it failed'), { statusCode: 500, code: 'X_FAILED' });
  });
  app.get('/missing', { schema }, (_request, reply) => reply.code(404).send({ errors: [], more: true }));
  // An error handler that itself fails: the error reaches fastify's last-resort handler.
  app.setErrorHandler(() => {
    throw new Error('the error handler fails');
  });
  await app.ready();
  return app;
}

describe('response schemas in the document', () => {
  it('never change what a route answers', async () => {
    const [plain, described] = await Promise.all([appWith(false), appWith(true)]);
    try {
      for (const url of ['/thing', '/fails', '/missing']) {
        const [a, b] = await Promise.all([plain.inject({ url }), described.inject({ url })]);
        assert.equal(b.statusCode, a.statusCode, url);
        assert.equal(b.body, a.body, url);
        assert.equal(b.headers['content-type'], a.headers['content-type'], url);
      }
      assert.equal(
        (await described.inject({ url: '/thing' })).body,
        '{"a":"not a number","extra":[1,{"z":null}],"b":2}',
      );
    } finally {
      await Promise.all([plain.close(), described.close()]);
    }
  });

  it('refuses two different schemas under one name, and takes the same one twice', () => {
    const app = Fastify({ logger: false });
    registerSchemas(app, [Thing]);
    registerSchemas(app, [Thing]);
    assert.throws(() => registerSchemas(app, [Type.Object({}, { $id: 'Thing' })]), /two different schemas/);
    assert.throws(() => registerSchemas(app, [Type.Object({})]), /needs an \$id/);
  });
});

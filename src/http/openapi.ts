// The OpenAPI document (`GET /v3/api-docs`, docs/operations.md#openapi) and the few helpers every
// route uses to describe itself in it, so that code generators get named types, one error body and
// every status an operation can answer (docs/architecture.md#the-openapi-document).
//
// - A body a route takes or answers is a TypeBox schema with an `$id`: the `$id` is its name in
//   `components.schemas`. The route registers it with `registerSchemas` and points at it with
//   `refTo`, so it is written once however many operations use it.
// - The schemas describe; they never write an answer. Every route sends bytes it rendered itself
//   (`sendJson`, the lookups' pre-rendered answers, docs/lookup.md#field-order), and the serializer
//   compiler below makes a response schema compile to the serialisation fastify uses without one
//   (`serialiseAsWithoutSchema`): a schema added for the document can neither reorder nor drop a
//   field. (It also spares the start the compilation of a serializer per status.)

import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Type } from '@sinclair/typebox';
import type { Static, TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';

/**
 * A schema the document names: one made with an `$id`, which is its name under
 * `components.schemas`. (TypeBox does not carry the option in the type; `nameOf` checks it.)
 */
export type NamedSchema = TSchema;

/** The `$id` of a named schema; a schema without one is a programming error. */
export function nameOf(schema: NamedSchema): string {
  if (typeof schema.$id !== 'string' || schema.$id === '') throw new Error('a named schema needs an $id');
  return schema.$id;
}

/** The tags of the document, in the order a reader meets them (a new tag goes here too). */
export const TAGS = [
  { name: 'oppslag', description: 'Lookups of contact and reservation data (docs/lookup.md)' },
  {
    name: 'innlogget',
    description: 'The logged-in person, with an ID-porten token (docs/person-endpoint.md)',
  },
  { name: 'endringer', description: 'The change feed for a local copy (docs/change-feed.md)' },
  { name: 'postkasse', description: "The mailbox providers' operations (docs/mailbox.md)" },
  { name: 'print', description: "The print provider's certificate (docs/mailbox.md)" },
  {
    name: 'testdata',
    description:
      'Test persons, imports, resets and the clock, where the test-data API is on (docs/testdata.md)',
  },
] as const;

// The contract's error body (docs/errors.md#error-body).
export const ErrorItemSchema = Type.Object(
  {
    id: Type.String({ description: 'a fresh UUID per item' }),
    status: Type.String({ description: 'the HTTP status, as a string', examples: ['422'] }),
    title: Type.String({ description: '"Invalid value" for 422, otherwise the reason phrase' }),
    detail: Type.Optional(Type.String({ description: 'what is wrong, in general terms' })),
    source: Type.Optional(
      Type.Object({
        pointer: Type.String({
          description: 'a JSON Pointer into the request body',
          examples: ['/personidentifikatorer/3'],
        }),
      }),
    ),
  },
  { $id: 'ErrorItem', description: 'One problem with the request.' },
);
export const ErrorsSchema = Type.Object(
  { errors: Type.Array(Type.Unsafe<Static<typeof ErrorItemSchema>>(Type.Ref('ErrorItem'))) },
  { $id: 'Errors', description: 'The error body of every error answer (docs/errors.md#error-body).' },
);

const registered = new WeakMap<FastifyInstance, Map<string, string>>();

/**
 * Adds named schemas to the app, once each: every route registers the schemas it uses, so a schema
 * shared by several features (the Person) may be registered by each of them. Two different schemas
 * under one name are a programming error.
 */
export function registerSchemas(app: FastifyInstance, schemas: readonly NamedSchema[]): void {
  let known = registered.get(app);
  if (!known) registered.set(app, (known = new Map<string, string>()));
  for (const schema of schemas) {
    const name = nameOf(schema);
    const text = JSON.stringify(schema);
    const before = known.get(name);
    if (before === text) continue;
    if (before !== undefined) throw new Error(`two different schemas are named ${name}`);
    app.addSchema(schema);
    known.set(name, text);
  }
}

/** A reference to a named schema, typed as that schema (for a route's `Body`). */
export function refTo<T extends NamedSchema>(schema: T, options: { description?: string } = {}) {
  return Type.Unsafe<Static<T>>(Type.Ref(nameOf(schema), options));
}

export type ErrorStatus = 400 | 401 | 403 | 404 | 408 | 409 | 413 | 415 | 422 | 429 | 431 | 500 | 503;

/**
 * What every operation can answer whatever it does (docs/errors.md#statuses): malformed HTTP, a
 * request not received in time, headers over Node's limit (answered by the HTTP server itself,
 * http/client-error.ts), the rate limit when the operator sets one and load shedding
 * (http/traffic-guard.ts), an unexpected failure.
 */
const ALWAYS: Readonly<Partial<Record<ErrorStatus, string>>> = {
  400: 'The request is not valid HTTP.',
  408: 'The request was not received in time (requestTimeoutSeconds).',
  429: "Over the client's rate limit, where the operator sets one; see Retry-After.",
  431: 'The request headers are over the limit (16 KiB; an oversized token).',
  500: 'An unexpected failure.',
  503:
    'The service is overloaded (see Retry-After), the store cannot be reached, or a token issuer cannot be reached. ' +
    'While the server shuts down the framework answers 503 with its own body, not this one.',
};

/** The statuses of an operation that takes a JSON body. */
export const BODY_ERRORS = {
  400: 'The body is not JSON, is empty, or is not of the shape the operation takes (a member missing or of the wrong type); or the request is not valid HTTP.',
  413: 'The body is over the size limit (bodyLimitBytes).',
} as const satisfies Partial<Record<ErrorStatus, string>>;

/** The statuses of an operation that needs a bearer token (docs/tokens.md#resource-server). */
export const TOKEN_ERRORS = {
  401: 'No token, or one that is malformed, badly signed, from an unknown issuer or key, expired or not yet valid.',
  403: 'The token has none of the scopes the operation needs (WWW-Authenticate: Bearer error="insufficient_scope"), or is a token of the other kind (docs/tokens.md#issuer-kinds).',
} as const satisfies Partial<Record<ErrorStatus, string>>;

const RETRY_AFTER = {
  'retry-after': { type: 'integer', description: 'seconds to wait before trying again' },
};
const HEADERS: Partial<Record<ErrorStatus, Record<string, object>>> = {
  401: {
    'www-authenticate': {
      type: 'string',
      description: 'Bearer error="invalid_token", error_description="<reason>"',
    },
  },
  403: {
    'www-authenticate': {
      type: 'string',
      description: 'Bearer error="insufficient_scope", only when a scope is missing',
    },
  },
  429: RETRY_AFTER,
  503: RETRY_AFTER,
};

/**
 * The error answers of an operation, each the one `Errors` body by reference: `own` names the
 * statuses that this operation answers beside the ones every operation can, with what they mean
 * here (a description in `own` replaces the general one).
 */
export function errorResponses(own: Partial<Record<ErrorStatus, string>>): Record<string, TSchema> {
  const all: Partial<Record<ErrorStatus, string>> = { ...ALWAYS, ...own };
  const out: Record<string, TSchema> = {};
  for (const status of (Object.keys(all).map(Number) as ErrorStatus[]).sort((a, b) => a - b)) {
    const headers = HEADERS[status];
    out[status] = { ...refTo(ErrorsSchema, { description: all[status]! }), ...(headers ? { headers } : {}) };
  }
  return out;
}

/**
 * A success answer (200, 201, ...) of `schema`, placed under its status by the route. `signed`: the
 * route honours `Accept: application/jose` (docs/signed-answers.md), so the answer may as well be a
 * compact JWS whose payload is that JSON.
 */
export function jsonResponse(schema: NamedSchema, description: string, signed = false): TSchema {
  if (!signed) return refTo(schema, { description });
  return {
    description,
    headers: { vary: { type: 'string', description: 'Accept' } },
    content: {
      'application/json': { schema: refTo(schema) },
      'application/jose': {
        schema: Type.String({
          description: `With Accept: application/jose: a compact JWS (RS256, header x5c and kid) whose payload is exactly the JSON answer (${nameOf(schema)}).`,
        }),
      },
    },
  } as unknown as TSchema;
}

/**
 * What fastify writes for a payload when the route has no response schema: JSON.stringify, and for
 * an error that reaches its last-resort handler (only when an error handler itself fails) the
 * members its own error serialiser writes, in its order. Response schemas compile to this.
 */
export function serialiseAsWithoutSchema(data: unknown): string {
  if (data instanceof Error) {
    const e = data as Error & { statusCode?: unknown; code?: unknown; error?: unknown };
    return JSON.stringify({ statusCode: e.statusCode, code: e.code, error: e.error, message: e.message });
  }
  return JSON.stringify(data);
}

/**
 * Registers the document and Swagger UI, the shared error body, and the serializer compiler that
 * keeps response schemas from serialising anything (see the head of this file). Call before the
 * routes are added.
 */
export async function registerOpenapi(app: FastifyInstance): Promise<void> {
  app.setSerializerCompiler(() => serialiseAsWithoutSchema);
  registerSchemas(app, [ErrorItemSchema, ErrorsSchema]);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'krr: Kontakt- og reservasjonsregisteret',
        description:
          "Oppslagstjenesten for kontakt- og reservasjonsregisteret, compatible with Digdir's KRR.",
        version: '1',
      },
      tags: [...TAGS],
      components: {
        securitySchemes: {
          maskinporten: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          idporten: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        },
      },
    },
    // A registered schema is named by its `$id` (the default numbers them: def-0, def-1, ...).
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  });
  await app.register(swaggerUi, { routePrefix: '/swagger-ui' });
  app.get('/v3/api-docs', { schema: { hide: true } }, () => Promise.resolve(app.swagger()));
}

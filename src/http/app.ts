// The HTTP app as a value: built from the frozen config and the opened store, listened on by
// `krr serve`, and driven with inject() in tests.

import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { AuditRepository } from '../audit/audit.repository.js';
import type { KrrConfig } from '../config/config.js';
import {
  BadRequestError,
  KrrError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
} from '../errors/errors.js';
import type { ErrorItem } from '../errors/errors.js';
import { ChangesRepository } from '../changes/changes.repository.js';
import { changesRoutes } from '../changes/changes.routes.js';
import { ChangesService } from '../changes/changes.service.js';
import { healthRoutes } from '../health/health.routes.js';
import { registerTrafficGuards } from '../traffic/traffic-guard.js';
import { mailboxRoutes } from '../mailbox/mailbox.routes.js';
import { MailboxService } from '../mailbox/mailbox.service.js';
import { PersonWriter } from '../person/person.writer.js';
import { printRoutes } from '../provider/print.routes.js';
import { ProviderRepository } from '../provider/provider.repository.js';
import { lookupRoutes, PersonSchema } from '../lookup/lookup.routes.js';
import { LookupService } from '../lookup/lookup.service.js';
import { PersonRepository } from '../person/person.repository.js';
import type { Database } from '../store/database.js';
import type { Clock } from '../time/clock.js';
import { clientErrorHandler } from './client-error.js';
import { errorBody } from './error-body.js';
import { sendJson } from './send-json.js';

export interface AppDeps {
  readonly config: KrrConfig;
  readonly db: Database;
  readonly verifier: TokenVerifier;
  readonly clock: Clock;
  /** Where operational logs go (default: standard output); tests read them. */
  readonly logDestination?: NodeJS.WritableStream;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** Schema (shape) errors: 400, one item per problem, pointing at the value. */
function validationItems(error: FastifyError): ErrorItem[] {
  return (error.validation ?? []).map((v) => {
    const missing = (v.params as { missingProperty?: string }).missingProperty;
    const pointer = missing ? `${v.instancePath}/${missing}` : v.instancePath;
    const name = pointer.split('/').filter(Boolean).join('.') || 'body';
    return { pointer, detail: missing ? `${missing} is required` : `${name} ${v.message ?? 'is not valid'}` };
  });
}

function toKrrError(error: FastifyError): KrrError | undefined {
  if (error instanceof KrrError) return error;
  if (error.validation) return new BadRequestError('the request body is not valid', validationItems(error));
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new PayloadTooLargeError('the request body is too large');
  if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return new BadRequestError('the request body is empty');
  if (
    error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ||
    error.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH'
  ) {
    return new BadRequestError('the request body could not be read');
  }
  if (
    error instanceof SyntaxError ||
    error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    error.statusCode === 400
  ) {
    return new BadRequestError('the request body is not valid JSON');
  }
  return undefined;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, db } = deps;
  const app = Fastify({
    bodyLimit: config.http.bodyLimitBytes,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    return503OnClosing: true,
    clientErrorHandler,
    logger: {
      level: config.logLevel,
      ...(deps.logDestination ? { stream: deps.logDestination } : {}),
      // Operational logs carry the request id, method and path, never headers or bodies:
      // tokens travel in headers, identifiers and contact data in bodies.
      serializers: {
        // Only the route's pattern is logged: a raw URL (query, unknown paths) may carry anything.
        req: (req: FastifyRequest) => ({ method: req.method, route: req.routeOptions?.url ?? '(no route)' }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        err: (err: FastifyError) => ({
          type: err.name,
          code: err.code,
          message: err.message,
          stack: err.stack ?? '',
        }),
      },
    },
    ajv: { customOptions: { coerceTypes: false, allErrors: true, removeAdditional: false } },
  });

  deps.verifier.setLog(app.log);

  // Clients vary the content type (charset, letter case, sometimes none at all): every body is read as JSON.
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' as const }, jsonParser);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = toKrrError(error);
    if (!known) {
      request.log.error({ err: error }, 'unhandled error');
      return sendJson(reply, errorBody(500, []), 500);
    }
    if (known.status >= 500) request.log.warn({ code: known.code }, known.message);
    if (known.status === 401) {
      reply.header(
        'www-authenticate',
        `Bearer error="invalid_token", error_description="${known.message.replace(/"/g, "'")}"`,
      );
    } else if (known.code === 'INSUFFICIENT_SCOPE') {
      reply.header('www-authenticate', 'Bearer error="insufficient_scope"');
    }
    return sendJson(reply, errorBody(known.status, known.items), known.status);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const allowed = METHODS.filter((method) => app.hasRoute({ method, url: path }));
    const error =
      allowed.length > 0
        ? new MethodNotAllowedError(`${request.method} is not allowed here; use ${allowed.join(', ')}`)
        : new NotFoundError('no such resource');
    if (allowed.length > 0) reply.header('allow', allowed.join(', '));
    return sendJson(reply, errorBody(error.status, error.items), error.status);
  });

  await registerTrafficGuards(app, { rateLimit: config.rateLimit, overload: config.overload });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'krr: Kontakt- og reservasjonsregisteret',
        description:
          "Oppslagstjenesten for kontakt- og reservasjonsregisteret, compatible with Digdir's KRR.",
        version: '1',
      },
      components: {
        securitySchemes: {
          maskinporten: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/swagger-ui' });
  app.addSchema(PersonSchema);

  const persons = new PersonRepository(db);
  const audit = new AuditRepository(db);
  const service = new LookupService({
    persons,
    audit,
    clock: deps.clock,
    identifierRules: { allowSynthetic: config.allowSyntheticIdentifiers },
  });

  app.get('/v3/api-docs', { schema: { hide: true } }, async () => app.swagger());
  healthRoutes(app, { db });
  lookupRoutes(app, { service, verifier: deps.verifier });
  const providers = new ProviderRepository(db);
  mailboxRoutes(app, {
    service: new MailboxService({
      writer: new PersonWriter(db),
      persons,
      audit,
      identifierRules: { allowSynthetic: config.allowSyntheticIdentifiers },
    }),
    providers,
    verifier: deps.verifier,
  });
  printRoutes(app, { providers });
  changesRoutes(app, {
    service: new ChangesService({ changes: new ChangesRepository(db), audit, clock: deps.clock }),
    verifier: deps.verifier,
  });
  return app;
}

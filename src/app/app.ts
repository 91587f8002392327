// The HTTP app as a value: built from the frozen config and the opened store, listened on by
// `krr serve`, and driven with inject() in tests.

import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { AuditRepository } from '../audit/audit.repository.js';
import type { KrrConfig } from '../config/config.js';
import {
  BadRequestError,
  ForbiddenError,
  KrrError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
} from '../errors/errors.js';
import type { ErrorItem } from '../errors/errors.js';
import { ChangesRepository } from '../changes/changes.repository.js';
import { changesRoutes } from '../changes/changes.routes.js';
import { ChangesService } from '../changes/changes.service.js';
import { healthRoutes } from '../health/health.routes.js';
import { Readiness } from '../health/readiness.js';
import { configuredJobs, healthOfJob } from '../jobs/jobs.js';
import { jobStates } from '../jobs/jobs.runner.js';
import { registerOpenapi } from '../http/openapi.js';
import { registerTrafficGuards } from '../http/traffic-guard.js';
import { mailboxRoutes } from '../mailbox/mailbox.routes.js';
import { MailboxService } from '../mailbox/mailbox.service.js';
import { PersonWriter } from '../register/person.writer.js';
import { printRoutes } from '../provider/print.routes.js';
import { ProviderRepository } from '../provider/provider.repository.js';
import { lookupRoutes } from '../lookup/lookup.routes.js';
import { LookupService } from '../lookup/lookup.service.js';
import { CachedLookupSource } from '../lookup/lookup.cache.js';
import { AuditBatch } from '../audit/audit.batch.js';
import { PersonRepository } from '../register/person.repository.js';
import { registerDevTokenService } from '../maskinporten/maskinporten.app.js';
import type { DevTokenServiceOptions } from '../maskinporten/maskinporten.app.js';
import type { Database } from '../store/database.js';
import type { ReplicaSet } from '../store/read-replicas.js';
import type { Clock } from '../time/clock.js';
import { clientErrorHandler } from '../http/client-error.js';
import { errorBody } from '../http/error-body.js';
import type { JWK } from 'jose';
import { publicJwk } from '../auth/dev-issuer.js';
import { demoPersons } from '../demo/demo-data.js';
import { seedDemoProviders } from '../demo/demo-seed.js';
import { isEncryptionCertificate } from '../certificate/certificate-check.js';
import { testdataRoutes } from '../testdata/testdata.routes.js';
import { TestdataService } from '../testdata/testdata.service.js';
import { idportenIssuerOf } from '../idporten/idporten-issuer.js';
import { idportenRoutes } from '../idporten/idporten.routes.js';
import { IdportenService } from '../idporten/idporten.service.js';
import { ProfileContactPrompt } from '../idporten/contact-prompt.js';
import { ProfileService } from '../profile/profile.service.js';
import { enqueueMessage } from '../outbox/outbox.repository.js';
import { selfRoutes } from '../self/self.routes.js';
import { SelfService } from '../self/self.service.js';
import { answerSignerFromFiles, lazyDevAnswerSigner } from '../signing/answer-signer.js';
import { signedAnswerHook } from '../signing/signed-answer.hook.js';
import { sendJson } from '../http/send-json.js';
import { createHmac, randomBytes } from 'node:crypto';
import { OutboxRepository } from '../outbox/outbox.repository.js';
import { CALLBACK_PATH, minprofilRoutes } from '../minprofil/minprofil.routes.js';
import type { SignInFlow } from '../minprofil/minprofil.routes.js';
import { SessionRepository } from '../minprofil/session.repository.js';
import { OidcSignIn } from '../minprofil/sign-in.js';
import type { IdportenClient } from '../config/config.js';
import { AppMetrics } from '../metrics/metrics.js';
import { metricsRoutes, registerRequestMetrics } from '../metrics/metrics.routes.js';
import { storeReader } from '../metrics/metrics.store.js';
import { observeDatabase } from '../store/observed.database.js';

export interface AppDeps {
  readonly config: KrrConfig;
  readonly db: Database;
  /**
   * The store's read replicas (docs/operations.md#replicas): lookups, the person endpoint's GET
   * read through them; everything else uses `db`, the primary. Opened and closed by the caller.
   */
  readonly replicas?: ReplicaSet;
  readonly verifier: TokenVerifier;
  /**
   * The register's clock. An AdjustableClock (register/register-clock.ts) is one the test-data
   * API can turn (docs/testdata.md#the-clock); any other answers its klokke routes with 409.
   */
  readonly clock: Clock;
  /** Where operational logs go (default: standard output); tests read them. */
  readonly logDestination?: NodeJS.WritableStream;
  /** Dev mode: the Maskinporten-like token service (POST /token, metadata, /jwk). */
  readonly maskinporten?: DevTokenServiceOptions;
  /** Dev mode's private JWK: with it, the ID-porten-like sign-in is served under /idporten. */
  readonly devKey?: JWK;
  /**
   * Min profil (docs/minprofil.md): tests may give the real clock its sessions' idle timeout runs
   * on (default Date.now; never the register's clock) and a sign-in flow of their own.
   */
  readonly minprofil?: { readonly now?: () => number; readonly signIn?: SignInFlow };
  /**
   * Whether the server is stopping (docs/operations.md#stopping): `krr serve` marks it at SIGTERM;
   * then `/health/ready` answers 503 and every answer closes its connection.
   */
  readonly readiness?: Readiness;
}

/**
 * The secret that signs Min profil's cookies and CSRF tokens: the configured one; in dev mode one
 * derived from the dev key kept with the store (sessions survive a restart); else one of this
 * process only (sessions end with it, and several processes need a configured one).
 */
function minprofilCookieSecret(
  config: KrrConfig,
  devKey: JWK | undefined,
  log: FastifyInstance['log'],
): string {
  if (config.minprofil.cookieSecret !== undefined) return config.minprofil.cookieSecret;
  if (devKey?.d !== undefined)
    return createHmac('sha256', devKey.d).update('krr minprofil cookies').digest('base64url');
  log.warn('Min profil: no cookieSecret configured; sessions last only as long as this process');
  return randomBytes(32).toString('base64url');
}

/** Min profil's client at the dev ID-porten stand-in, with its redirect URI (docs/minprofil.md#sign-in). */
function withMinprofilClient(config: KrrConfig): IdportenClient[] {
  // Copies (the config is frozen), with their keys (jwks, jwksUri) as configured.
  const clients = config.idporten.clients.map((c) => ({ ...c, redirectUris: [...c.redirectUris] }));
  if (!config.minprofil.enabled || config.minprofil.issuer !== undefined) return clients;
  const redirectUri = `${config.publicUrl}${CALLBACK_PATH}`;
  const own = clients.find((c) => c.clientId === config.minprofil.clientId);
  if (own) {
    if (!own.redirectUris.includes(redirectUri)) own.redirectUris.push(redirectUri);
    return clients;
  }
  return [...clients, { clientId: config.minprofil.clientId, redirectUris: [redirectUri] }];
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
  // Any other client error a plugin raises (the static files of /swagger-ui/ refuse a path that
  // leaves their folder with 403) is the 4xx it is, not an unhandled error.
  switch (error.statusCode) {
    case 403:
      return new ForbiddenError('this resource is not available');
    case 404:
      return new NotFoundError('no such resource');
    case 405:
      return new MethodNotAllowedError('the method is not allowed here');
    case 413:
      return new PayloadTooLargeError('the request body is too large');
    case 415:
      return new UnsupportedMediaTypeError('the content type is not supported');
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500)
    return new BadRequestError('the request could not be served');
  return undefined;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  // The metrics (docs/operations.md#metrics): a registry of this app's own; every statement the
  // app sends goes through the observed store, as the primary (replicas will be roles of their own).
  const metrics = config.metrics.enabled
    ? new AppMetrics({ read: storeReader(deps.db), storeReadMs: config.metrics.storeReadSeconds * 1000 })
    : undefined;
  const db = metrics ? observeDatabase(deps.db, metrics.databaseObserver('primary')) : deps.db;
  // Reads that may be a little behind (within the replicas' lag bound) go through `reads`: a fresh
  // replica, else the primary. The feed, tokens, sessions, jobs, writes and the audit trail stay on
  // `db` (docs/operations.md#replicas, docs/change-feed.md#replicas).
  const replicas = deps.replicas;
  const reads = replicas
    ? replicas.router(db, (replica, index) =>
        metrics ? observeDatabase(replica, metrics.databaseObserver('replica', String(index))) : replica,
      )
    : db;
  if (replicas) metrics?.watch({ replicas: () => replicas.status() });
  // The operator's key and certificate are read and checked now (bad files stop the start); dev
  // mode's are made or read on the first signed answer, so a start makes no RSA key.
  const answerSigner = config.answerSigning
    ? await answerSignerFromFiles(config.answerSigning).then((signer) => () => Promise.resolve(signer))
    : config.dev
      ? lazyDevAnswerSigner(db)
      : undefined;
  const app = Fastify({
    bodyLimit: config.http.bodyLimitBytes,
    // Without it a client that trickles its request holds a connection for ever; Node then answers
    // 408 through clientErrorHandler, with the error body (docs/errors.md#error-body).
    requestTimeout: config.http.requestTimeoutSeconds * 1000,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // Every answer is ours, also while the server stops (docs/operations.md#stopping): a request
    // that reaches it then is served as any other (the store is still open), with `Connection:
    // close`; the load balancer learns of the stop from /health/ready, not from a framework's 503.
    return503OnClosing: false,
    // close() ends the kept-alive connections that carry no request at once; those that do end
    // after their answer (Connection: close) or at the grace period's end (serve.command.ts).
    forceCloseConnections: 'idle',
    // Malformed HTTP answered with the error body too (client-error.ts).
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
    // A stopping server's 503 on /health/ready is its own choice, not a fault to warn of.
    if (known.status >= 500 && known.code !== 'SHUTTING_DOWN')
      request.log.warn({ code: known.code }, known.message);
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

  const readiness = deps.readiness ?? new Readiness();
  // A stopping server asks its clients (a load balancer's pooled connections too) to go elsewhere
  // after the answer they are getting, so that its connections end as their requests do.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (readiness.stopping) reply.header('connection', 'close');
    return payload;
  });

  // First, so that every request is counted, also one the guards refuse.
  if (metrics) registerRequestMetrics(app, metrics);
  await registerTrafficGuards(app, { rateLimit: config.rateLimit, overload: config.overload });

  // The OpenAPI document: named schemas, the shared error body (docs/operations.md#openapi).
  await registerOpenapi(app);

  const persons = new PersonRepository(db);
  const readPersons = replicas ? new PersonRepository(reads) : persons;
  const audit = new AuditRepository(db);
  const cache =
    config.lookup.cacheBytes > 0
      ? new CachedLookupSource(
          readPersons,
          config.lookup.cacheBytes,
          undefined,
          replicas ? persons : undefined,
        )
      : undefined;
  // Concurrent lookups share audit inserts (group commit); each still awaits its own record.
  const auditBatch = new AuditBatch(db, undefined, metrics?.auditObserver);
  // Once the server has closed (no request left), before the store closes: entries of lookups
  // whose clients went away are written too (docs/operations.md#stopping).
  app.addHook('onClose', async () => {
    await auditBatch.flush();
  });
  const service = new LookupService({
    persons: readPersons,
    ...(cache ? { source: cache } : {}),
    audit: auditBatch,
    clock: deps.clock,
    identifierRules: { allowSynthetic: config.allowSyntheticIdentifiers },
  });
  metrics?.watch({
    lookup: () => service.stats(),
    ...(cache ? { lookupCache: () => cache.stats() } : {}),
    auditDepth: () => auditBatch.depth,
  });
  if (metrics) metricsRoutes(app, { metrics, token: config.metrics.token });

  // Signed answers (Accept: application/jose) on the routes that ask for it.
  if (!answerSigner)
    app.log.info('signed answers are off: no answerSigning key and certificate are configured');
  app.addHook('onSend', signedAnswerHook(answerSigner));

  const jobs = configuredJobs(config);
  healthRoutes(app, {
    db,
    readiness,
    // Any process's runs: the store holds them, so every krr on it shows the same.
    details: async () => {
      const now = new Date();
      const states = await jobStates(db, jobs);
      return { jobs: Object.fromEntries(states.map((s) => [s.name, healthOfJob(s, now)])) };
    },
  });
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
  if (deps.maskinporten) await registerDevTokenService(app, db, config, deps.maskinporten);
  selfRoutes(app, {
    service: new SelfService({
      persons,
      reads: readPersons,
      writer: new PersonWriter(db),
      audit,
      clock: deps.clock,
      identifierRules: { allowSynthetic: config.allowSyntheticIdentifiers },
    }),
    verifier: deps.verifier,
  });
  if (config.testdataApi) {
    await testdataRoutes(app, {
      service: new TestdataService({
        writer: new PersonWriter(db),
        persons,
        audit,
        clock: deps.clock,
        rules: { allowSynthetic: config.allowSyntheticIdentifiers, isCertificate: isEncryptionCertificate },
        demoPersons: (now) => demoPersons(now).map((p) => p.person),
        // Certificates are valid in real time, whatever the register's clock says.
        ensureDemoProviders: () => seedDemoProviders(db),
      }),
      verifier: deps.verifier,
    });
  }
  // Min profil's operations (docs/minprofil.md): its pages and the dev ID-porten's confirm step
  // (docs/minprofil.md#confirm-prompt) read and stamp through the same service, so a confirmation
  // in either is the same write and audit event.
  const profile = new ProfileService({
    db,
    writer: new PersonWriter(db),
    persons,
    audit,
    enqueue: enqueueMessage,
    clock: deps.clock,
    minprofilUrl: `${config.publicUrl}/minprofil`,
  });
  if (config.dev && deps.devKey) {
    const testPersons = demoPersons(Date.now()).map((p) => ({
      pid: p.person.personidentifikator,
      label: p.label,
    }));
    const minprofilUrl = `${config.publicUrl}/minprofil`;
    await idportenRoutes(app, {
      service: new IdportenService({
        issuer: idportenIssuerOf(config),
        clients: withMinprofilClient(config),
        privateJwk: deps.devKey,
        identifierRules: { allowSynthetic: config.allowSyntheticIdentifiers },
        ...(config.idporten.confirmPrompt
          ? {
              contactPrompt: new ProfileContactPrompt(profile, deps.clock, config.idporten.confirmAfterDays),
              selfServiceUrl: minprofilUrl,
            }
          : {}),
      }),
      publicJwk: publicJwk(deps.devKey),
      persons: () => testPersons,
      minprofilUrl,
    });
  }
  // Min profil: the citizens' pages (docs/minprofil.md). Without a configured issuer it signs in
  // through the dev stand-in above, so it needs dev mode's key.
  const minprofil = config.minprofil;
  if (minprofil.enabled && (minprofil.issuer !== undefined || (config.dev && deps.devKey))) {
    await minprofilRoutes(app, {
      profile,
      sessions: new SessionRepository(db),
      signIn:
        deps.minprofil?.signIn ??
        new OidcSignIn({
          issuer: minprofil.issuer ?? idportenIssuerOf(config),
          clientId: minprofil.clientId,
          clientAuth: minprofil.clientAuth,
          redirectUri: `${config.publicUrl}${CALLBACK_PATH}`,
          // The stand-in serves over plain http on this very server.
          allowHttp: minprofil.issuer === undefined || config.dev,
        }),
      publicUrl: config.publicUrl,
      // In dev mode the stand-in's confirm step sends people here to change their data and back
      // (docs/minprofil.md#confirm-prompt): its own address is on the allow list.
      gotoUrls:
        config.dev && minprofil.issuer === undefined
          ? [...minprofil.gotoUrls, `${idportenIssuerOf(config)}/confirm`]
          : minprofil.gotoUrls,
      sessionIdleMinutes: minprofil.sessionIdleMinutes,
      cookieSecret: minprofilCookieSecret(config, deps.devKey, app.log),
      ...(config.dev ? { devInbox: new OutboxRepository(db) } : {}),
      ...(deps.minprofil?.now ? { now: deps.minprofil.now } : {}),
    });
  }
  return app;
}

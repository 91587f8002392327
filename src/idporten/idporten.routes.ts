// The ID-porten-like issuer's endpoints (dev mode), under `<publicUrl>/idporten`: discovery, JWKS,
// the sign-in page and the token endpoint.
//
// They live in an encapsulated plugin so that their form bodies and OAuth error answers change
// nothing for the KRR endpoints, which read every body as JSON and answer the error body
// (docs/errors.md#error-body).

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { JWK } from 'jose';
import { OAuthError } from '../errors/errors.js';
import { sendJson } from '../http/send-json.js';
import type { IdportenService } from './idporten.service.js';
import type { CompleteOutcome } from './idporten.service.js';
import { renderConfirmPage, renderErrorPage, renderSignInPage } from './sign-in.page.js';
import type { TestPerson } from './sign-in.page.js';

export const IDPORTEN_PREFIX = '/idporten';

export interface IdportenRoutesDeps {
  readonly service: IdportenService;
  readonly publicJwk: JWK;
  /** Shown on the sign-in page. */
  readonly persons: () => readonly TestPerson[];
  /**
   * Min profil's address (`<publicUrl>/minprofil`): the confirm step links there to change the
   * data, with the step's own address as gotoUrl (docs/minprofil.md#confirm-prompt).
   */
  readonly minprofilUrl?: string;
}

const CONFIRM_ACTIONS = ['confirm', 'continue', 'cancel'] as const;

type Form = Record<string, string>;

/** `application/x-www-form-urlencoded`, each name at most once (RFC 6749 section 3.2). */
function parseForm(text: string): Form {
  const form: Form = {};
  for (const [name, value] of new URLSearchParams(text)) {
    if (Object.hasOwn(form, name))
      throw new OAuthError('invalid_request', `${name.slice(0, 40)} is repeated`);
    form[name] = value;
  }
  return form;
}

/** The client from `Authorization: Basic` (RFC 6749 section 2.3.1: the parts are form-encoded). */
function basicClient(request: FastifyRequest): { clientId: string } | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Basic[ \t]+([A-Za-z0-9+/]+=*)[ \t]*$/i.exec(header);
  const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  if (colon <= 0)
    throw new OAuthError(
      'invalid_client',
      'the Authorization header is not valid Basic client authentication',
      401,
    );
  try {
    return { clientId: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')) };
  } catch {
    throw new OAuthError(
      'invalid_client',
      'the Authorization header is not valid Basic client authentication',
      401,
    );
  }
}

function sendOAuthError(reply: FastifyReply, error: OAuthError): FastifyReply {
  if (error.status === 401) reply.header('www-authenticate', 'Basic realm="idporten"');
  reply.header('cache-control', 'no-store');
  return sendJson(
    reply,
    JSON.stringify({ error: error.error, error_description: error.message }),
    error.status,
  );
}

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  // No scripts, no external resources, not framed. (No form-action: browsers apply it to the
  // redirect that follows the form, which goes to the client.)
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.status(status).headers(PAGE_HEADERS).send(html);
}

export async function idportenRoutes(app: FastifyInstance, deps: IdportenRoutesDeps): Promise<void> {
  const { service } = deps;
  const authorizePath = `${IDPORTEN_PREFIX}/authorize`;
  // eslint-disable-next-line @typescript-eslint/require-await -- an async plugin: avvio turns what it throws (a bad route) into a rejected register()
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' as const },
      (_request, body, done) => {
        try {
          done(null, parseForm(body as string));
        } catch (err) {
          done(err as Error, undefined);
        }
      },
    );
    scope.setErrorHandler((error: FastifyError, request, reply) => {
      if (error instanceof OAuthError) return sendOAuthError(reply, error);
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        return sendOAuthError(reply, new OAuthError('invalid_request', 'the request body is too large', 413));
      }
      if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
        return sendOAuthError(
          reply,
          new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded'),
        );
      }
      if ((error.statusCode ?? 500) < 500) {
        return sendOAuthError(reply, new OAuthError('invalid_request', 'the request could not be read'));
      }
      request.log.error({ err: error }, 'unhandled error');
      return sendOAuthError(reply, new OAuthError('server_error', 'the request could not be handled', 500));
    });

    const hide = { schema: { hide: true } };

    scope.get(`${IDPORTEN_PREFIX}/.well-known/openid-configuration`, hide, async (_request, reply) =>
      sendJson(reply, JSON.stringify(service.metadata())),
    );
    scope.get(`${IDPORTEN_PREFIX}/jwks.json`, hide, async (_request, reply) =>
      sendJson(reply, JSON.stringify({ keys: [deps.publicJwk] })),
    );

    scope.get(authorizePath, hide, async (request, reply) => {
      const outcome = service.authorize((request.query ?? {}) as Record<string, unknown>);
      if (outcome.kind === 'page-error') return sendPage(reply, 400, renderErrorPage(outcome.message));
      if (outcome.kind === 'redirect')
        return reply.header('cache-control', 'no-store').redirect(outcome.location, 303);
      return sendPage(
        reply,
        200,
        renderSignInPage({
          formAction: authorizePath,
          requestId: outcome.requestId,
          request: outcome.request,
          persons: deps.persons(),
        }),
      );
    });

    const confirmPath = `${IDPORTEN_PREFIX}/confirm`;
    const minprofilUrl = deps.minprofilUrl ?? `${service.issuer.replace(/\/idporten$/, '')}/minprofil`;
    /** The confirm step's page, or the redirect, or the expired page. */
    const answerStep = (reply: FastifyReply, outcome: CompleteOutcome) => {
      if (outcome.kind === 'confirm') {
        // Where Min profil sends the person back to: this step, which goes straight on when the
        // data is no longer due.
        const back = `${service.issuer}/confirm?${new URLSearchParams({ confirm_id: outcome.confirmId }).toString()}`;
        const changeUrl = `${minprofilUrl}?${new URLSearchParams({ gotoUrl: back }).toString()}`;
        return sendPage(
          reply,
          200,
          renderConfirmPage({
            formAction: confirmPath,
            confirmId: outcome.confirmId,
            view: outcome.view,
            changeUrl,
          }),
        );
      }
      if (outcome.kind === 'redirect')
        return reply.header('cache-control', 'no-store').redirect(outcome.location, 303);
      return sendPage(
        reply,
        400,
        renderErrorPage(
          'This sign-in has expired or is unknown. Start again from the service you came from.',
        ),
      );
    };

    scope.get<{ Querystring: Record<string, unknown> }>(confirmPath, hide, async (request, reply) => {
      const id = request.query?.confirm_id;
      return answerStep(reply, await service.confirmStep(typeof id === 'string' ? id : undefined, 'show'));
    });

    scope.post<{ Body: Form }>(confirmPath, hide, async (request, reply) => {
      const form = request.body ?? {};
      const action = CONFIRM_ACTIONS.find((a) => a === form.action) ?? 'show';
      return answerStep(reply, await service.confirmStep(form.confirm_id, action));
    });

    scope.post<{ Body: Form }>(authorizePath, hide, async (request, reply) => {
      const form = request.body ?? {};
      const outcome = await service.proceed(form.request_id, {
        pid: form.pid,
        cancel: form.cancel !== undefined,
      });
      if (outcome.kind === 'confirm') return answerStep(reply, outcome);
      if (outcome.kind === 'expired') {
        return sendPage(
          reply,
          400,
          renderErrorPage(
            'This sign-in has expired or is unknown. Start again from the service you came from.',
          ),
        );
      }
      if (outcome.kind === 'invalid-person') {
        return sendPage(
          reply,
          422,
          renderSignInPage({
            formAction: authorizePath,
            requestId: form.request_id!,
            request: outcome.request,
            persons: deps.persons(),
            error: `Not a valid identifier: ${outcome.message}.`,
            typed: (form.pid ?? '').slice(0, 11),
          }),
        );
      }
      return reply.header('cache-control', 'no-store').redirect(outcome.location, 303);
    });

    scope.post<{ Body: Form }>(`${IDPORTEN_PREFIX}/token`, hide, async (request, reply) => {
      const answer = await service.exchange(request.body ?? {}, basicClient(request));
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      return sendJson(reply, JSON.stringify(answer));
    });
  });
}

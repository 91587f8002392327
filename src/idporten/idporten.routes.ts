// The ID-porten-like issuer's endpoints (dev mode), under `<publicUrl>/idporten`: discovery, JWKS,
// the sign-in page and the token endpoint.
//
// They live in an encapsulated plugin so that their form bodies and OAuth error answers change
// nothing for the KRR endpoints, which read every body as JSON and answer the error body
// (docs/errors.md#error-body).

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { JWK } from 'jose';
import { h } from 'preact';
import type { VNode } from 'preact';
import { OAuthError } from '../errors/errors.js';
import { serveDesignsystemet } from '../http/designsystemet.js';
import { sendJson } from '../http/send-json.js';
import { renderPage } from '../minprofil/pages/layout.js';
import { pageLocale, Texts } from './i18n/i18n.js';
import type { Locale } from './i18n/i18n.js';
import type { IdportenService } from './idporten.service.js';
import type { CompleteOutcome } from './idporten.service.js';
import { IDPORTEN_CSS_FILE } from './pages/layout.js';
import { ConfirmPage, ErrorPage, SignInPage } from './pages/pages.js';
import type { TestPerson } from './pages/pages.js';
import { IDPORTEN_CSS } from './pages/style.js';

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

/**
 * The pages' Content-Security-Policy (docs/tokens.md#sign-in-pages): no script at all, stylesheets
 * and images only from this server (Designsystemet draws its icons with data: SVGs in CSS masks),
 * nothing inline, not framed. (No form-action: browsers apply it to the redirect that follows the
 * form, which goes to the client.)
 */
export const IDPORTEN_CSP = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': IDPORTEN_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function sendPage<P>(reply: FastifyReply, status: number, page: VNode<P>): FastifyReply {
  return reply.status(status).headers(PAGE_HEADERS).send(renderPage(page));
}

/**
 * The texts of a page: the request's `ui_locales` choice, else the browser's Accept-Language, else
 * `fallback`: English for the sign-in and error pages (a developer's tool), bokmål for the confirm
 * step (as Digdir's module).
 */
function textsFor(request: FastifyRequest, uiLocale: Locale | undefined, fallback: Locale): Texts {
  return new Texts(pageLocale(uiLocale, request.headers['accept-language'], fallback));
}

export async function idportenRoutes(app: FastifyInstance, deps: IdportenRoutesDeps): Promise<void> {
  const { service } = deps;
  const authorizePath = `${IDPORTEN_PREFIX}/authorize`;
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

    await serveDesignsystemet(scope, `${IDPORTEN_PREFIX}/assets/`);
    scope.get(`${IDPORTEN_PREFIX}/assets/${IDPORTEN_CSS_FILE}`, hide, async (_request, reply) =>
      reply
        .header('cache-control', 'public, max-age=3600')
        .header('x-content-type-options', 'nosniff')
        .type('text/css; charset=utf-8')
        .send(IDPORTEN_CSS),
    );

    scope.get(`${IDPORTEN_PREFIX}/.well-known/openid-configuration`, hide, async (_request, reply) =>
      sendJson(reply, JSON.stringify(service.metadata())),
    );
    scope.get(`${IDPORTEN_PREFIX}/jwks.json`, hide, async (_request, reply) =>
      sendJson(reply, JSON.stringify({ keys: [deps.publicJwk] })),
    );

    scope.get(authorizePath, hide, async (request, reply) => {
      const outcome = service.authorize((request.query ?? {}) as Record<string, unknown>);
      if (outcome.kind === 'page-error') {
        const texts = textsFor(request, outcome.uiLocale, 'en');
        return sendPage(reply, 400, h(ErrorPage, { texts, problem: outcome.problem }));
      }
      if (outcome.kind === 'redirect')
        return reply.header('cache-control', 'no-store').redirect(outcome.location, 303);
      return sendPage(
        reply,
        200,
        h(SignInPage, {
          texts: textsFor(request, outcome.request.uiLocale, 'en'),
          formAction: authorizePath,
          requestId: outcome.requestId,
          request: outcome.request,
          persons: deps.persons(),
        }),
      );
    });

    const confirmPath = `${IDPORTEN_PREFIX}/confirm`;
    /** A sign-in that is gone (or never was): nothing of it is known, its language neither. */
    const expiredPage = (request: FastifyRequest, reply: FastifyReply) =>
      sendPage(reply, 400, h(ErrorPage, { texts: textsFor(request, undefined, 'en'), problem: 'expired' }));
    const minprofilUrl = deps.minprofilUrl ?? `${service.issuer.replace(/\/idporten$/, '')}/minprofil`;
    /** The confirm step's page, or the redirect, or the expired page. */
    const answerStep = (request: FastifyRequest, reply: FastifyReply, outcome: CompleteOutcome) => {
      if (outcome.kind === 'confirm') {
        // Where Min profil sends the person back to: this step, which goes straight on when the
        // data is no longer due.
        const back = `${service.issuer}/confirm?${new URLSearchParams({ confirm_id: outcome.confirmId }).toString()}`;
        const changeUrl = `${minprofilUrl}?${new URLSearchParams({ gotoUrl: back }).toString()}`;
        return sendPage(
          reply,
          200,
          h(ConfirmPage, {
            texts: textsFor(request, outcome.request.uiLocale, 'nb'),
            formAction: confirmPath,
            confirmId: outcome.confirmId,
            view: outcome.view,
            changeUrl,
          }),
        );
      }
      if (outcome.kind === 'redirect')
        return reply.header('cache-control', 'no-store').redirect(outcome.location, 303);
      return expiredPage(request, reply);
    };

    scope.get<{ Querystring: Record<string, unknown> }>(confirmPath, hide, async (request, reply) => {
      const id = request.query?.confirm_id;
      return answerStep(
        request,
        reply,
        await service.confirmStep(typeof id === 'string' ? id : undefined, 'show'),
      );
    });

    scope.post<{ Body: Form }>(confirmPath, hide, async (request, reply) => {
      const form = request.body ?? {};
      const action = CONFIRM_ACTIONS.find((a) => a === form.action) ?? 'show';
      return answerStep(request, reply, await service.confirmStep(form.confirm_id, action));
    });

    scope.post<{ Body: Form }>(authorizePath, hide, async (request, reply) => {
      const form = request.body ?? {};
      const outcome = await service.proceed(form.request_id, {
        pid: form.pid,
        cancel: form.cancel !== undefined,
      });
      if (outcome.kind === 'confirm') return answerStep(request, reply, outcome);
      if (outcome.kind === 'expired') return expiredPage(request, reply);
      if (outcome.kind === 'invalid-person') {
        return sendPage(
          reply,
          422,
          h(SignInPage, {
            texts: textsFor(request, outcome.request.uiLocale, 'en'),
            formAction: authorizePath,
            requestId: form.request_id!,
            request: outcome.request,
            persons: deps.persons(),
            problem: outcome.problem,
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

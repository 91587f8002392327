// Min profil's pages under /minprofil (docs/minprofil.md): sign-in, the session, and the citizen's
// own entry through ProfileOperations. An encapsulated plugin: its form bodies, cookies, headers
// and HTML error pages change nothing for the JSON API beside it (app.ts reads every body as JSON
// and answers the error body).
//
// Who acts is always the session's person: no handler reads an identifier from a form or a query.

import fastifyCookie from '@fastify/cookie';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { VNode } from 'preact';
import { h } from 'preact';
import type { StoredOutboxMessage } from '../outbox/outbox.js';
import { serveDesignsystemet } from '../http/designsystemet.js';
import { isLanguage } from '../person/person.js';
import { ProfileError } from '../profile/profile.js';
import type { ProfileActor, ProfileChannel, ProfileOperations } from '../profile/profile.js';
import { allowedGotoUrl, gotoOrigins } from './goto.js';
import { chooseLocale, Texts } from './i18n/i18n.js';
import { PREFIX, renderPage } from './pages/layout.js';
import {
  ChannelPage,
  CodePage,
  InboxPage,
  LanguagePage,
  LookupsPage,
  MessagePage,
  OverviewPage,
  RegisterPage,
  ReservationPage,
  SAVED_NOTES,
} from './pages/pages.js';
import type { PageContext, SavedNote } from './pages/pages.js';
import { MINPROFIL_CSS } from './pages/style.js';
import {
  contentSecurityPolicy,
  csrfToken,
  csrfTokenMatches,
  pageHeaders,
  sameOriginPost,
} from './security.js';
import type { Session, SessionRepository } from './session.repository.js';
import type { PendingSignIn, SignedIn } from './sign-in.js';

export const SESSION_COOKIE = 'minprofil_session';
export const LOGIN_COOKIE = 'minprofil_login';
export const GOTO_COOKIE = 'minprofil_goto';
export const LOCALE_COOKIE = 'minprofil_locale';
export const DEV_INBOX_PATH = '/dev/innboks';
export const CALLBACK_PATH = `${PREFIX}/innlogget`;
const LOOKUPS_PAGE_SIZE = 20;
/** How long a sign-in may take between the redirect out and the answer. */
const LOGIN_MAX_AGE_SECONDS = 15 * 60;
const FORM_BODY_LIMIT = 16 * 1024;

/** What the routes need of sign-in (OidcSignIn; a test may give its own). */
export interface SignInFlow {
  start(uiLocale: string): Promise<{ url: string; pending: PendingSignIn }>;
  finish(callback: URL, pending: PendingSignIn): Promise<SignedIn>;
}

export interface MinprofilRoutesDeps {
  readonly profile: ProfileOperations;
  readonly sessions: SessionRepository;
  readonly signIn: SignInFlow;
  /** The server's base URL (config.publicUrl): the redirect URI, the origin forms must come from. */
  readonly publicUrl: string;
  readonly gotoUrls: readonly string[];
  readonly sessionIdleMinutes: number;
  /** Signs the cookies and the CSRF tokens. */
  readonly cookieSecret: string;
  /** Dev mode: the outbox's newest messages, listed at /dev/innboks. */
  readonly devInbox?: { recent(limit: number): Promise<readonly StoredOutboxMessage[]> };
  /** The real clock (milliseconds), for the idle timeout; never the register's clock. */
  readonly now?: () => number;
}

type Form = Record<string, string>;
/** Every route's request: a form body (POST), a query of anything (checked where read). */
type Route = { Body: Form; Querystring: Record<string, unknown> };

/** `application/x-www-form-urlencoded`, each name once (a repeated one is refused). */
function parseForm(text: string): Form {
  const form: Form = Object.create(null) as Form;
  for (const [name, value] of new URLSearchParams(text)) {
    if (Object.hasOwn(form, name)) {
      const err = new Error('a form field is repeated') as FastifyError;
      err.statusCode = 400;
      throw err;
    }
    form[name] = value;
  }
  return form;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Secure cookies, except where the server is reached over plain http on this machine (dev). */
export function cookiesSecure(publicUrl: string): boolean {
  const url = new URL(publicUrl);
  return !(url.protocol === 'http:' && LOOPBACK.has(url.hostname));
}

export async function minprofilRoutes(app: FastifyInstance, deps: MinprofilRoutesDeps): Promise<void> {
  const now = deps.now ?? Date.now;
  const idleMs = deps.sessionIdleMinutes * 60_000;
  const origin = new URL(deps.publicUrl).origin;
  const redirectUri = `${deps.publicUrl}${CALLBACK_PATH}`;
  const secure = cookiesSecure(deps.publicUrl);
  const csp = contentSecurityPolicy(gotoOrigins(deps.gotoUrls).filter((o) => o !== origin));
  const headers = pageHeaders(csp);
  const baseCookie = { httpOnly: true, sameSite: 'lax' as const, secure, path: PREFIX };

  function textsOf(request: FastifyRequest, reply: FastifyReply): Texts {
    const query = (request.query ?? {}) as Record<string, unknown>;
    const choice = chooseLocale(
      query.locale,
      request.cookies[LOCALE_COOKIE],
      request.headers['accept-language'],
    );
    if (choice.remember) {
      reply.setCookie(LOCALE_COOKIE, choice.locale, {
        ...baseCookie,
        path: '/',
        maxAge: 365 * 24 * 3600,
      });
    }
    return new Texts(choice.locale);
  }

  async function sessionOf(request: FastifyRequest): Promise<Session | undefined> {
    const raw = request.cookies[SESSION_COOKIE];
    if (raw === undefined) return undefined;
    const unsigned = request.unsignCookie(raw);
    if (!unsigned.valid || unsigned.value === null) return undefined;
    return deps.sessions.resume(unsigned.value, new Date(now()), idleMs);
  }

  function send<P>(reply: FastifyReply, status: number, page: VNode<P>): FastifyReply {
    return reply.status(status).type('text/html; charset=utf-8').send(renderPage(page));
  }

  function messagePage(
    reply: FastifyReply,
    status: number,
    texts: Texts,
    title: string,
    text: string,
    link: { href: string; text: string } | undefined = { href: PREFIX, text: texts.t('error.home') },
  ): FastifyReply {
    return send(reply, status, h(MessagePage, { texts, title, text, link }));
  }
  /** A refused form post (CSRF, another site) or a forbidden request. */
  const forbiddenPage = (reply: FastifyReply, texts: Texts): FastifyReply =>
    messagePage(reply, 403, texts, texts.t('error.forbidden.title'), texts.t('error.forbidden.text'));

  const actorOf = (session: Session): ProfileActor => ({ pid: session.pid, sessionHash: session.idHash });
  const pageContext = (texts: Texts, session: Session): PageContext => ({
    texts,
    csrf: csrfToken(deps.cookieSecret, session.idHash),
  });

  async function startSignIn(reply: FastifyReply, texts: Texts): Promise<FastifyReply> {
    const { url, pending } = await deps.signIn.start(texts.locale);
    reply.setCookie(LOGIN_COOKIE, Buffer.from(JSON.stringify(pending)).toString('base64url'), {
      ...baseCookie,
      signed: true,
      maxAge: LOGIN_MAX_AGE_SECONDS,
    });
    return reply.redirect(url, 303);
  }

  /** After a save or a confirm: back to the allowed return address, else the overview with a note. */
  function done(request: FastifyRequest, reply: FastifyReply, note: SavedNote): FastifyReply {
    const raw = request.cookies[GOTO_COOKIE];
    const unsigned = raw === undefined ? undefined : request.unsignCookie(raw);
    // Checked again at use: the allow list may have changed since the cookie was set.
    const goto = unsigned?.valid ? allowedGotoUrl(unsigned.value, deps.gotoUrls) : undefined;
    if (goto !== undefined) {
      reply.clearCookie(GOTO_COOKIE, baseCookie);
      return reply.redirect(goto, 303);
    }
    return reply.redirect(`${PREFIX}?lagret=${note}`, 303);
  }

  /** The text of a refused change, in the page's language. */
  function problemText(texts: Texts, error: ProfileError): string {
    const text = texts.t(`problem.${error.problem}`);
    return error.problem === 'CODE_WRONG' && error.triesLeft !== undefined
      ? `${text} ${texts.t('code.triesLeft', { count: error.triesLeft })}`
      : text;
  }

  type Handler = (
    request: FastifyRequest<Route>,
    reply: FastifyReply,
    c: { texts: Texts; session: Session; ctx: PageContext; actor: ProfileActor; form: Form },
  ) => Promise<FastifyReply>;

  /**
   * A page for the signed-in person: without a session a GET starts the sign-in and a POST is
   * sent to the overview (which signs in); a POST must carry the session's CSRF token and come
   * from our own origin.
   */
  function signedIn(handler: Handler) {
    return async (request: FastifyRequest<Route>, reply: FastifyReply): Promise<FastifyReply> => {
      const texts = textsOf(request, reply);
      const session = await sessionOf(request);
      if (request.method === 'POST') {
        // Parsed by parseForm (a POST without a body has none).
        // Absent when the POST has no body.
        const form: Form = request.body ?? {};
        if (
          !sameOriginPost(request.headers, origin) ||
          (session && !csrfTokenMatches(deps.cookieSecret, session.idHash, form._csrf))
        ) {
          return forbiddenPage(reply, texts);
        }
        if (!session) {
          reply.clearCookie(SESSION_COOKIE, baseCookie);
          return reply.redirect(PREFIX, 303);
        }
        return handler(request, reply, {
          texts,
          session,
          ctx: pageContext(texts, session),
          actor: actorOf(session),
          form,
        });
      }
      if (!session) {
        if (request.cookies[SESSION_COOKIE] !== undefined) reply.clearCookie(SESSION_COOKIE, baseCookie);
        return startSignIn(reply, texts);
      }
      return handler(request, reply, {
        texts,
        session,
        ctx: pageContext(texts, session),
        actor: actorOf(session),
        form: {},
      });
    };
  }

  await app.register(
    async (scope) => {
      await scope.register(fastifyCookie, { secret: deps.cookieSecret });
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser(
        'application/x-www-form-urlencoded',
        { parseAs: 'string' as const, bodyLimit: FORM_BODY_LIMIT },
        (_request, body, doneParsing) => {
          try {
            doneParsing(null, parseForm(body as string));
          } catch (err) {
            doneParsing(err as Error, undefined);
          }
        },
      );
      scope.addHook('onRequest', async (_request, reply) => {
        reply.headers(headers);
      });

      // The two stylesheets the layout links, nothing else of the packages' folders.
      await serveDesignsystemet(scope, '/assets/');

      const hide = { schema: { hide: true } };
      scope.get('/assets/minprofil.css', hide, async (_request, reply) =>
        reply
          .header('cache-control', 'public, max-age=3600')
          .type('text/css; charset=utf-8')
          .send(MINPROFIL_CSS),
      );

      scope.setNotFoundHandler((request, reply) => {
        const texts = textsOf(request, reply);
        return messagePage(
          reply,
          404,
          texts,
          texts.t('error.notFound.title'),
          texts.t('error.notFound.text'),
        );
      });

      scope.setErrorHandler((error: FastifyError, request, reply) => {
        const texts = textsOf(request, reply);
        const status = error.statusCode ?? 500;
        if (status >= 400 && status < 500) {
          if (status === 404)
            return messagePage(
              reply,
              404,
              texts,
              texts.t('error.notFound.title'),
              texts.t('error.notFound.text'),
            );
          if (status === 403) return forbiddenPage(reply, texts);
          return messagePage(reply, status, texts, texts.t('error.title'), texts.t('error.forbidden.text'));
        }
        // Logged without the request's values (app.ts's serializers keep to type, code, message).
        request.log.error({ err: error }, 'Min profil: unhandled error');
        return messagePage(reply, 500, texts, texts.t('error.title'), texts.t('error.server.text'));
      });

      // --- Sign-in and sign-out ---

      scope.get('/logg-inn', hide, async (request, reply) => startSignIn(reply, textsOf(request, reply)));

      scope.get<Route>('/innlogget', hide, async (request, reply) => {
        const texts = textsOf(request, reply);
        const failed = () =>
          messagePage(reply, 400, texts, texts.t('signin.title'), texts.t('signin.failed'), {
            href: `${PREFIX}/logg-inn`,
            text: texts.t('signin.again'),
          });
        const raw = request.cookies[LOGIN_COOKIE];
        reply.clearCookie(LOGIN_COOKIE, baseCookie);
        const unsigned = raw === undefined ? undefined : request.unsignCookie(raw);
        if (!unsigned?.valid || unsigned.value === null) return failed();
        let pending: PendingSignIn;
        try {
          pending = JSON.parse(Buffer.from(unsigned.value, 'base64url').toString('utf8')) as PendingSignIn;
        } catch {
          return failed();
        }
        const search = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
        let signed: SignedIn;
        try {
          signed = await deps.signIn.finish(new URL(`${redirectUri}${search}`), pending);
        } catch (err) {
          // The reason (a claim's name, never a value) for the operator; the citizen sees a retry.
          request.log.warn({ code: (err as { code?: string }).code }, (err as Error).message);
          return failed();
        }
        const { id } = await deps.sessions.create(signed.pid, signed.acr, new Date(now()));
        reply.setCookie(SESSION_COOKIE, id, { ...baseCookie, signed: true });
        return reply.redirect(PREFIX, 303);
      });

      scope.post<Route>(
        '/logg-ut',
        hide,
        signedIn(async (_request, reply, { texts, session }) => {
          await deps.sessions.end(session.idHash, new Date(now()));
          reply.clearCookie(SESSION_COOKIE, baseCookie);
          reply.clearCookie(GOTO_COOKIE, baseCookie);
          return messagePage(reply, 200, texts, texts.t('loggedOut.title'), texts.t('loggedOut.text'), {
            href: `${PREFIX}/logg-inn`,
            text: texts.t('signin.again'),
          });
        }),
      );

      // --- The overview, and registering ---

      scope.get<Route>('/', hide, async (request, reply) => {
        const query = request.query ?? {};
        if (query.gotoUrl !== undefined) {
          const goto = allowedGotoUrl(query.gotoUrl, deps.gotoUrls);
          const texts = textsOf(request, reply);
          if (goto === undefined)
            return messagePage(reply, 400, texts, texts.t('error.goto.title'), texts.t('error.goto.text'));
          reply.setCookie(GOTO_COOKIE, goto, { ...baseCookie, signed: true });
        }
        return signedIn(async (req, rep, { ctx, session }) => {
          const entry = await deps.profile.entry(session.pid);
          if (!entry.registered) return send(rep, 200, h(RegisterPage, { ctx }));
          const note = req.query.lagret;
          const saved =
            typeof note === 'string' && Object.hasOwn(SAVED_NOTES, note) ? (note as SavedNote) : undefined;
          return send(rep, 200, h(OverviewPage, { ctx, entry, saved }));
        })(request, reply);
      });

      scope.post<Route>(
        '/registrer',
        hide,
        signedIn(async (request, reply, { ctx, actor, texts }) => {
          try {
            await deps.profile.register(actor);
          } catch (err) {
            if (!(err instanceof ProfileError)) throw err;
            if (err.problem === 'ALREADY_REGISTERED') return reply.redirect(PREFIX, 303);
            return send(reply, err.status, h(RegisterPage, { ctx, problem: problemText(texts, err) }));
          }
          return done(request, reply, 'registrert');
        }),
      );

      scope.post<Route>(
        '/bekreft',
        hide,
        signedIn(async (request, reply, { ctx, actor, session, texts }) => {
          try {
            await deps.profile.confirm(actor);
          } catch (err) {
            if (!(err instanceof ProfileError)) throw err;
            const entry = await deps.profile.entry(session.pid);
            return send(reply, err.status, h(OverviewPage, { ctx, entry, problem: problemText(texts, err) }));
          }
          return done(request, reply, 'bekreftet');
        }),
      );

      // --- E-mail and mobile: a new value, its code, removal ---

      for (const channel of ['epost', 'mobil'] as const satisfies readonly ProfileChannel[]) {
        const path = `/${channel}`;
        scope.get<Route>(
          path,
          hide,
          signedIn(async (_request, reply, { ctx, session }) => {
            const entry = await deps.profile.entry(session.pid);
            if (!entry.registered) return reply.redirect(PREFIX, 303);
            return send(reply, 200, h(ChannelPage, { ctx, channel, current: entry[channel] }));
          }),
        );
        scope.post<Route>(
          path,
          hide,
          signedIn(async (_request, reply, { ctx, session, actor, form, texts }) => {
            const value = (form.value ?? '').trim();
            try {
              await deps.profile.requestCode(actor, channel, value);
            } catch (err) {
              if (!(err instanceof ProfileError)) throw err;
              const entry = await deps.profile.entry(session.pid);
              const atField = ['INVALID_EMAIL', 'INVALID_MOBILE', 'SAME_VALUE'].includes(err.problem);
              return send(
                reply,
                err.status,
                h(ChannelPage, {
                  ctx,
                  channel,
                  current: entry[channel],
                  typed: value.slice(0, 254),
                  ...(atField ? { error: problemText(texts, err) } : { problem: problemText(texts, err) }),
                }),
              );
            }
            return reply.redirect(`${PREFIX}/${channel}/kode`, 303);
          }),
        );
        scope.get<Route>(
          `${path}/kode`,
          hide,
          signedIn(async (_request, reply, { ctx, session }) => {
            const entry = await deps.profile.entry(session.pid);
            const pending = entry.pending.find((p) => p.channel === channel);
            if (!pending) return reply.redirect(`${PREFIX}/${channel}`, 303);
            return send(reply, 200, h(CodePage, { ctx, channel, pending }));
          }),
        );
        scope.post<Route>(
          `${path}/kode`,
          hide,
          signedIn(async (request, reply, { ctx, session, actor, form, texts }) => {
            const code = (form.kode ?? '').replace(/\s+/g, '');
            const again = async (status: number, error: string) => {
              const entry = await deps.profile.entry(session.pid);
              const pending = entry.pending.find((p) => p.channel === channel);
              if (!pending)
                return send(
                  reply,
                  status,
                  h(ChannelPage, { ctx, channel, current: entry[channel], problem: error }),
                );
              return send(reply, status, h(CodePage, { ctx, channel, pending, error }));
            };
            if (!/^[0-9]{6}$/.test(code)) return again(422, texts.t('problem.CODE_FORMAT'));
            try {
              await deps.profile.verifyCode(actor, channel, code);
            } catch (err) {
              if (!(err instanceof ProfileError)) throw err;
              return again(err.status, problemText(texts, err));
            }
            return done(request, reply, channel);
          }),
        );
        scope.post<Route>(
          `${path}/fjern`,
          hide,
          signedIn(async (request, reply, { ctx, session, actor, texts }) => {
            try {
              await deps.profile.removeChannel(actor, channel);
            } catch (err) {
              if (!(err instanceof ProfileError)) throw err;
              const entry = await deps.profile.entry(session.pid);
              return send(
                reply,
                err.status,
                h(ChannelPage, { ctx, channel, current: entry[channel], problem: problemText(texts, err) }),
              );
            }
            return done(request, reply, channel === 'epost' ? 'fjernet-epost' : 'fjernet-mobil');
          }),
        );
      }

      // --- Reservation ---

      scope.get<Route>(
        '/reservasjon',
        hide,
        signedIn(async (_request, reply, { ctx, session }) => {
          const entry = await deps.profile.entry(session.pid);
          if (!entry.registered) return reply.redirect(PREFIX, 303);
          return send(reply, 200, h(ReservationPage, { ctx, entry }));
        }),
      );
      for (const [path, reserve] of [
        ['/reservasjon', true],
        ['/reservasjon/opphev', false],
      ] as const) {
        scope.post<Route>(
          path,
          hide,
          signedIn(async (request, reply, { ctx, session, actor, texts }) => {
            try {
              await (reserve ? deps.profile.reserve(actor) : deps.profile.liftReservation(actor));
            } catch (err) {
              if (!(err instanceof ProfileError)) throw err;
              const entry = await deps.profile.entry(session.pid);
              return send(
                reply,
                err.status,
                h(ReservationPage, { ctx, entry, problem: problemText(texts, err) }),
              );
            }
            return done(request, reply, reserve ? 'reservert' : 'opphevet');
          }),
        );
      }

      // --- Language ---

      scope.get<Route>(
        '/spraak',
        hide,
        signedIn(async (_request, reply, { ctx, session }) => {
          const entry = await deps.profile.entry(session.pid);
          if (!entry.registered) return reply.redirect(PREFIX, 303);
          return send(reply, 200, h(LanguagePage, { ctx, current: entry.spraak }));
        }),
      );
      scope.post<Route>(
        '/spraak',
        hide,
        signedIn(async (request, reply, { ctx, session, actor, form, texts }) => {
          const value = form.spraak ?? '';
          const fail = async (status: number, error: string) => {
            const entry = await deps.profile.entry(session.pid);
            return send(reply, status, h(LanguagePage, { ctx, current: entry.spraak, error }));
          };
          if (value !== '' && !isLanguage(value)) return fail(422, texts.t('problem.INVALID_LANGUAGE'));
          try {
            await deps.profile.setLanguage(actor, value === '' ? null : value);
          } catch (err) {
            if (!(err instanceof ProfileError)) throw err;
            return fail(err.status, problemText(texts, err));
          }
          return done(request, reply, 'spraak');
        }),
      );

      // --- Who looked me up ---

      scope.get<Route>(
        '/oppslag',
        hide,
        signedIn(async (request, reply, { ctx, session }) => {
          const side = request.query.side;
          const page = typeof side === 'string' && /^[1-9][0-9]{0,4}$/.test(side) ? Number(side) : 1;
          const history = await deps.profile.lookups(session.pid, page - 1, LOOKUPS_PAGE_SIZE);
          return send(reply, 200, h(LookupsPage, { ctx, history, page }));
        }),
      );
    },
    { prefix: PREFIX },
  );

  // The dev inbox (docs/minprofil.md#the-outbox): dev mode only; elsewhere the route does not exist.
  const devInbox = deps.devInbox;
  if (devInbox) {
    await app.register(async (scope) => {
      await scope.register(fastifyCookie, { secret: deps.cookieSecret });
      scope.get(DEV_INBOX_PATH, { schema: { hide: true } }, async (request, reply) => {
        const texts = textsOf(request, reply);
        const messages = [...(await devInbox.recent(200))]
          .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id - a.id)
          .map((m) => ({
            at: m.createdAt,
            recipient: m.recipient,
            channel: m.channel,
            subject: m.subject,
            text: m.text,
          }));
        return reply
          .headers(headers)
          .type('text/html; charset=utf-8')
          .send(renderPage(h(InboxPage, { texts, messages })));
      });
    });
  }
}

// The ID-porten-like sign-in of dev mode: OpenID Connect's authorization code flow with PKCE (S256
// only, as ID-porten demands), a test person picked on a page instead of a real login, and tokens
// signed with the one dev key. Pure of HTTP: the routes translate.
//
// Written by hand with jose rather than with oidc-provider: that is a Koa application to mount
// inside fastify, with its own storage adapters, cookies and interaction model, far heavier than the
// three endpoints a dev stand-in needs, and PKCE itself is one SHA-256 compare.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import type { JSONWebKeySet, JWK, JWTVerifyGetKey } from 'jose';
import { OAuthError } from '../errors/errors.js';
import { checkPersonIdentifier } from '../identifier/identifier.js';
import type { IdentifierProblem, IdentifierRules } from '../identifier/identifier.js';
import { localeFromUiLocales } from './i18n/i18n.js';
import type { Locale } from './i18n/i18n.js';
import { SPRAAK_WRITE_SCOPE, USER_READ_SCOPES } from '../self/self.routes.js';
import { BoundedEntries, charsOf, entryBytes } from './bounded-entries.js';
import { ACR_VALUES, mintIdportenAccessToken, mintIdToken } from './idporten.tokens.js';
import type { Acr } from './idporten.tokens.js';

/**
 * The only scopes this stand-in grants (docs/tokens.md#sign-in-scopes): OpenID Connect's and
 * the person's own `krr:user/*` scopes. A request for any other (a Maskinporten scope such as
 * `krr:global/*`, above all) is refused with `invalid_scope`.
 */
export const IDPORTEN_SCOPES: readonly string[] = [
  'openid',
  'profile',
  ...USER_READ_SCOPES.filter((s) => s.startsWith('krr:user/')),
  SPRAAK_WRITE_SCOPE,
];

/** A validated authorization request, kept while the person picks who to be. */
export interface AuthorizationRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  readonly state: string | undefined;
  readonly nonce: string | undefined;
  readonly codeChallenge: string;
  readonly acr: Acr;
  /**
   * The first of the pages' languages in `ui_locales`, if any (docs/tokens.md#sign-in-pages): the
   * sign-in and confirm pages speak it.
   */
  readonly uiLocale: Locale | undefined;
}

/** Why an authorization request gets an error page rather than a redirect (the page's texts). */
export type PageProblem = 'no-client' | 'no-redirect-uri' | 'bad-redirect-uri' | 'unregistered-redirect-uri';

export type AuthorizeOutcome =
  /**
   * The redirect_uri cannot be trusted or used: the error is shown on the page, never redirected;
   * `uiLocale` is the request's `ui_locales` choice, for the page.
   */
  | { readonly kind: 'page-error'; readonly problem: PageProblem; readonly uiLocale: Locale | undefined }
  /** The redirect_uri is usable: the client gets the error as an OAuth error redirect. */
  | { readonly kind: 'redirect'; readonly location: string }
  | { readonly kind: 'sign-in'; readonly requestId: string; readonly request: AuthorizationRequest };

export type CompleteOutcome =
  | { readonly kind: 'redirect'; readonly location: string }
  /**
   * The sign-in is held for the confirm step (docs/minprofil.md#confirm-prompt): show the person's
   * contact information; `confirmId` names the held sign-in in the step's forms and links.
   */
  | {
      readonly kind: 'confirm';
      readonly confirmId: string;
      readonly view: ContactPromptView;
      readonly request: AuthorizationRequest;
    }
  /** The typed identifier is not valid: show the page again with this problem. */
  | {
      readonly kind: 'invalid-person';
      readonly problem: IdentifierProblem;
      readonly request: AuthorizationRequest;
    }
  | { readonly kind: 'expired' };

export interface TokenAnswer {
  readonly access_token: string;
  readonly id_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly scope: string;
}

/** A client with the redirect URIs registered for it (docs/tokens.md#id-porten-clients). */
export interface RegisteredClient {
  readonly clientId: string;
  readonly redirectUris: readonly string[];
  /** Public keys for `private_key_jwt` (a client with keys must authenticate with them). */
  readonly jwks?: { readonly keys: readonly Record<string, unknown>[] };
  readonly jwksUri?: string;
}

/** What the confirm step shows of the signed-in person (docs/minprofil.md#confirm-prompt). */
export interface ContactPromptView {
  /** False: no entry (or SLETTET); the step offers to register at Min profil. */
  readonly registered: boolean;
  readonly epost: string | undefined;
  readonly mobil: string | undefined;
}

/**
 * The register's side of the confirm step: whether a sign-in is interrupted, and the confirmation.
 * Implemented over Min profil's ProfileOperations (contact-prompt.ts).
 */
export interface ContactPrompt {
  /** The person's contact information when the step is due, undefined when the sign-in goes on. */
  due(pid: string): Promise<ContactPromptView | undefined>;
  /** Stamps `_sist_verifisert` now for every channel the person has (audited). */
  confirm(pid: string): Promise<void>;
}

/** RFC 7523's client assertion type: `private_key_jwt` (OpenID Connect Core § 9). */
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface IdportenOptions {
  readonly issuer: string;
  /** The registered clients; any client may also use a loopback redirect URI (dev mode). */
  readonly clients?: readonly RegisteredClient[];
  /** The dev issuer's private JWK (the one key of dev mode). */
  readonly privateJwk: JWK;
  readonly identifierRules: IdentifierRules;
  /** Wall-clock milliseconds; tests move it to expire codes. */
  readonly now?: () => number;
  readonly codeTtlSeconds?: number;
  readonly tokenTtlSeconds?: number;
  /** The confirm step; undefined: sign-ins are never interrupted. */
  readonly contactPrompt?: ContactPrompt;
  /**
   * Redirect URIs starting with this are Min profil's own sign-in, which the confirm step sends
   * the person to: never interrupted, or changing one's data would loop.
   */
  readonly selfServiceUrl?: string;
}

/** A sign-in held for the confirm step: the request and the person picked. */
interface HeldSignIn {
  readonly request: AuthorizationRequest;
  readonly pid: string;
}

interface IssuedCode {
  /** The request without its `state`, which went back with the code and is not needed again. */
  readonly request: AuthorizationRequest;
  readonly pid: string;
  readonly authTime: number;
}

/** RFC 7636: 43 to 128 characters of the unreserved set. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
/** base64url of a SHA-256 digest. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const PENDING_TTL_MS = 15 * 60_000;
/** A client assertion may be valid for at most this long (`exp` - `iat`, or from now). */
const MAX_ASSERTION_SECONDS = 120;
const ASSERTION_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
] as const;
/**
 * Bounds on what is held in memory, whatever anyone sends (docs/tokens.md#sign-in-limits): pending
 * sign-ins and issued codes, each at most this many and this many bytes, the oldest dropped first.
 */
const MAX_PENDING = 10_000;
const MAX_CODES = 10_000;
export const MAX_PENDING_BYTES = 4 * 1024 * 1024;
export const MAX_CODE_BYTES = 4 * 1024 * 1024;
/** An authorization request whose kept values are longer than this (in characters) is refused. */
export const MAX_REQUEST_CHARS = 8 * 1024;

function single(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  return undefined;
}

function usableRedirectUri(value: string | undefined): string | undefined {
  if (value === undefined || value.length === 0 || value.length > 2000) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.hash !== '' || value.includes('#')) return undefined;
  return value;
}

/** Loopback hosts, as URL writes them (RFC 8252 § 7.3). */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** An http(s) URI on this machine, without a user part (docs/tokens.md#id-porten-clients). */
function isLoopback(redirectUri: string): boolean {
  const url = new URL(redirectUri);
  return LOOPBACK_HOSTS.has(url.hostname) && url.username === '' && url.password === '';
}

/** Whether `url` is `prefix` or below it (a path segment, a query), not merely longer text. */
function isUnder(url: string, prefix: string): boolean {
  return url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`);
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The strings an authorization request keeps, for its size. */
function requestStrings(request: AuthorizationRequest): (string | undefined)[] {
  return [
    request.clientId,
    request.redirectUri,
    ...request.scopes,
    request.state,
    request.nonce,
    request.codeChallenge,
    request.acr,
  ];
}

export class IdportenService {
  readonly issuer: string;
  private readonly now: () => number;
  private readonly codeTtlMs: number;
  private readonly tokenTtlSeconds: number;
  private readonly pending: BoundedEntries<AuthorizationRequest>;
  private readonly codes: BoundedEntries<IssuedCode>;
  private readonly redirectUris = new Map<string, ReadonlySet<string>>();
  private readonly held: BoundedEntries<HeldSignIn>;
  /** The keys of each client registered with some (private_key_jwt). */
  private readonly clientKeys = new Map<string, JWTVerifyGetKey>();
  /** Client assertions' `jti`s until they expire: an assertion is used once (RFC 7523 § 3). */
  private readonly usedAssertions = new BoundedEntries<true>(
    (MAX_ASSERTION_SECONDS + 60) * 1000, // past the latest exp allowed, with its tolerance
    10_000,
    2 * 1024 * 1024,
  );

  constructor(private readonly options: IdportenOptions) {
    this.issuer = options.issuer;
    for (const client of options.clients ?? []) {
      this.redirectUris.set(client.clientId, new Set(client.redirectUris));
      if (client.jwks) {
        this.clientKeys.set(client.clientId, createLocalJWKSet(client.jwks as unknown as JSONWebKeySet));
      } else if (client.jwksUri !== undefined) {
        // jose's default, said here: a client's key URL that never answers fails its token call
        // after 5 s (docs/operations.md#timeouts).
        this.clientKeys.set(
          client.clientId,
          createRemoteJWKSet(new URL(client.jwksUri), { timeoutDuration: 5000 }),
        );
      }
    }
    this.held = new BoundedEntries(PENDING_TTL_MS, MAX_PENDING, MAX_PENDING_BYTES);
    this.now = options.now ?? Date.now;
    this.codeTtlMs = (options.codeTtlSeconds ?? 60) * 1000;
    this.tokenTtlSeconds = options.tokenTtlSeconds ?? 600;
    this.pending = new BoundedEntries(PENDING_TTL_MS, MAX_PENDING, MAX_PENDING_BYTES);
    this.codes = new BoundedEntries(this.codeTtlMs, MAX_CODES, MAX_CODE_BYTES);
  }

  /** The OpenID Connect discovery document. */
  metadata(): Record<string, unknown> {
    const issuer = this.issuer;
    return {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks.json`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: [
        'none',
        'client_secret_post',
        'client_secret_basic',
        'private_key_jwt',
      ],
      token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
      scopes_supported: [...IDPORTEN_SCOPES],
      acr_values_supported: [...ACR_VALUES],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: [
        'iss',
        'sub',
        'aud',
        'exp',
        'iat',
        'nonce',
        'acr',
        'amr',
        'pid',
        'auth_time',
        'locale',
      ],
      authorization_response_iss_parameter_supported: true,
      ui_locales_supported: ['nb', 'nn', 'en'],
    };
  }

  /**
   * Whether the answer may go to `redirectUri` (docs/tokens.md#id-porten-clients): one registered for
   * the client, compared exactly, as ID-porten compares; in dev mode also any loopback URI, as
   * ID-porten allows localhost in its test environment.
   */
  private mayRedirect(clientId: string, redirectUri: string): boolean {
    return this.redirectUris.get(clientId)?.has(redirectUri) === true || isLoopback(redirectUri);
  }

  /** Checks an authorization request (`GET <issuer>/authorize`'s query). */
  authorize(query: Record<string, unknown>): AuthorizeOutcome {
    const clientId = single(query.client_id);
    const rawRedirect = single(query.redirect_uri);
    const uiLocale = localeFromUiLocales(single(query.ui_locales));
    const pageError = (problem: PageProblem): AuthorizeOutcome => ({ kind: 'page-error', problem, uiLocale });
    if (!clientId) return pageError('no-client');
    const redirectUri = usableRedirectUri(rawRedirect);
    if (!redirectUri)
      return pageError(
        rawRedirect === undefined || rawRedirect === '' ? 'no-redirect-uri' : 'bad-redirect-uri',
      );
    // Nothing, not even an error, goes to an address the client has not registered: that would make
    // this server an open redirector for whoever writes the link.
    if (!this.mayRedirect(clientId, redirectUri)) return pageError('unregistered-redirect-uri');
    const state = single(query.state);
    const fail = (error: string, description: string): AuthorizeOutcome => ({
      kind: 'redirect',
      location: this.redirect(redirectUri, { error, error_description: description, state }),
    });
    for (const [name, value] of Object.entries(query)) {
      if (Array.isArray(value)) return fail('invalid_request', `${name} is repeated`);
    }
    if (single(query.response_type) !== 'code') {
      return fail('unsupported_response_type', 'response_type must be code');
    }
    const codeChallenge = single(query.code_challenge);
    if (!codeChallenge) return fail('invalid_request', 'code_challenge is required (PKCE)');
    if (single(query.code_challenge_method) !== 'S256') {
      return fail('invalid_request', 'code_challenge_method must be S256');
    }
    if (!S256_CHALLENGE.test(codeChallenge)) {
      return fail('invalid_request', 'code_challenge is not a base64url SHA-256 digest');
    }
    const scopes = (single(query.scope) ?? '').split(' ').filter((s) => s.length > 0);
    if (!scopes.includes('openid')) return fail('invalid_scope', 'scope must include openid');
    // The scope is not repeated in the answer: it came from whoever made the link.
    if (scopes.some((s) => !IDPORTEN_SCOPES.includes(s))) {
      return fail(
        'invalid_scope',
        'a scope asked for is not one this sign-in grants: openid, profile and the krr:user/ scopes of its metadata',
      );
    }
    const wanted = (single(query.acr_values) ?? '').split(' ');
    const acr = (ACR_VALUES as readonly string[]).find((a) => wanted.includes(a)) as Acr | undefined;
    const request: AuthorizationRequest = {
      clientId,
      redirectUri,
      scopes: [...new Set(scopes)],
      state,
      nonce: single(query.nonce),
      codeChallenge,
      acr: acr ?? 'idporten-loa-substantial',
      uiLocale,
    };
    if (charsOf(requestStrings(request)) > MAX_REQUEST_CHARS) {
      return fail(
        'invalid_request',
        `the authorization request is too large (at most ${MAX_REQUEST_CHARS} characters of client_id, redirect_uri, scope, state and nonce)`,
      );
    }
    const requestId = randomBytes(24).toString('base64url');
    this.pending.add(requestId, request, entryBytes([...requestStrings(request), requestId]), this.now());
    return { kind: 'sign-in', requestId, request };
  }

  /** The person was picked (or the sign-in cancelled): a code (or an error) goes back to the client. */
  complete(requestId: string | undefined, choice: { pid?: string; cancel?: boolean }): CompleteOutcome {
    const checked = this.checkChoice(requestId, choice);
    if (checked.kind !== 'picked') return checked;
    this.pending.delete(requestId!);
    return { kind: 'redirect', location: this.issueCode(checked.request, checked.pid) };
  }

  /**
   * As `complete`, but first the confirm step (docs/minprofil.md#confirm-prompt): when the person's
   * contact information is due for confirmation, the sign-in is held and the step shown instead
   * of the code going back.
   */
  async proceed(
    requestId: string | undefined,
    choice: { pid?: string; cancel?: boolean },
  ): Promise<CompleteOutcome> {
    const prompt = this.options.contactPrompt;
    const checked = this.checkChoice(requestId, choice);
    if (checked.kind !== 'picked') return checked;
    const { request, pid } = checked;
    const selfService = this.options.selfServiceUrl;
    const view =
      prompt && !(selfService !== undefined && isUnder(request.redirectUri, selfService))
        ? await prompt.due(pid)
        : undefined;
    // Taken only now: the same form posted twice meanwhile finds it gone, as with `complete`.
    if (this.pending.get(requestId!, this.now()) === undefined) return { kind: 'expired' };
    this.pending.delete(requestId!);
    if (!view) return { kind: 'redirect', location: this.issueCode(request, pid) };
    const confirmId = randomBytes(24).toString('base64url');
    this.held.add(
      confirmId,
      { request, pid },
      entryBytes([...requestStrings(request), confirmId, pid]),
      this.now(),
    );
    return { kind: 'confirm', confirmId, view, request };
  }

  /**
   * The confirm step's answer for a held sign-in: `show` (the step again, as Min profil sends the
   * person back: a person whose data is no longer due goes straight on), `confirm` (stamps, then
   * goes on), `continue` (goes on without stamping: only when there is nothing to confirm, as
   * Digdir's module lets a person without contact information go on), `cancel`.
   */
  async confirmStep(
    confirmId: string | undefined,
    action: 'show' | 'confirm' | 'continue' | 'cancel',
  ): Promise<CompleteOutcome> {
    const held = confirmId === undefined ? undefined : this.held.get(confirmId, this.now());
    const prompt = this.options.contactPrompt;
    if (!held || !prompt) return { kind: 'expired' };
    const goOn = (): CompleteOutcome => {
      if (this.held.get(confirmId!, this.now()) === undefined) return { kind: 'expired' };
      this.held.delete(confirmId!);
      return { kind: 'redirect', location: this.issueCode(held.request, held.pid) };
    };
    if (action === 'cancel') {
      this.held.delete(confirmId!);
      return {
        kind: 'redirect',
        location: this.redirect(held.request.redirectUri, {
          error: 'access_denied',
          error_description: 'the sign-in was cancelled',
          state: held.request.state,
        }),
      };
    }
    const view = await prompt.due(held.pid);
    if (!view) return goOn();
    const hasChannel = view.epost !== undefined || view.mobil !== undefined;
    if (action === 'confirm' && hasChannel) {
      await prompt.confirm(held.pid);
      return goOn();
    }
    if (action === 'continue' && !hasChannel) return goOn();
    return { kind: 'confirm', confirmId: confirmId!, view, request: held.request };
  }

  /** The request and the valid identifier picked, or what to answer instead. */
  private checkChoice(
    requestId: string | undefined,
    choice: { pid?: string; cancel?: boolean },
  ): CompleteOutcome | { kind: 'picked'; request: AuthorizationRequest; pid: string } {
    const request = requestId === undefined ? undefined : this.pending.get(requestId, this.now());
    if (!request) return { kind: 'expired' };
    if (choice.cancel) {
      this.pending.delete(requestId!);
      return {
        kind: 'redirect',
        location: this.redirect(request.redirectUri, {
          error: 'access_denied',
          error_description: 'the sign-in was cancelled',
          state: request.state,
        }),
      };
    }
    const pid = (choice.pid ?? '').trim();
    const check = checkPersonIdentifier(pid, this.options.identifierRules);
    if (!check.valid) {
      return {
        kind: 'invalid-person',
        problem: check.problem,
        request,
      };
    }
    return { kind: 'picked', request, pid };
  }

  /** Issues a code for `pid` and gives the redirect that carries it back to the client. */
  private issueCode(request: AuthorizationRequest, pid: string): string {
    const now = this.now();
    const code = randomBytes(32).toString('base64url');
    const kept: AuthorizationRequest = { ...request, state: undefined };
    this.codes.add(
      code,
      { request: kept, pid, authTime: Math.floor(now / 1000) },
      entryBytes([...requestStrings(kept), code, pid]),
      now,
    );
    return this.redirect(request.redirectUri, { code, state: request.state });
  }

  /** The pending request behind a sign-in page, if it is still open. */
  pendingRequest(requestId: string): AuthorizationRequest | undefined {
    return this.pending.get(requestId, this.now());
  }

  /**
   * `POST <issuer>/token` with the authorization_code grant. `basic` is the client from an
   * `Authorization: Basic` header, if any. A code is used up by its first exchange, successful or
   * not (RFC 6749 section 4.1.2: a code may be used once).
   */
  async exchange(
    form: Record<string, string>,
    basic: { clientId: string } | undefined,
  ): Promise<TokenAnswer> {
    const grantType = form.grant_type;
    if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required');
    if (grantType !== 'authorization_code') {
      throw new OAuthError('unsupported_grant_type', 'only the authorization_code grant is supported');
    }
    let clientId: string | undefined;
    let clientAmr: string;
    if (form.client_assertion_type !== undefined || form.client_assertion !== undefined) {
      if (form.client_assertion_type !== JWT_BEARER_ASSERTION) {
        throw new OAuthError('invalid_request', `client_assertion_type must be ${JWT_BEARER_ASSERTION}`);
      }
      if (!form.client_assertion) throw new OAuthError('invalid_request', 'client_assertion is required');
      if (basic || form.client_secret !== undefined) {
        throw new OAuthError('invalid_request', 'the request authenticates the client in more than one way');
      }
      clientId = await this.verifyClientAssertion(form.client_assertion, form.client_id);
      clientAmr = 'private_key_jwt';
    } else {
      if (basic && form.client_id !== undefined && form.client_id !== basic.clientId) {
        throw new OAuthError('invalid_request', 'client_id differs from the client authentication', 400);
      }
      clientId = basic?.clientId ?? form.client_id;
      // A client registered with keys proves itself with them, or anyone could be it.
      if (clientId !== undefined && this.clientKeys.has(clientId)) {
        throw new OAuthError('invalid_client', 'this client authenticates with private_key_jwt', 401);
      }
      clientAmr = basic ? 'client_secret_basic' : form.client_secret ? 'client_secret_post' : 'none';
    }
    for (const name of ['code', 'redirect_uri', 'code_verifier'] as const) {
      if (!form[name]) throw new OAuthError('invalid_request', `${name} is required`);
    }
    if (!clientId) throw new OAuthError('invalid_request', 'client_id is required');
    if (!VERIFIER.test(form.code_verifier!)) {
      throw new OAuthError('invalid_request', 'code_verifier must be 43 to 128 unreserved characters');
    }
    const issued = this.codes.get(form.code!, this.now());
    this.codes.delete(form.code!);
    if (!issued) {
      throw new OAuthError('invalid_grant', 'the code is unknown, expired or already used');
    }
    const { request } = issued;
    if (request.clientId !== clientId)
      throw new OAuthError('invalid_grant', 'the code was issued to another client');
    if (request.redirectUri !== form.redirect_uri) {
      throw new OAuthError('invalid_grant', 'redirect_uri differs from the one in the authorization request');
    }
    if (!sameText(s256(form.code_verifier!), request.codeChallenge)) {
      throw new OAuthError('invalid_grant', 'the code_verifier does not match the code_challenge');
    }
    const [accessToken, idToken] = await Promise.all([
      mintIdportenAccessToken(this.options.privateJwk, {
        issuer: this.issuer,
        pid: issued.pid,
        scopes: request.scopes,
        clientId,
        acr: request.acr,
        expiresInSeconds: this.tokenTtlSeconds,
        clientAmr,
      }),
      mintIdToken(this.options.privateJwk, {
        issuer: this.issuer,
        pid: issued.pid,
        clientId,
        acr: request.acr,
        nonce: request.nonce,
        authTime: issued.authTime,
        expiresInSeconds: this.tokenTtlSeconds,
        // As ID-porten's: the language of the sign-in, here the request's ui_locales choice.
        locale: request.uiLocale ?? 'nb',
      }),
    ]);
    return {
      access_token: accessToken,
      id_token: idToken,
      token_type: 'Bearer',
      expires_in: this.tokenTtlSeconds,
      scope: request.scopes.join(' '),
    };
  }

  /**
   * Checks a `private_key_jwt` client assertion (OpenID Connect Core § 9, RFC 7523 § 3): signed by
   * a key of the client it names (`iss` = `sub` = the client), for this issuer or its token
   * endpoint, short-lived, used once. Returns the client's id.
   */
  private async verifyClientAssertion(assertion: string, formClientId: string | undefined): Promise<string> {
    const refuse = (why: string) => new OAuthError('invalid_client', `the client assertion ${why}`, 401);
    let iss: unknown;
    try {
      iss = decodeJwt(assertion).iss;
    } catch {
      throw refuse('is not a JWT');
    }
    if (typeof iss !== 'string' || iss.length === 0) throw refuse('names no client (iss)');
    if (formClientId !== undefined && formClientId !== iss)
      throw refuse('is for another client than client_id');
    const keys = this.clientKeys.get(iss);
    if (!keys) throw refuse('names a client registered without keys (jwks or jwksUri)');
    let payload: { exp?: number; iat?: number; jti?: string };
    try {
      ({ payload } = await jwtVerify(assertion, keys, {
        issuer: iss,
        subject: iss,
        audience: [this.issuer, `${this.issuer}/token`],
        algorithms: [...ASSERTION_ALGORITHMS],
        requiredClaims: ['exp', 'jti'],
        currentDate: new Date(this.now()),
        clockTolerance: 30,
      }));
    } catch (err) {
      // jose's codes name the check that failed (ERR_JWT_EXPIRED, ERR_JWS_SIGNATURE_VERIFICATION_FAILED),
      // never a value from the token.
      throw refuse(`is not valid (${(err as { code?: string }).code ?? 'unreadable'})`);
    }
    const nowSeconds = Math.floor(this.now() / 1000);
    if (payload.exp! - Math.max(payload.iat ?? nowSeconds, nowSeconds - 30) > MAX_ASSERTION_SECONDS + 30) {
      throw refuse(`lives longer than ${MAX_ASSERTION_SECONDS} seconds`);
    }
    const key = `${iss}\n${payload.jti!}`;
    if (this.usedAssertions.get(key, this.now())) throw refuse('was used before');
    this.usedAssertions.add(key, true, entryBytes([key]), this.now());
    return iss;
  }

  /** The redirect back to the client, with `iss` (RFC 9207) as ID-porten sends it. */
  private redirect(redirectUri: string, params: Record<string, string | undefined>): string {
    const url = new URL(redirectUri);
    for (const [name, value] of Object.entries(params))
      if (value !== undefined) url.searchParams.set(name, value);
    url.searchParams.set('iss', this.issuer);
    return url.toString();
  }
}

// Verifies bearer access tokens (the resource-server side of Maskinporten and ID-porten) with jose
// against the issuers the operator trusts. Errors say what is wrong in general terms and never
// contain the token.

import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import type { JSONWebKeySet, JWK, JWTPayload, JWTVerifyGetKey, ProtectedHeaderParameters } from 'jose';
import { MAX_CLOCK_SKEW_SECONDS } from '../config/config.js';
import type { TrustedIssuer } from '../config/config.js';
import { DEFAULT_ISSUER_KIND } from '../config/issuer-presets.js';
import { ConfigError, InvalidTokenError, IssuerUnavailableError } from '../errors/errors.js';
import type { AccessToken, IssuerKind } from '../access/access-token.js';
import { organisationFromClaim, scopesFromClaim } from '../access/access-token.js';

/** Maskinporten and ID-porten sign with RSA; nothing else (and never `none` or HMAC) is accepted. */
export const ALLOWED_ALGORITHMS = ['RS256', 'RS384', 'RS512'];
/** Larger tokens are refused before any parsing. Real ones are around 1 KiB. */
export const MAX_TOKEN_BYTES = 16 * 1024;
/** Compact JWS: three base64url parts, none empty (so also no unsecured `alg: none` tokens). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** How long to wait for an issuer's metadata and keys, all requests of one refresh together. */
export const DEFAULT_FETCH_TIMEOUT_MS = 5000;
/** At most one refetch per issuer in this time, however many tokens name an unknown `kid`. */
export const DEFAULT_REFRESH_COOLDOWN_MS = 30_000;
/** A key set this old is refreshed in the background (the old one serves meanwhile). */
export const DEFAULT_KEYS_MAX_AGE_MS = 10 * 60_000;
/** Digdir asks for its metadata to be cached; 24 hours is what it suggests. */
const METADATA_MAX_AGE_MS = 24 * 60 * 60_000;
/** A metadata document or key set larger than this is refused (Digdir's are a few KiB). */
const MAX_DOCUMENT_BYTES = 512 * 1024;

/** A key set one token was verified with, and how long that verification may be relied on. */
export interface KeySetLease {
  /** Epoch ms at which the key set is due for a refresh: past it, check the token again. */
  readonly freshUntil: number;
  /** Whether the key set is still the one the issuer's tokens are verified with (not refetched since). */
  current(): boolean;
}

/** A verified token with the lease of the key set that verified it (for VerifiedTokenCache). */
export interface LeasedVerification {
  readonly token: AccessToken;
  readonly keys: KeySetLease;
}

interface KeySet {
  readonly getKey: JWTVerifyGetKey;
  readonly lease: KeySetLease;
}

/** The keys to verify one token with, or why there are none. */
interface IssuerKeys {
  readonly issuer: string;
  /** Which endpoints take its tokens (docs/tokens.md#issuer-kinds). */
  readonly kind: IssuerKind;
  readonly audience: string | undefined;
  /** Resolves the key set for a token with this `kid`; throws KeysUnavailable or UnknownKey. */
  keysFor(kid: string | undefined): Promise<KeySet>;
}

/** A key set that never changes while the process runs (the dev issuer's). */
const FOREVER: KeySetLease = { freshUntil: Number.POSITIVE_INFINITY, current: () => true };

function localIssuer(issuer: string, kind: IssuerKind, jwks: JSONWebKeySet): IssuerKeys {
  const keySet: KeySet = { getKey: createLocalJWKSet(jwks), lease: FOREVER };
  return { issuer, kind, audience: undefined, keysFor: () => Promise.resolve(keySet) };
}

/**
 * Where the issuer's metadata may be: the configured URL, or RFC 8414's document and then OpenID
 * Connect's (docs/tokens.md#key-fetching names both; ID-porten is an OpenID provider).
 */
function metadataUrlsFor(issuer: TrustedIssuer): string[] {
  if (issuer.metadataUrl) return [issuer.metadataUrl];
  const base = issuer.issuer.replace(/\/+$/, '');
  return [`${base}/.well-known/oauth-authorization-server`, `${base}/.well-known/openid-configuration`];
}

/** Thrown when the issuer's keys cannot be had (network, timeout, non-200, bad document): 503. */
class KeysUnavailable extends Error {}
/** Thrown when the issuer answers but does not publish the token's `kid`: 401. */
class UnknownKey extends Error {}

class NotFound extends Error {}

const LOOPBACK_HOSTS = /^(?:localhost|127(?:\.[0-9]{1,3}){3}|\[::1\])$/;

/**
 * Why `url` may not be fetched for an issuer's metadata or keys, or undefined when it may: https,
 * or in dev mode (`allowHttpLoopback`) http to a loopback address (docs/tokens.md#key-fetching).
 */
export function unfetchableReason(url: string, allowHttpLoopback: boolean): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not an absolute URL';
  }
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol === 'http:' && allowHttpLoopback && LOOPBACK_HOSTS.test(parsed.hostname))
    return undefined;
  return allowHttpLoopback
    ? 'must be https (http only to a loopback address, in dev mode)'
    : 'must be https (http to a loopback address only in dev mode)';
}

/** GETs a JSON document, bounded in time (`signal`) and size, from `url` itself: no redirect is followed. */
async function fetchJson(url: string, signal: AbortSignal, allowHttpLoopback: boolean): Promise<unknown> {
  const unfetchable = unfetchableReason(url, allowHttpLoopback);
  if (unfetchable) throw new Error(`the URL ${unfetchable}`);
  // `manual`: a 3xx is answered as it is, and refused below; its Location is never followed.
  const res = await fetch(url, { signal, redirect: 'manual', headers: { accept: 'application/json' } });
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel();
    throw new Error(`answered ${res.status}; redirects are not followed`);
  }
  if (res.status === 404) {
    await res.body?.cancel();
    throw new NotFound(`${res.status}`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`answered ${res.status}`);
  }
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_DOCUMENT_BYTES) {
    await res.body?.cancel();
    throw new Error('the document is too large');
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += (chunk as Uint8Array).byteLength;
    if (size > MAX_DOCUMENT_BYTES) throw new Error('the document is too large');
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

interface CachedKeys extends KeySet {
  readonly kids: ReadonlySet<string>;
  readonly fetchedAt: number;
}

/** Where the verifier tells the operator about its issuers (pino's or fastify's logger fits). */
export interface VerifierLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface RemoteKeyOptions {
  readonly fetchTimeoutMs: number;
  readonly refreshCooldownMs: number;
  readonly keysMaxAgeMs: number;
  readonly now: () => number;
  /** Dev mode: http to a loopback address may be fetched too. */
  readonly allowHttpLoopback: boolean;
  /** The verifier's current log (set once the app has one). */
  readonly log: () => VerifierLog | undefined;
}

/**
 * An issuer's keys, found through its metadata (or a configured JWKS URI) and kept. jose's remote
 * key set drops its keys when a refetch fails; here the last good set is kept, so that tokens
 * signed with a known key are verified while the issuer cannot be reached. A token with a `kid` not
 * in the set makes one refetch (all such tokens share it), then none for the cooldown, so tokens
 * with random kids cannot make the service hammer the issuer.
 */
class RemoteIssuer implements IssuerKeys {
  readonly issuer: string;
  readonly kind: IssuerKind;
  readonly audience: string | undefined;
  private cached: CachedKeys | undefined;
  private jwksUri: { readonly url: string; readonly at: number } | undefined;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private lastAttemptFailed = false;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly config: TrustedIssuer,
    private readonly options: RemoteKeyOptions,
  ) {
    this.issuer = config.issuer;
    this.kind = config.kind ?? DEFAULT_ISSUER_KIND;
    this.audience = config.audience;
  }

  async keysFor(kid: string | undefined): Promise<CachedKeys> {
    const now = this.options.now();
    const cached = this.cached;
    if (cached && (kid === undefined || cached.kids.has(kid))) {
      // Stale keys still serve; a fresh set is fetched beside them.
      if (now - cached.fetchedAt >= this.options.keysMaxAgeMs && this.mayFetch(now))
        this.startRefresh().catch(() => {});
      return cached;
    }
    if (!this.refreshing && this.mayFetch(now)) this.startRefresh().catch(() => {});
    if (this.refreshing) await this.refreshing.catch(() => {});
    const after = this.cached;
    if (after && (kid === undefined || after.kids.has(kid))) return after;
    if (this.lastAttemptFailed || !after) throw new KeysUnavailable('the issuer keys cannot be fetched');
    throw new UnknownKey('the issuer does not publish this key');
  }

  private mayFetch(now: number): boolean {
    return now - this.lastAttemptAt >= this.options.refreshCooldownMs;
  }

  private startRefresh(): Promise<void> {
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async refresh(): Promise<void> {
    this.lastAttemptAt = this.options.now();
    try {
      const signal = AbortSignal.timeout(this.options.fetchTimeoutMs);
      const jwks = await fetchJson(await this.findJwksUri(signal), signal, this.options.allowHttpLoopback);
      const keys = (jwks as { keys?: unknown } | null)?.keys;
      if (!Array.isArray(keys)) throw new Error('not a key set');
      const getKey = createLocalJWKSet(jwks as JSONWebKeySet);
      const kids = new Set(
        keys.map((k: { kid?: unknown }) => k?.kid).filter((k): k is string => typeof k === 'string'),
      );
      const fetchedAt = this.options.now();
      // A verification with this set holds while the set is fresh and not replaced by a refetch
      // (docs/tokens.md#verified-token-cache).
      const lease: KeySetLease = {
        freshUntil: fetchedAt + this.options.keysMaxAgeMs,
        current: () => this.cached === next,
      };
      const next: CachedKeys = { getKey, kids, fetchedAt, lease };
      this.cached = next;
      this.lastAttemptFailed = false;
      this.options
        .log()
        ?.info({ issuer: this.issuer, keys: keys.length }, 'fetched the keys of a trusted issuer');
    } catch (err) {
      this.lastAttemptFailed = true;
      this.options
        .log()
        ?.warn(
          { issuer: this.issuer, reason: (err as Error).message, cachedKeys: this.cached?.kids.size ?? 0 },
          'cannot fetch the keys of a trusted issuer; keys already fetched stay in use',
        );
      throw err;
    }
  }

  private async findJwksUri(signal: AbortSignal): Promise<string> {
    if (this.config.jwksUri) return this.config.jwksUri;
    const known = this.jwksUri;
    if (known && this.options.now() - known.at < METADATA_MAX_AGE_MS) return known.url;
    try {
      const url = await this.discover(signal);
      this.jwksUri = { url, at: this.options.now() };
      return url;
    } catch (err) {
      // The metadata cannot be read just now: the JWKS it named last time is still the best guess.
      if (known) return known.url;
      throw err;
    }
  }

  private async discover(signal: AbortSignal): Promise<string> {
    const urls = metadataUrlsFor(this.config);
    for (const [i, url] of urls.entries()) {
      let metadata: unknown;
      try {
        metadata = await fetchJson(url, signal, this.options.allowHttpLoopback);
      } catch (err) {
        if (err instanceof NotFound && i < urls.length - 1) continue;
        throw err;
      }
      const { issuer, jwks_uri: jwksUri } = (metadata ?? {}) as { issuer?: unknown; jwks_uri?: unknown };
      // RFC 8414 § 3.3 (and OpenID Discovery § 4.3): the document must name the issuer it was
      // fetched for, or its keys are not that issuer's.
      if (issuer !== this.config.issuer) throw new Error('the metadata names another issuer');
      if (typeof jwksUri !== 'string') throw new Error('the metadata has no jwks_uri');
      return jwksUri;
    }
    throw new Error('no metadata');
  }
}

export interface TokenVerifierOptions {
  readonly trustedIssuers: readonly TrustedIssuer[];
  /**
   * Dev mode's own issuers and their one public key: `issuer` the Maskinporten-like one,
   * `idportenIssuer` the ID-porten-like one (docs/tokens.md#dev-mode-issuers).
   */
  readonly dev?: { readonly issuer: string; readonly idportenIssuer?: string; readonly publicJwk: JWK };
  /** At most MAX_CLOCK_SKEW_SECONDS. */
  readonly clockSkewSeconds: number;
  /**
   * Dev mode: a trusted issuer on a loopback address may be fetched over plain http (a local
   * issuer, the tests' fake one). Otherwise every metadata and key URL must be https.
   */
  readonly allowHttpLoopback?: boolean;
  /** Bounds on fetching the trusted issuers' keys (defaults above); tests shorten them. */
  readonly fetchTimeoutMs?: number;
  readonly refreshCooldownMs?: number;
  readonly keysMaxAgeMs?: number;
  /** Milliseconds since the epoch (default Date.now); tests move it. */
  readonly now?: () => number;
}

export class TokenVerifier {
  private readonly issuers = new Map<string, IssuerKeys>();
  private readonly clockSkewSeconds: number;
  private readonly now: () => number;
  private log: VerifierLog | undefined;

  constructor(options: TokenVerifierOptions) {
    if (options.clockSkewSeconds < 0 || options.clockSkewSeconds > MAX_CLOCK_SKEW_SECONDS) {
      throw new ConfigError(`the clock skew must be from 0 to ${MAX_CLOCK_SKEW_SECONDS} seconds`);
    }
    this.clockSkewSeconds = options.clockSkewSeconds;
    this.now = options.now ?? Date.now;
    const remote: RemoteKeyOptions = {
      fetchTimeoutMs: options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS,
      refreshCooldownMs: options.refreshCooldownMs ?? DEFAULT_REFRESH_COOLDOWN_MS,
      keysMaxAgeMs: options.keysMaxAgeMs ?? DEFAULT_KEYS_MAX_AGE_MS,
      now: this.now,
      allowHttpLoopback: options.allowHttpLoopback ?? false,
      log: () => this.log,
    };
    for (const trusted of options.trustedIssuers) {
      // Where its keys come from is known now, except a jwks_uri its metadata names (checked when
      // fetched): a URL that could not be fetched stops the start instead of failing every token.
      const urls = trusted.jwksUri ? [trusted.jwksUri] : metadataUrlsFor(trusted);
      for (const url of urls) {
        const unfetchable = unfetchableReason(url, remote.allowHttpLoopback);
        if (unfetchable) {
          throw new ConfigError(
            `the keys of the trusted issuer ${trusted.issuer} are fetched from ${url}, which ${unfetchable}`,
          );
        }
      }
      this.issuers.set(trusted.issuer, new RemoteIssuer(trusted, remote));
    }
    if (options.dev) {
      const { issuer, idportenIssuer, publicJwk } = options.dev;
      this.issuers.set(issuer, localIssuer(issuer, 'maskinporten', { keys: [publicJwk] }));
      if (idportenIssuer !== undefined)
        this.issuers.set(idportenIssuer, localIssuer(idportenIssuer, 'idporten', { keys: [publicJwk] }));
    }
  }

  /** Key fetches and failures are logged here from now on (the app's logger, once there is one). */
  setLog(log: VerifierLog): void {
    this.log = log;
  }

  /** Verifies `token` (the credentials of an `Authorization: Bearer` header). */
  async verify(token: string): Promise<AccessToken> {
    return (await this.verifyLeased(token)).token;
  }

  /** Verifies `token`, and tells how long the key set that verified it may be relied on. */
  async verifyLeased(token: string): Promise<LeasedVerification> {
    if (token.length > MAX_TOKEN_BYTES) throw new InvalidTokenError('the access token is too large');
    if (!COMPACT_JWS.test(token)) throw new InvalidTokenError('the access token is malformed');
    let unverified: JWTPayload;
    let header: ProtectedHeaderParameters;
    try {
      unverified = decodeJwt(token);
      header = decodeProtectedHeader(token);
    } catch {
      throw new InvalidTokenError('the access token is malformed');
    }
    // Refused before any key is looked for, so that `none` or HMAC tokens never cause a fetch.
    if (typeof header.alg !== 'string' || !ALLOWED_ALGORITHMS.includes(header.alg))
      throw new InvalidTokenError("the access token's algorithm is not allowed");
    if (header.kid !== undefined && typeof header.kid !== 'string')
      throw new InvalidTokenError('the access token is malformed');
    const issuer = typeof unverified.iss === 'string' ? this.issuers.get(unverified.iss) : undefined;
    if (!issuer) throw new InvalidTokenError('the access token is not from a trusted issuer');

    let payload: JWTPayload;
    let keys: KeySet;
    try {
      keys = await issuer.keysFor(header.kid);
      ({ payload } = await jwtVerify(token, keys.getKey, {
        issuer: issuer.issuer,
        algorithms: ALLOWED_ALGORITHMS,
        clockTolerance: this.clockSkewSeconds,
        currentDate: new Date(this.now()),
        requiredClaims: ['exp'],
        ...(issuer.audience ? { audience: issuer.audience } : {}),
      }));
    } catch (err) {
      throw describeFailure(err);
    }
    // jose checks `iat` only against a maximum token age; a token issued in the future (beyond the
    // skew) comes from a wrong clock or a forger, and is refused like a future `nbf`.
    if (typeof payload.iat === 'number' && payload.iat > this.now() / 1000 + this.clockSkewSeconds)
      throw new InvalidTokenError('the access token\'s "iat" claim is not valid');
    const verified: AccessToken = {
      issuer: issuer.issuer,
      issuerKind: issuer.kind,
      clientId: typeof payload.client_id === 'string' ? payload.client_id : null,
      scopes: scopesFromClaim(payload.scope),
      consumer: organisationFromClaim(payload.consumer),
      supplier: organisationFromClaim(payload.supplier),
      pid: typeof payload.pid === 'string' ? payload.pid : null,
    };
    return { token: verified, keys: keys.lease };
  }
}

function describeFailure(err: unknown): Error {
  if (err instanceof KeysUnavailable)
    return new IssuerUnavailableError("the token issuer's keys cannot be fetched");
  if (err instanceof UnknownKey)
    return new InvalidTokenError('the access token is signed with a key the issuer does not publish');
  if (err instanceof errors.JWTExpired) return new InvalidTokenError('the access token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    return new InvalidTokenError(`the access token's "${err.claim}" claim is not valid`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new InvalidTokenError("the access token's signature is not valid");
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return new InvalidTokenError('the access token is signed with a key the issuer does not publish');
  }
  if (err instanceof errors.JOSEAlgNotAllowed)
    return new InvalidTokenError("the access token's algorithm is not allowed");
  return new InvalidTokenError('the access token is malformed');
}

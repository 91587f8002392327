// Verifies bearer access tokens (the resource-server side of Maskinporten and ID-porten) with jose
// against the issuers the operator trusts. Errors say what is wrong in general terms and never
// contain the token.

import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, errors, jwtVerify } from 'jose';
import type { JSONWebKeySet, JWK, JWTPayload, JWTVerifyGetKey } from 'jose';
import type { TrustedIssuer } from '../config/config.js';
import { InvalidTokenError, IssuerUnavailableError } from '../errors/errors.js';
import type { AccessToken } from './access-token.js';
import { organisationFromClaim, scopesFromClaim } from './access-token.js';

/** Maskinporten and ID-porten sign with RSA; nothing else (and never `none` or HMAC) is accepted. */
export const ALLOWED_ALGORITHMS = ['RS256', 'RS384', 'RS512'];
/** Larger tokens are refused before any parsing. Real ones are around 1 KiB. */
export const MAX_TOKEN_BYTES = 16 * 1024;
/** Compact JWS: three base64url parts, none empty (so also no unsecured `alg: none` tokens). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

interface IssuerKeys {
  readonly issuer: string;
  readonly audience: string | undefined;
  keys(): Promise<JWTVerifyGetKey>;
}

function localIssuer(issuer: string, jwks: JSONWebKeySet, audience?: string): IssuerKeys {
  const keySet = createLocalJWKSet(jwks);
  return { issuer, audience, keys: async () => keySet };
}

/**
 * Where the issuer's metadata may be: the configured URL, or RFC 8414's document and then OpenID
 * Connect's (contract section 8 names both; ID-porten is an OpenID provider).
 */
function metadataUrlsFor(issuer: TrustedIssuer): string[] {
  if (issuer.metadataUrl) return [issuer.metadataUrl];
  const base = issuer.issuer.replace(/\/+$/, '');
  return [`${base}/.well-known/oauth-authorization-server`, `${base}/.well-known/openid-configuration`];
}

async function fetchJwksUri(config: TrustedIssuer): Promise<string> {
  const urls = metadataUrlsFor(config);
  for (const [i, url] of urls.entries()) {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (res.status === 404 && i < urls.length - 1) {
      await res.body?.cancel();
      continue;
    }
    if (!res.ok) throw new Error(`metadata answered ${res.status}`);
    const metadata = (await res.json()) as { jwks_uri?: unknown };
    if (typeof metadata?.jwks_uri !== 'string') throw new Error('metadata has no jwks_uri');
    return metadata.jwks_uri;
  }
  throw new Error('no metadata');
}

/** Thrown by a key resolver when the issuer's keys cannot be fetched (as opposed to not matching). */
class KeysUnavailable extends Error {}

/**
 * Keys from a remote JWKS. A token whose key is not published fails with jose's JWKSNoMatchingKey;
 * every failure to get the key set (network, timeout, non-200, not JSON, not a key set) becomes
 * KeysUnavailable, so that it is answered 503 and never 401 "malformed".
 */
function remoteKeys(jwksUri: string): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: 5000, cooldownDuration: 30_000 });
  return async (protectedHeader, token) => {
    try {
      return await remote(protectedHeader, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)
        throw err;
      if (err instanceof errors.JOSENotSupported) throw err;
      throw new KeysUnavailable('the issuer keys cannot be fetched', { cause: err });
    }
  };
}

/** Keys found through the issuer's metadata (or a configured JWKS URI), fetched on first use. */
function remoteIssuer(config: TrustedIssuer): IssuerKeys {
  let keySet: JWTVerifyGetKey | undefined;
  let pending: Promise<JWTVerifyGetKey> | undefined;
  const discover = async (): Promise<JWTVerifyGetKey> => {
    const jwksUri = config.jwksUri ?? (await fetchJwksUri(config));
    return remoteKeys(jwksUri);
  };
  return {
    issuer: config.issuer,
    audience: config.audience,
    async keys() {
      if (keySet) return keySet;
      pending ??= discover().finally(() => {
        pending = undefined;
      });
      keySet = await pending;
      return keySet;
    },
  };
}

export interface TokenVerifierOptions {
  readonly trustedIssuers: readonly TrustedIssuer[];
  /** Dev mode's own issuers (Maskinporten-like, ID-porten-like) and their one public key. */
  readonly dev?: { readonly issuer: string | readonly string[]; readonly publicJwk: JWK };
  readonly clockSkewSeconds: number;
}

export class TokenVerifier {
  private readonly issuers = new Map<string, IssuerKeys>();
  private readonly clockSkewSeconds: number;

  constructor(options: TokenVerifierOptions) {
    this.clockSkewSeconds = options.clockSkewSeconds;
    for (const trusted of options.trustedIssuers) this.issuers.set(trusted.issuer, remoteIssuer(trusted));
    if (options.dev) {
      const devIssuers = typeof options.dev.issuer === 'string' ? [options.dev.issuer] : options.dev.issuer;
      for (const issuer of devIssuers) {
        this.issuers.set(issuer, localIssuer(issuer, { keys: [options.dev.publicJwk] }));
      }
    }
  }

  /** Verifies `token` (the credentials of an `Authorization: Bearer` header). */
  async verify(token: string): Promise<AccessToken> {
    if (token.length > MAX_TOKEN_BYTES) throw new InvalidTokenError('the access token is too large');
    if (!COMPACT_JWS.test(token)) throw new InvalidTokenError('the access token is malformed');
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      throw new InvalidTokenError('the access token is malformed');
    }
    const issuer = typeof unverified.iss === 'string' ? this.issuers.get(unverified.iss) : undefined;
    if (!issuer) throw new InvalidTokenError('the access token is not from a trusted issuer');

    let keys: JWTVerifyGetKey;
    try {
      keys = await issuer.keys();
    } catch {
      throw new IssuerUnavailableError('the token issuer cannot be reached to verify the access token');
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: issuer.issuer,
        algorithms: ALLOWED_ALGORITHMS,
        clockTolerance: this.clockSkewSeconds,
        requiredClaims: ['exp'],
        ...(issuer.audience ? { audience: issuer.audience } : {}),
      }));
    } catch (err) {
      throw describeFailure(err);
    }
    return {
      issuer: issuer.issuer,
      clientId: typeof payload.client_id === 'string' ? payload.client_id : null,
      scopes: scopesFromClaim(payload.scope),
      consumer: organisationFromClaim(payload.consumer),
      supplier: organisationFromClaim(payload.supplier),
      pid: typeof payload.pid === 'string' ? payload.pid : null,
    };
  }
}

function describeFailure(err: unknown): Error {
  if (err instanceof KeysUnavailable)
    return new IssuerUnavailableError("the token issuer's keys cannot be fetched");
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
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) {
    return new IssuerUnavailableError("the token issuer's keys cannot be fetched");
  }
  return new InvalidTokenError('the access token is malformed');
}

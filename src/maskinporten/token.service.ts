// The dev-mode Maskinporten-like token service (docs/tokens.md#dev-token-service): an assertion (JWT-bearer
// grant, RFC 7523) from a registered client becomes an access token signed by the dev key. What
// Maskinporten checks is checked here: the signature by a key registered for the client (kid) or by
// a business certificate of its organisation (x5c), aud = the issuer, exp - iat at most 120 s, a jti
// used once, scopes the client was given. Refusals never echo the assertion or any part of it.

import { createHash, createPublicKey, randomUUID } from 'node:crypto';
import type { JsonWebKey, KeyObject, X509Certificate } from 'node:crypto';
import { base64url, decodeJwt, decodeProtectedHeader, errors, importJWK, jwtVerify, SignJWT } from 'jose';
import type { JWK, JWTPayload } from 'jose';
import { DEV_ALGORITHM } from '../auth/dev-issuer.js';
import type { ClientKey } from '../client/client-key.js';
import type { Client, ClientRepository } from '../client/client.repository.js';
import type { UsedAssertionRepository } from './used-assertion.repository.js';
import { OAuthError } from '../errors/errors.js';
import { isValidOrganisationNumber } from '../identifier/identifier.js';
import { verifyChain } from './certificate-chain.js';

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const ASSERTION_ALGORITHMS = ['RS256', 'RS384', 'RS512'];
/** Maskinporten's limit: exp - iat <= 120 s. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 120;
/** An assertion with a chain of three certificates is around 6 KiB. */
const MAX_ASSERTION_CHARS = 64 * 1024;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export interface TokenServiceOptions {
  readonly clients: ClientRepository;
  readonly usedAssertions: UsedAssertionRepository;
  /** The issuer: the assertions' aud, the tokens' iss. */
  readonly issuer: string;
  /** The dev issuer's private JWK (with kid). */
  readonly signingJwk: JWK;
  readonly tokenExpiresInSeconds: number;
  readonly clockSkewSeconds: number;
  /** The CAs a client certificate (x5c) of the client's organisation may be issued by (trustedClientCas). */
  readonly trustedCas: readonly X509Certificate[];
  /** Epoch milliseconds (tests move it); the system clock by default, never the register's frozen clock. */
  readonly now?: () => number;
}

export interface TokenRequest {
  readonly grantType: string | undefined;
  readonly assertion: string | undefined;
}

/** The token answer, as Maskinporten gives it. */
export interface TokenAnswer {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly scope: string;
}

function refuse(description: string): OAuthError {
  return new OAuthError('invalid_grant', description);
}

function orgClaim(orgno: string) {
  return { authority: 'iso6523-actorid-upis', ID: `0192:${orgno}` };
}

function scopesOf(claim: unknown): string[] {
  if (typeof claim === 'string') return claim.split(/\s+/).filter(Boolean);
  if (Array.isArray(claim) && claim.every((s) => typeof s === 'string'))
    return claim.flatMap((s) => scopesOf(s));
  return [];
}

/** `resource` is a string or an array of strings (Maskinporten takes the array form). */
function resourceOf(claim: unknown): string | string[] | undefined {
  if (claim === undefined || claim === null) return undefined;
  if (typeof claim === 'string' && claim !== '') return claim;
  if (Array.isArray(claim) && claim.length > 0 && claim.every((r) => typeof r === 'string' && r !== '')) {
    return claim.length === 1 ? (claim[0] as string) : (claim as string[]);
  }
  throw refuse("the assertion's resource must be a URI or an array of URIs");
}

/**
 * `iss_onbehalfof`, copied into the token unchecked (no registration to check it against, and krr
 * reads it nowhere), so bounded like a client id: 1 to 200 visible ASCII characters
 * (docs/tokens.md#the-assertion). Absent, null or empty: none.
 */
function onBehalfOfOf(claim: unknown): string | undefined {
  if (claim === undefined || claim === null || claim === '') return undefined;
  if (typeof claim === 'string' && /^[\x21-\x7e]{1,200}$/.test(claim)) return claim;
  throw refuse("the assertion's iss_onbehalfof must be 1 to 200 visible ASCII characters");
}

const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * The aud values taken for `issuer`: itself and without its trailing slash (clients that strip it
 * are met halfway); and for a dev server on loopback, the same URL under the other loopback names,
 * since a client given `http://localhost:8080` as its base URL names that as the audience.
 */
export function acceptedAudiences(issuer: string): string[] {
  const variants = [issuer];
  let url: URL | undefined;
  try {
    url = new URL(issuer);
  } catch {
    url = undefined;
  }
  if (url && LOOPBACK.includes(url.hostname)) {
    for (const host of LOOPBACK) {
      const other = new URL(issuer);
      other.hostname = host;
      variants.push(other.toString());
    }
  }
  return [...new Set(variants.flatMap((v) => [v, v.replace(/\/+$/, '')]))];
}

/** The "used once" key of an assertion without a jti: a hash of its signature as decoded (by jose, which verified it). */
export function usedOnceKeyOf(assertion: string): string {
  const signature = base64url.decode(assertion.slice(assertion.lastIndexOf('.') + 1));
  return `sig-sha256:${createHash('sha256').update(signature).digest('base64url')}`;
}

function describeFailure(err: unknown, issuer: string): OAuthError {
  if (err instanceof OAuthError) return err;
  if (err instanceof errors.JWTExpired) return refuse('the assertion has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return refuse(`the assertion's aud must be the issuer, ${issuer}`);
    if (err.claim === 'nbf') return refuse('the assertion is not valid yet (nbf)');
    return refuse(`the assertion's ${err.claim} claim is missing or not valid`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return refuse("the assertion's signature is not valid");
  if (err instanceof errors.JOSEAlgNotAllowed)
    return refuse("the assertion's algorithm is not allowed; use RS256, RS384 or RS512");
  return refuse('the assertion is not a valid signed JWT');
}

function publicKeyOf(key: ClientKey): KeyObject {
  return createPublicKey({ key: key.publicJwk as JsonWebKey, format: 'jwk' });
}

export class MaskinportenTokenService {
  private readonly now: () => number;
  private readonly audiences: string[];
  private signingKey: ReturnType<typeof importJWK> | undefined;

  constructor(private readonly options: TokenServiceOptions) {
    this.now = options.now ?? Date.now;
    this.audiences = acceptedAudiences(options.issuer);
  }

  async grant(request: TokenRequest): Promise<TokenAnswer> {
    if (!request.grantType) throw new OAuthError('invalid_request', 'grant_type is required');
    if (request.grantType !== JWT_BEARER_GRANT) {
      throw new OAuthError('unsupported_grant_type', `only the grant type ${JWT_BEARER_GRANT} is supported`);
    }
    const assertion = request.assertion;
    if (!assertion) throw new OAuthError('invalid_request', 'assertion is required');
    if (assertion.length > MAX_ASSERTION_CHARS)
      throw new OAuthError('invalid_request', 'the assertion is too large');
    if (!COMPACT_JWS.test(assertion)) throw refuse('the assertion is not a signed JWT (compact JWS)');

    let header: ReturnType<typeof decodeProtectedHeader>;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(assertion);
      unverified = decodeJwt(assertion);
    } catch {
      throw refuse('the assertion is not a valid signed JWT');
    }
    if (typeof header.alg !== 'string' || !ASSERTION_ALGORITHMS.includes(header.alg)) {
      throw refuse("the assertion's algorithm is not allowed; use RS256, RS384 or RS512");
    }
    if (typeof unverified.iss !== 'string' || unverified.iss === '') {
      throw refuse('the assertion has no iss (the client id)');
    }
    const client = await this.options.clients.find(unverified.iss);
    if (!client) throw refuse('the client is not registered');

    const nowMs = this.now();
    const { key, amr } = this.keyFor(client, header, new Date(nowMs));
    const issuer = this.options.issuer;
    const skew = this.options.clockSkewSeconds;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(assertion, key, {
        algorithms: ASSERTION_ALGORITHMS,
        issuer: client.clientId,
        audience: this.audiences,
        clockTolerance: skew,
        requiredClaims: ['exp', 'iat'],
        currentDate: new Date(nowMs),
      }));
    } catch (err) {
      throw describeFailure(err, issuer);
    }
    const iat = payload.iat!;
    const exp = payload.exp!;
    if (exp <= iat) throw refuse('the assertion expires before it is issued (exp <= iat)');
    if (exp - iat > MAX_ASSERTION_LIFETIME_SECONDS) {
      throw refuse(
        `the assertion lives too long: exp - iat must be at most ${MAX_ASSERTION_LIFETIME_SECONDS} s`,
      );
    }
    if (iat > nowMs / 1000 + skew) throw refuse('the assertion is issued in the future (iat)');

    const scopes = [...new Set(scopesOf(payload.scope))];
    if (scopes.length === 0) throw refuse('the assertion asks for no scope');
    if (!scopes.every((s) => client.scopes.includes(s))) {
      throw refuse('the client was not given every scope the assertion asks for');
    }
    const consumerOrg = payload.consumer_org;
    if (consumerOrg !== undefined && consumerOrg !== null) {
      if (typeof consumerOrg !== 'string' || !isValidOrganisationNumber(consumerOrg)) {
        throw refuse('consumer_org must be an organisation number (9 digits, mod 11)');
      }
      // The token's consumer is who the resource servers act for (the mailbox operations, the
      // audit): only the client's own organisation or one that delegated to it
      // (docs/tokens.md#delegations).
      if (consumerOrg !== client.orgno && !client.delegatedBy.includes(consumerOrg)) {
        throw refuse('consumer_org names an organisation that has not delegated to the client');
      }
    }
    const resource = resourceOf(payload.resource);

    // Used once (docs/tokens.md#used-once): the jti, or without one the signature's bytes, is kept
    // until the assertion expires. Never the assertion's text: base64url leaves bits of a part's last
    // character unused, so one signature has several spellings that all verify.
    const jti =
      typeof payload.jti === 'string' && payload.jti !== '' && payload.jti.length <= 200
        ? payload.jti
        : usedOnceKeyOf(assertion);
    if (!(await this.options.usedAssertions.use(client.clientId, jti, new Date((exp + skew) * 1000)))) {
      throw refuse('the assertion was used before (jti)');
    }

    const claims: Record<string, unknown> = {
      scope: scopes.join(' '),
      client_id: client.clientId,
      consumer: orgClaim(typeof consumerOrg === 'string' ? consumerOrg : client.orgno),
      client_amr: amr,
      token_type: 'Bearer',
    };
    if (typeof consumerOrg === 'string') claims.supplier = orgClaim(client.orgno);
    const onBehalfOf = onBehalfOfOf(payload.iss_onbehalfof);
    if (onBehalfOf !== undefined) claims.client_onbehalfof = onBehalfOf;
    const nowSeconds = Math.floor(nowMs / 1000);
    const expiresIn = this.options.tokenExpiresInSeconds;
    const token = new SignJWT(claims)
      .setProtectedHeader({ alg: DEV_ALGORITHM, kid: this.options.signingJwk.kid!, typ: 'at+jwt' })
      .setIssuer(issuer)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + expiresIn)
      .setJti(randomUUID());
    if (resource !== undefined) token.setAudience(resource);
    this.signingKey ??= importJWK(this.options.signingJwk, DEV_ALGORITHM);
    return {
      access_token: await token.sign(await this.signingKey),
      token_type: 'Bearer',
      expires_in: expiresIn,
      scope: scopes.join(' '),
    };
  }

  private keyFor(
    client: Client,
    header: ReturnType<typeof decodeProtectedHeader>,
    now: Date,
  ): { key: KeyObject; amr: string } {
    if (header.x5c !== undefined) {
      // docs/tokens.md#business-certificates: the leaf's key registered for the client, or a chain
      // to a trusted CA naming the client's organisation. Never a certificate that only names it.
      const chain = verifyChain(header.x5c, {
        trustedCas: this.options.trustedCas,
        now,
        registeredKeys: client.keys.map(publicKeyOf),
      });
      // The operator bound a registered key to the client; a CA-issued one must name its organisation.
      if (!chain.pinned && chain.orgno !== client.orgno) {
        throw refuse("the client certificate's organisation number is not the client's");
      }
      return { key: chain.key, amr: 'virksomhetssertifikat' };
    }
    if (typeof header.kid === 'string' && header.kid !== '') {
      const registered = client.keys.find((k) => k.kid === header.kid);
      if (!registered) throw refuse("the assertion's kid is not a key registered for the client");
      return { key: publicKeyOf(registered), amr: 'private_key_jwt' };
    }
    throw refuse("the assertion's header needs a kid (a registered key) or x5c (a business certificate)");
  }
}

// Access tokens for the client: from a function of the caller's, or from Maskinporten (and krr's dev
// token service, which speaks its protocol) with the JWT-bearer grant: an assertion signed with the
// client's key, named by `kid` or carried with a business certificate chain in `x5c` (the
// repository's docs/tokens.md#the-assertion). A token is kept until shortly before it expires and
// renewed then, and at once when the server refuses it (401).

import { createPrivateKey, KeyObject, randomUUID } from 'node:crypto';
import type { JsonWebKey as NodeJsonWebKey, X509Certificate } from 'node:crypto';
import { SignJWT } from 'jose';
import type { JWK } from 'jose';
import { base64Der, parseCertificates } from './certificate.parse.js';
import type { CertificateInput } from './certificate.parse.js';
import { cleanText, KrrConfigError, KrrTokenError } from './krr.errors.js';
import type { Transport } from './http.transport.js';
import { abortable, isRetryableStatus } from './http.transport.js';

/** Gives a bearer token for each request (it may keep one itself); called again after a 401. */
export type TokenFunction = (signal?: AbortSignal) => string | Promise<string>;

export type AssertionAlgorithm = 'RS256' | 'RS384' | 'RS512';

/** A Maskinporten client (or one of krr's dev token service). */
export interface MaskinportenAuth {
  /**
   * The issuer URL, exactly as Maskinporten names itself, trailing slash included:
   * `https://maskinporten.no/` or `https://test.maskinporten.no/` (krr in dev mode: its base URL
   * with a slash, `http://127.0.0.1:8080/`). It is the assertion's `aud`; the token endpoint is read
   * from its metadata (`<issuer>/.well-known/oauth-authorization-server`) unless given.
   */
  readonly issuer: string;
  /** The token endpoint (`https://maskinporten.no/token`), when it is not to be looked up. */
  readonly tokenEndpoint?: string;
  /** The client id (the integration's id in Digdir's self-service). */
  readonly clientId: string;
  /** The scopes to ask for: a list, or one space-separated string. */
  readonly scopes: readonly string[] | string;
  /**
   * The client's private RSA key: a JWK (an object or its JSON text), a PEM key (PKCS#8 or
   * PKCS#1), or a KeyObject. With `certificateChain`, the key of its first certificate.
   */
  readonly key: JWK | string | KeyObject;
  /** The key's id as registered at Maskinporten; a JWK's own `kid` when not given. Needed without `certificateChain`. */
  readonly kid?: string;
  /**
   * A business certificate chain (virksomhetssertifikat), the key's certificate first: PEM text with
   * one or more certificates, or a list of PEM, base64 DER or DER. Sent as `x5c` instead of a `kid`.
   */
  readonly certificateChain?: CertificateInput | readonly CertificateInput[];
  /** The assertion's algorithm; a JWK's `alg` when it names one, else RS256. */
  readonly algorithm?: AssertionAlgorithm;
  /** The assertion's `resource` (an audience-restricted token). */
  readonly resource?: string | readonly string[];
  /** The assertion's `consumer_org`: the organisation this client acts for (a delegation in Altinn). */
  readonly consumerOrg?: string;
}

export function isMaskinportenAuth(auth: unknown): auth is MaskinportenAuth {
  return typeof auth === 'object' && auth !== null && 'clientId' in auth;
}

/** Where the client gets its tokens. */
export interface TokenSource {
  token(signal?: AbortSignal): Promise<string>;
  /** `refused` was answered 401: a different token to try once, or undefined when there is none. */
  renew(refused: string, signal?: AbortSignal): Promise<string | undefined>;
}

export function functionTokenSource(fn: TokenFunction): TokenSource {
  const call = async (signal?: AbortSignal) => {
    const token = await fn(signal);
    if (typeof token !== 'string' || token === '') {
      throw new KrrTokenError('the auth function gave no token (a non-empty string)');
    }
    return token;
  };
  return {
    token: call,
    async renew(refused, signal) {
      const next = await call(signal);
      return next === refused ? undefined : next;
    },
  };
}

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Maskinporten takes assertions that live at most 120 s; a minute leaves room for clock skew. */
const ASSERTION_LIFETIME_SECONDS = 60;
const RENEW_BEFORE_EXPIRY_MS = 30_000;
const DEFAULT_TOKEN_LIFETIME_SECONDS = 120;

interface Signer {
  readonly key: KeyObject;
  readonly alg: AssertionAlgorithm;
  readonly header: { readonly kid: string } | { readonly x5c: string[] };
}

const isAlgorithm = (v: unknown): v is AssertionAlgorithm => v === 'RS256' || v === 'RS384' || v === 'RS512';

function privateKeyOf(auth: MaskinportenAuth): { key: KeyObject; jwkKid?: string; jwkAlg?: unknown } {
  const { key } = auth;
  let parsed: KeyObject;
  let jwk: JWK | undefined;
  try {
    if (key instanceof KeyObject) parsed = key;
    else if (typeof key === 'string' && key.includes('-----BEGIN')) {
      if (key.includes('ENCRYPTED'))
        throw new KrrConfigError('auth.key: an encrypted PEM key; give it unencrypted');
      parsed = createPrivateKey({ key, format: 'pem' });
    } else {
      jwk = typeof key === 'string' ? (JSON.parse(key) as JWK) : key;
      if (typeof jwk !== 'object' || jwk === null || jwk.kty !== 'RSA' || typeof jwk.d !== 'string') {
        throw new KrrConfigError('auth.key: a JWK must be a private RSA key (kty RSA, with d)');
      }
      parsed = createPrivateKey({ key: jwk as NodeJsonWebKey, format: 'jwk' });
    }
  } catch (err) {
    if (err instanceof KrrConfigError) throw err;
    throw new KrrConfigError(
      'auth.key: not a usable private key (a JWK, a PEM PKCS#8 or PKCS#1 key, or a KeyObject)',
    );
  }
  if (parsed.type !== 'private' || parsed.asymmetricKeyType !== 'rsa') {
    throw new KrrConfigError('auth.key: must be a private RSA key (Maskinporten takes RS256, RS384, RS512)');
  }
  return { key: parsed, jwkKid: typeof jwk?.kid === 'string' ? jwk.kid : undefined, jwkAlg: jwk?.alg };
}

function signerOf(auth: MaskinportenAuth): Signer {
  const { key, jwkKid, jwkAlg } = privateKeyOf(auth);
  const alg = auth.algorithm ?? (isAlgorithm(jwkAlg) ? jwkAlg : 'RS256');
  if (!isAlgorithm(alg)) throw new KrrConfigError('auth.algorithm: RS256, RS384 or RS512');
  if (auth.certificateChain !== undefined) {
    const chain: X509Certificate[] = parseCertificates(auth.certificateChain, 'auth.certificateChain');
    if (chain.length > 5) throw new KrrConfigError('auth.certificateChain: at most 5 certificates');
    if (!chain[0]!.checkPrivateKey(key)) {
      throw new KrrConfigError("auth.certificateChain: the first certificate is not auth.key's");
    }
    return { key, alg, header: { x5c: chain.map(base64Der) } };
  }
  const kid = auth.kid ?? jwkKid;
  if (!kid)
    throw new KrrConfigError(
      'auth.kid: the key id registered at Maskinporten (or give auth.certificateChain)',
    );
  return { key, alg, header: { kid } };
}

function checkUrl(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new KrrConfigError(`${what}: a URL`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new KrrConfigError(`${what}: not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new KrrConfigError(`${what}: an http(s) URL`);
  return value;
}

interface KeptToken {
  readonly token: string;
  readonly renewAt: number;
}

export class MaskinportenTokenSource implements TokenSource {
  private readonly signer: Signer;
  private readonly scope: string;
  private endpoint: Promise<string> | undefined;
  private kept: KeptToken | undefined;
  private inFlight: Promise<string> | undefined;

  constructor(
    private readonly auth: MaskinportenAuth,
    private readonly transport: Transport,
    private readonly now: () => number = () => Date.now(),
  ) {
    checkUrl(auth.issuer, 'auth.issuer');
    if (auth.tokenEndpoint !== undefined) checkUrl(auth.tokenEndpoint, 'auth.tokenEndpoint');
    if (typeof auth.clientId !== 'string' || auth.clientId === '')
      throw new KrrConfigError('auth.clientId: the client id');
    const scopes = typeof auth.scopes === 'string' ? auth.scopes.split(/\s+/) : [...auth.scopes];
    this.scope = [...new Set(scopes.filter(Boolean))].join(' ');
    if (this.scope === '') throw new KrrConfigError('auth.scopes: at least one scope');
    this.signer = signerOf(auth);
  }

  /** The kept token until it is due for renewal, else a new one; callers at once share one grant. */
  token(signal?: AbortSignal): Promise<string> {
    if (this.kept && this.now() < this.kept.renewAt) return Promise.resolve(this.kept.token);
    this.inFlight ??= this.grant().finally(() => {
      this.inFlight = undefined;
    });
    return abortable(this.inFlight, signal);
  }

  renew(refused: string, signal?: AbortSignal): Promise<string | undefined> {
    // Another request may have renewed it already.
    if (this.kept && this.kept.token !== refused && this.now() < this.kept.renewAt) {
      return Promise.resolve(this.kept.token);
    }
    if (this.kept?.token === refused) this.kept = undefined;
    return this.token(signal);
  }

  private tokenEndpoint(): Promise<string> {
    if (this.auth.tokenEndpoint) return Promise.resolve(this.auth.tokenEndpoint);
    this.endpoint ??= this.discover().catch((err: unknown) => {
      this.endpoint = undefined; // asked again next time
      throw err;
    });
    return this.endpoint;
  }

  /** RFC 8414 metadata under the issuer, else OpenID Connect discovery. */
  private async discover(): Promise<string> {
    const base = this.auth.issuer.replace(/\/+$/, '');
    const urls = [
      `${base}/.well-known/oauth-authorization-server`,
      `${base}/.well-known/openid-configuration`,
    ];
    for (const [i, url] of urls.entries()) {
      const answer = await this.transport.withRetries(() =>
        this.transport.exchange(url, { headers: { accept: 'application/json' } }, "Maskinporten's metadata"),
      );
      if (answer.status === 404 && i < urls.length - 1) continue;
      if (answer.status !== 200) {
        throw new KrrTokenError(`Maskinporten's metadata answered HTTP ${answer.status}`, answer.status);
      }
      let meta: Record<string, unknown>;
      try {
        meta = JSON.parse(answer.text) as Record<string, unknown>;
      } catch {
        throw new KrrTokenError("Maskinporten's metadata is not JSON", answer.status);
      }
      if (meta.issuer !== this.auth.issuer) {
        throw new KrrTokenError(
          `Maskinporten's metadata names another issuer than auth.issuer (${cleanText(String(meta.issuer), 200)}): give the issuer exactly as it names itself, trailing slash included`,
        );
      }
      if (typeof meta.token_endpoint !== 'string' || !/^https?:\/\//.test(meta.token_endpoint)) {
        throw new KrrTokenError("Maskinporten's metadata names no token_endpoint");
      }
      return meta.token_endpoint;
    }
    /* c8 ignore next */
    throw new KrrTokenError('no Maskinporten metadata found');
  }

  private assertion(): Promise<string> {
    const { auth, signer } = this;
    const claims: Record<string, unknown> = { scope: this.scope };
    if (auth.resource !== undefined) claims.resource = auth.resource;
    if (auth.consumerOrg !== undefined) claims.consumer_org = auth.consumerOrg;
    const iat = Math.floor(this.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: signer.alg, ...signer.header })
      .setAudience(auth.issuer)
      .setIssuer(auth.clientId)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ASSERTION_LIFETIME_SECONDS)
      .setJti(randomUUID())
      .sign(signer.key);
  }

  private async grant(): Promise<string> {
    const endpoint = await this.tokenEndpoint();
    let requestedAt = this.now();
    // A new assertion for every attempt: a jti is usable once.
    const answer = await this.transport.withRetries(async () => {
      requestedAt = this.now();
      const assertion = await this.assertion();
      return this.transport.exchange(
        endpoint,
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: new URLSearchParams({ grant_type: JWT_BEARER, assertion }).toString(),
        },
        "Maskinporten's token endpoint",
      );
    });
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(answer.text);
      if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
    } catch {
      // not JSON: said below by the status
    }
    if (answer.status !== 200) {
      const error = typeof body.error === 'string' ? cleanText(body.error, 60) : undefined;
      const description =
        typeof body.error_description === 'string' ? `: ${cleanText(body.error_description, 200)}` : '';
      const retryable = isRetryableStatus(answer.status) ? ' (gave up after retries)' : '';
      throw new KrrTokenError(
        `Maskinporten refused the token request (HTTP ${answer.status})${error ? `: ${error}${description}` : ''}${retryable}`,
        answer.status,
        error,
      );
    }
    const token = body.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new KrrTokenError("Maskinporten's token answer holds no access_token", answer.status);
    }
    if (typeof body.token_type === 'string' && body.token_type.toLowerCase() !== 'bearer') {
      throw new KrrTokenError("Maskinporten's token answer is not a Bearer token", answer.status);
    }
    const expiresIn = Number(body.expires_in);
    const lifetimeMs = (expiresIn > 0 ? expiresIn : DEFAULT_TOKEN_LIFETIME_SECONDS) * 1000;
    // Renewed 30 s before it expires; a token that lives less than a minute, at half its life.
    this.kept = {
      token,
      renewAt: requestedAt + lifetimeMs - Math.min(RENEW_BEFORE_EXPIRY_MS, lifetimeMs / 2),
    };
    return token;
  }
}

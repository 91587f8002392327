// A Maskinporten client (docs/change-feed.md#sync-authentication): access tokens through the JWT-bearer
// grant, signed with the client's own key, so that `krr sync` can follow a register that takes Maskinporten
// tokens (Digdir's own KRR among them). The token endpoint is found through the issuer's metadata;
// a token is kept until shortly before it expires, and renewed at once when the source refuses it.

import { createPrivateKey, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { ConfigError } from '../errors/errors.js';
import { MaskinportenError, networkReason, sanitizeRemoteText } from './sync.errors.js';
import { readFileBoundedAsync } from '../files/bounded-file.js';
import type { FileReadError } from '../files/bounded-file.js';
import { AnswerTooLargeError, readBodyBounded, SMALL_ANSWER_MAX_BYTES } from './bounded-body.js';

/** What `krr sync` asks for when no `--scope` is given: the feed and both data scopes. */
export const DEFAULT_SYNC_SCOPES: readonly string[] = [
  'krr:global/hentendring.read',
  'krr:global/kontaktinformasjon.read',
  'krr:global/digitalpost.read',
];

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const ASSERTION_LIFETIME_SECONDS = 120;
const RENEW_BEFORE_EXPIRY_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 30_000;

/** Where the feed client gets its bearer token. */
export interface TokenProvider {
  token(): Promise<string>;
  /** Forgets the current token (the source refused it): the next `token()` gets a new one. */
  invalidate(): void;
  /** Whether `invalidate()` can give a different token (a refused token is then worth one retry). */
  readonly renewable: boolean;
}

/** A bearer token as given (`--token`): never renewed. */
export function staticToken(token: string): TokenProvider {
  return { token: () => Promise.resolve(token), invalidate() {}, renewable: false };
}

export type AssertionAlgorithm = 'RS256' | 'RS384' | 'RS512';

export interface SigningKey {
  readonly key: KeyObject;
  /** The `kid` the key is registered under at Maskinporten. */
  readonly kid: string;
  readonly alg: AssertionAlgorithm;
}

function isAssertionAlgorithm(v: unknown): v is AssertionAlgorithm {
  return v === 'RS256' || v === 'RS384' || v === 'RS512';
}

/**
 * Reads the client's private RSA key: a JWK (or a JWK Set holding one private key) whose `kid` is
 * used unless `kid` is given, or a PEM key (PKCS#8, or PKCS#1) with `kid` given. The key's `alg`
 * (RS256/384/512) is used when the JWK names one; otherwise RS256.
 */
export async function loadSigningKey(path: string, kid?: string): Promise<SigningKey> {
  let text: string;
  try {
    text = (await readFileBoundedAsync(path)).toString('utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the key file ${path}: ${(err as FileReadError).reason}`);
  }
  return parseSigningKey(text, path, kid);
}

export function parseSigningKey(text: string, name: string, kid?: string): SigningKey {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      throw new ConfigError(`the key file ${name} is not valid JSON`);
    }
    let jwk = json as Record<string, unknown>;
    if (Array.isArray(jwk.keys)) {
      const candidates = (jwk.keys as Record<string, unknown>[]).filter(
        (k) => typeof k === 'object' && k !== null && 'd' in k && (kid === undefined || k.kid === kid),
      );
      if (candidates.length !== 1) {
        throw new ConfigError(
          `the JWK Set in ${name} must hold exactly one private key${kid ? ` with kid ${kid}` : ''} (found ${candidates.length})`,
        );
      }
      jwk = candidates[0]!;
    }
    if (jwk.kty !== 'RSA' || typeof jwk.d !== 'string') {
      throw new ConfigError(`the key in ${name} must be a private RSA JWK (kty RSA with d)`);
    }
    const useKid = kid ?? (typeof jwk.kid === 'string' ? jwk.kid : undefined);
    if (!useKid) throw new ConfigError(`the JWK in ${name} has no kid: give the key's id with --kid`);
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
    } catch {
      throw new ConfigError(`the JWK in ${name} is not a usable RSA private key`);
    }
    return { key, kid: useKid, alg: isAssertionAlgorithm(jwk.alg) ? jwk.alg : 'RS256' };
  }
  if (trimmed.includes('-----BEGIN')) {
    if (trimmed.includes('ENCRYPTED')) {
      throw new ConfigError(`the PEM key in ${name} is encrypted; give an unencrypted PKCS#8 key`);
    }
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: trimmed, format: 'pem' });
    } catch {
      throw new ConfigError(`the PEM key in ${name} is not a usable private key`);
    }
    if (key.asymmetricKeyType !== 'rsa') {
      throw new ConfigError(`the key in ${name} must be an RSA key (Maskinporten takes RS256/384/512)`);
    }
    if (!kid) throw new ConfigError(`a PEM key has no key id: give the id it is registered under with --kid`);
    return { key, kid, alg: 'RS256' };
  }
  throw new ConfigError(`${name} holds neither a JWK nor a PEM private key`);
}

export interface MaskinportenOptions {
  /**
   * The issuer exactly as Maskinporten names itself (with its trailing slash, e.g.
   * `https://maskinporten.no/`): the assertion's `aud`, and where its metadata is found.
   */
  readonly issuer?: string;
  /** The metadata document, when not at `<issuer>/.well-known/oauth-authorization-server`. */
  readonly metadataUrl?: string;
  readonly clientId: string;
  readonly signingKey: SigningKey;
  readonly scopes: readonly string[];
  /** The `resource` claim (audience-restricted tokens), when wanted. */
  readonly resource?: string;
  /** The assertion's `aud`, when it must differ from the issuer. */
  readonly audience?: string;
  readonly fetch?: typeof fetch;
  /** Epoch milliseconds; the system clock by default (tests move it). */
  readonly now?: () => number;
  readonly timeoutMs?: number;
}

interface Endpoint {
  readonly tokenEndpoint: string;
  readonly audience: string;
}

interface CachedToken {
  readonly token: string;
  readonly renewAt: number;
}

/** What the last token answer said (for logs and tests; never the token itself). */
export interface TokenInfo {
  readonly scope: string | undefined;
  readonly expiresIn: number;
}

export class MaskinportenClient implements TokenProvider {
  readonly renewable = true;
  private endpoint: Promise<Endpoint> | undefined;
  private cached: CachedToken | undefined;
  private inFlight: Promise<string> | undefined;
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  /** How many tokens were fetched (tests). */
  tokensFetched = 0;
  lastToken: TokenInfo | undefined;

  constructor(private readonly options: MaskinportenOptions) {
    if (!options.issuer && !options.metadataUrl) {
      throw new ConfigError('Maskinporten needs its issuer (or its metadata URL)');
    }
    if (!options.clientId) throw new ConfigError('Maskinporten needs the client id');
    if (options.scopes.length === 0) throw new ConfigError('Maskinporten needs at least one scope');
    this.fetchFn = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** A valid access token: the cached one until 30 s before it expires, else a new one. */
  async token(): Promise<string> {
    if (this.cached && this.now() < this.cached.renewAt) return this.cached.token;
    // Callers at the same moment share one request.
    this.inFlight ??= this.fetchToken().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  private metadataUrls(): string[] {
    if (this.options.metadataUrl) return [this.options.metadataUrl];
    const base = this.options.issuer!.replace(/\/+$/, '');
    return [`${base}/.well-known/oauth-authorization-server`, `${base}/.well-known/openid-configuration`];
  }

  private discover(): Promise<Endpoint> {
    this.endpoint ??= this.fetchMetadata().catch((err: unknown) => {
      this.endpoint = undefined; // try again next time
      throw err;
    });
    return this.endpoint;
  }

  private async fetchMetadata(): Promise<Endpoint> {
    const urls = this.metadataUrls();
    for (const [i, url] of urls.entries()) {
      let res: Response;
      try {
        res = await this.fetchFn(url, {
          headers: { accept: 'application/json' },
          // A redirect would name another server's token endpoint: reported, not followed.
          redirect: 'manual',
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (err) {
        throw new MaskinportenError(
          `cannot fetch Maskinporten's metadata from ${url}: ${networkReason(err, this.timeoutMs)}`,
          true,
        );
      }
      if (res.status === 404 && i < urls.length - 1) {
        await res.body?.cancel();
        continue; // the issuer may publish only the OpenID document
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new MaskinportenError(
          `Maskinporten's metadata at ${url} answered HTTP ${res.status}`,
          res.status >= 500 || res.status === 408 || res.status === 429,
        );
      }
      let meta: unknown;
      try {
        meta = JSON.parse(await readBodyBounded(res, SMALL_ANSWER_MAX_BYTES));
      } catch (err) {
        if (err instanceof AnswerTooLargeError) {
          throw new MaskinportenError(
            `Maskinporten's metadata at ${url} is larger than ${err.maxBytes} bytes`,
            false,
          );
        }
        throw new MaskinportenError(`Maskinporten's metadata at ${url} is not JSON`, false);
      }
      const m = (typeof meta === 'object' && meta !== null ? meta : {}) as Record<string, unknown>;
      const tokenEndpoint = m.token_endpoint;
      if (typeof tokenEndpoint !== 'string' || !/^https?:\/\//.test(tokenEndpoint)) {
        throw new MaskinportenError(`Maskinporten's metadata at ${url} names no token_endpoint`, false);
      }
      const audience =
        this.options.audience ?? this.options.issuer ?? (typeof m.issuer === 'string' ? m.issuer : undefined);
      if (!audience) {
        throw new MaskinportenError(`Maskinporten's metadata at ${url} names no issuer`, false);
      }
      return { tokenEndpoint, audience };
    }
    /* c8 ignore next */
    throw new MaskinportenError('no Maskinporten metadata found', false);
  }

  private async assertion(audience: string): Promise<string> {
    const { signingKey, clientId, scopes, resource } = this.options;
    const iat = Math.floor(this.now() / 1000);
    const claims: Record<string, unknown> = { scope: scopes.join(' ') };
    if (resource) claims.resource = resource;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: signingKey.alg, kid: signingKey.kid })
      .setAudience(audience)
      .setIssuer(clientId)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ASSERTION_LIFETIME_SECONDS)
      .setJti(randomUUID())
      .sign(signingKey.key);
  }

  private async fetchToken(): Promise<string> {
    const { tokenEndpoint, audience } = await this.discover();
    const assertion = await this.assertion(audience);
    const requestedAt = this.now();
    let res: Response;
    try {
      res = await this.fetchFn(tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ grant_type: JWT_BEARER, assertion }).toString(),
        // A redirect (307/308 keeps the body) would carry the signed assertion elsewhere.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new MaskinportenError(
        `cannot reach Maskinporten's token endpoint ${tokenEndpoint}: ${networkReason(err, this.timeoutMs)}`,
        true,
      );
    }
    let text = '';
    try {
      text = await readBodyBounded(res, SMALL_ANSWER_MAX_BYTES);
    } catch (err) {
      if (err instanceof AnswerTooLargeError) {
        throw new MaskinportenError(
          `Maskinporten's token endpoint sent an answer larger than ${err.maxBytes} bytes`,
          false,
        );
      }
      // broken off: reported below by status
    }
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
    } catch {
      // not JSON: reported below by status
    }
    if (!res.ok) {
      const error = typeof body.error === 'string' ? body.error : undefined;
      const retryable =
        res.status >= 500 ||
        res.status === 408 ||
        res.status === 429 ||
        error === 'temporarily_unavailable' ||
        error === 'server_error';
      const description = typeof body.error_description === 'string' ? body.error_description : undefined;
      const said = error
        ? `: ${sanitizeRemoteText(description ? `${error}: ${description}` : error, [assertion])}`
        : '';
      throw new MaskinportenError(
        `Maskinporten refused the token request (HTTP ${res.status})${said}`,
        retryable,
      );
    }
    const token = body.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new MaskinportenError("Maskinporten's token answer holds no access_token", false);
    }
    if (typeof body.token_type === 'string' && body.token_type.toLowerCase() !== 'bearer') {
      throw new MaskinportenError(
        `Maskinporten's token answer has token_type ${sanitizeRemoteText(body.token_type, [token, assertion], 40)}, not Bearer`,
        false,
      );
    }
    const expiresIn =
      typeof body.expires_in === 'number' && body.expires_in > 0
        ? body.expires_in
        : Number(body.expires_in) > 0
          ? Number(body.expires_in)
          : ASSERTION_LIFETIME_SECONDS;
    const lifetimeMs = expiresIn * 1000;
    // Renew 30 s before expiry; a token that lives less than a minute is renewed at half its life.
    this.cached = {
      token,
      renewAt: requestedAt + lifetimeMs - Math.min(RENEW_BEFORE_EXPIRY_MS, lifetimeMs / 2),
    };
    this.tokensFetched++;
    this.lastToken = { scope: typeof body.scope === 'string' ? body.scope : undefined, expiresIn };
    return token;
  }
}

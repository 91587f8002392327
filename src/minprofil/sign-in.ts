// Min profil as an OpenID Connect relying party of ID-porten (docs/minprofil.md#sign-in), with
// openid-client: the authorization code flow with PKCE (S256), `state` and `nonce`, `acr_values`;
// openid-client checks the id_token's `iss`, `aud`, `exp`, `iat` and `nonce` (and its signature,
// enableNonRepudiationChecks), and the answer's `iss` (RFC 9207); the `acr` is checked here.
//
// Discovery is lazy: nothing is fetched at start (the issuer may be this very server, not yet
// listening, or ID-porten briefly down); the first sign-in fetches it, and a failure is tried again
// on the next.

import { readFile } from 'node:fs/promises';
import * as client from 'openid-client';
import { importJWK, importPKCS8 } from 'jose';
import type { JWK } from 'jose';
import type { MinprofilClientAuth } from '../config/config.js';
import { ConfigError, KrrError } from '../errors/errors.js';

/** The levels this service accepts, in rising order; it asks for the first. */
export const ACCEPTED_ACR = ['idporten-loa-substantial', 'idporten-loa-high'] as const;

/** A sign-in that went wrong; its message names no token, code or identifier. */
export class SignInError extends KrrError {
  readonly code = 'SIGN_IN_FAILED';
  readonly status = 400;
}

/** What the browser keeps (in a signed cookie) between the redirect out and the answer. */
export interface PendingSignIn {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
}

export interface SignedIn {
  readonly pid: string;
  readonly acr: string;
}

export interface SignInOptions {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientAuth: MinprofilClientAuth;
  readonly redirectUri: string;
  /** Dev mode's stand-in serves over plain http on loopback. */
  readonly allowHttp: boolean;
  /** Each call to the issuer (discovery, token, keys) at most; default 10 s (docs/operations.md#timeouts). */
  readonly timeoutSeconds?: number;
}

/** The issuer could not be asked (no answer in time, not reachable, a bad discovery document): 503. */
export class SignInUnavailableError extends KrrError {
  readonly code = 'SIGN_IN_UNAVAILABLE';
  readonly status = 503;
}

/** openid-client's client authentication for the configured method (a key file is read here). */
export async function clientAuthentication(auth: MinprofilClientAuth): Promise<client.ClientAuth> {
  if (auth.kind === 'none') return client.None();
  if (auth.kind === 'client_secret_post') return client.ClientSecretPost(auth.secret);
  const text = await readFile(auth.keyFile, 'utf8');
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const jwk = JSON.parse(trimmed) as JWK;
    const alg = jwk.alg ?? (jwk.kty === 'EC' ? 'ES256' : 'RS256');
    const key = await importJWK(jwk, alg);
    const kid = auth.keyId ?? jwk.kid;
    if (!(key instanceof CryptoKey) || key.type !== 'private')
      throw new ConfigError('minprofil.privateKeyFile is not a private key');
    return client.PrivateKeyJwt(kid === undefined ? key : { key, kid });
  }
  const key = await importPKCS8(trimmed, 'RS256');
  return client.PrivateKeyJwt(auth.keyId === undefined ? key : { key, kid: auth.keyId });
}

export class OidcSignIn {
  private configuration: Promise<client.Configuration> | undefined;

  constructor(private readonly options: SignInOptions) {}

  private discover(): Promise<client.Configuration> {
    this.configuration ??= (async () => {
      const auth = await clientAuthentication(this.options.clientAuth);
      let config: client.Configuration;
      try {
        // The timeout bounds discovery and, kept in the configuration, every later call.
        config = await client.discovery(
          new URL(this.options.issuer),
          this.options.clientId,
          { redirect_uris: [this.options.redirectUri], id_token_signed_response_alg: 'RS256' },
          auth,
          {
            ...(this.options.allowHttp ? { execute: [client.allowInsecureRequests] } : {}),
            timeout: this.options.timeoutSeconds ?? 10,
          },
        );
      } catch (err) {
        const name = (err as Error).name;
        throw new SignInUnavailableError(
          name === 'TimeoutError' || (err as { cause?: { name?: string } }).cause?.name === 'TimeoutError'
            ? `the sign-in issuer did not answer within ${this.options.timeoutSeconds ?? 10} s`
            : `the sign-in issuer cannot be asked: ${(err as Error).message}`.slice(0, 300),
        );
      }
      client.enableNonRepudiationChecks(config);
      return config;
    })();
    // A failed discovery is not kept: the next sign-in tries again.
    this.configuration.catch(() => {
      this.configuration = undefined;
    });
    return this.configuration;
  }

  /** Where to send the browser, and what to keep until it comes back. */
  async start(uiLocale: string): Promise<{ url: string; pending: PendingSignIn }> {
    const config = await this.discover();
    const pending: PendingSignIn = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      verifier: client.randomPKCECodeVerifier(),
    };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.options.redirectUri,
      scope: 'openid',
      response_type: 'code',
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
      acr_values: ACCEPTED_ACR[0],
      ui_locales: uiLocale,
    });
    return { url: url.href, pending };
  }

  /** The answer at the redirect URI (`callback`: the full URL it was called with). */
  async finish(callback: URL, pending: PendingSignIn): Promise<SignedIn> {
    const config = await this.discover();
    let claims: client.IDToken | undefined;
    try {
      const tokens = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims();
    } catch (err) {
      // openid-client's messages name claims and parameters, never their values.
      throw new SignInError(`the sign-in answer was refused: ${(err as Error).message}`.slice(0, 300));
    }
    if (!claims) throw new SignInError('the sign-in answer has no id_token');
    const acr = claims.acr;
    if (typeof acr !== 'string' || !(ACCEPTED_ACR as readonly string[]).includes(acr))
      throw new SignInError('the id_token is not at an accepted level (acr)');
    const pid = claims.pid;
    if (typeof pid !== 'string' || !/^[0-9]{11}$/.test(pid))
      throw new SignInError('the id_token names no person (pid)');
    return { pid, acr };
  }
}

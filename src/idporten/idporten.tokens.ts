// ID-porten-shaped tokens (docs/tokens.md#id-porten-tokens: Maskinporten's claims plus `pid` and `acr`),
// signed with the one dev key (src/auth/dev-issuer.ts) that also signs the Maskinporten-like tokens.

import { createHash, randomUUID } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';
import type { JWK } from 'jose';
import { DEV_ALGORITHM } from '../auth/dev-issuer.js';

export const ACR_VALUES = ['idporten-loa-substantial', 'idporten-loa-high'] as const;
export type Acr = (typeof ACR_VALUES)[number];

export interface IdportenTokenRequest {
  readonly issuer: string;
  /** The logged-in person's identifier. */
  readonly pid: string;
  readonly scopes: readonly string[];
  readonly clientId: string;
  readonly acr: Acr;
  readonly expiresInSeconds: number;
  /** How the client authenticated at the token endpoint (`client_amr`). */
  readonly clientAmr?: string;
}

/**
 * ID-porten's `sub` is a pairwise pseudonym (per client), not the identifier; this stand-in derives
 * one the same way for the same person and client, so clients cannot mistake `sub` for `pid`.
 */
export function pairwiseSubject(issuer: string, clientId: string, pid: string): string {
  return createHash('sha256').update(`${issuer}\n${clientId}\n${pid}`).digest('base64url').slice(0, 43);
}

/** An ID-porten-shaped access token. */
export async function mintIdportenAccessToken(privateJwk: JWK, req: IdportenTokenRequest): Promise<string> {
  const key = await importJWK(privateJwk, DEV_ALGORITHM);
  return new SignJWT({
    scope: req.scopes.join(' '),
    client_id: req.clientId,
    client_amr: req.clientAmr ?? 'none',
    pid: req.pid,
    acr: req.acr,
    token_type: 'Bearer',
  })
    .setProtectedHeader({ alg: DEV_ALGORITHM, kid: privateJwk.kid!, typ: 'at+jwt' })
    .setIssuer(req.issuer)
    .setSubject(pairwiseSubject(req.issuer, req.clientId, req.pid))
    .setIssuedAt()
    .setJti(randomUUID())
    .setExpirationTime(`${req.expiresInSeconds}s`)
    .sign(key);
}

export interface IdTokenRequest {
  readonly issuer: string;
  readonly pid: string;
  readonly clientId: string;
  readonly acr: Acr;
  readonly nonce: string | undefined;
  readonly authTime: number;
  readonly expiresInSeconds: number;
  /** The `locale` claim: the language of the sign-in (docs/tokens.md#sign-in-pages). */
  readonly locale: string;
}

/** The OpenID Connect id_token: `aud` is the client, `nonce` echoed, `pid` and `acr` as ID-porten's. */
export async function mintIdToken(privateJwk: JWK, req: IdTokenRequest): Promise<string> {
  const key = await importJWK(privateJwk, DEV_ALGORITHM);
  const claims: Record<string, unknown> = {
    pid: req.pid,
    acr: req.acr,
    amr: ['TestID'],
    auth_time: req.authTime,
    locale: req.locale,
  };
  if (req.nonce !== undefined) claims.nonce = req.nonce;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: DEV_ALGORITHM, kid: privateJwk.kid! })
    .setIssuer(req.issuer)
    .setSubject(pairwiseSubject(req.issuer, req.clientId, req.pid))
    .setAudience(req.clientId)
    .setIssuedAt()
    .setJti(randomUUID())
    .setExpirationTime(`${req.expiresInSeconds}s`)
    .sign(key);
}

import type { FastifyRequest } from 'fastify';
import {
  InsufficientScopeError,
  InvalidTokenError,
  KrrError,
  WrongTokenKindError,
} from '../errors/errors.js';
import type { AccessToken, IssuerKind } from '../access/access-token.js';
import type { TokenVerifier } from './token-verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    accessToken?: AccessToken;
  }
}

const BEARER = /^Bearer[ \t]+([A-Za-z0-9\-_.~+/]+=*)[ \t]*$/i;

/**
 * Why a verified token is not one for an endpoint of `kind` (docs/tokens.md#issuer-kinds), or
 * undefined when it is. The messages name no claim value.
 */
function wrongKind(token: AccessToken, kind: IssuerKind): string | undefined {
  if (token.issuerKind !== kind) {
    return kind === 'maskinporten'
      ? "this endpoint takes Maskinporten tokens; the token's issuer is not one configured as Maskinporten"
      : "this endpoint takes ID-porten tokens of a logged-in person; the token's issuer is not one configured as ID-porten";
  }
  // Maskinporten never issues `pid`: a token with one is a person's, whoever signed it.
  if (kind === 'maskinporten' && token.pid !== null)
    return "this endpoint takes Maskinporten tokens; a token with pid is a person's";
  return undefined;
}

/**
 * A preHandler that verifies the bearer token, demands that its issuer be of `kind`
 * (docs/tokens.md#issuer-kinds), and demands at least one of `anyOfScopes`, and as well at least
 * one of `andAnyOf` where it is given (the feed: its own scope and a data scope,
 * docs/scopes.md#feed-scope). The token may hold any number of other scopes.
 */
export function requireToken(
  verifier: Pick<TokenVerifier, 'verify'>,
  kind: IssuerKind,
  anyOfScopes: readonly string[],
  andAnyOf?: readonly string[],
) {
  return async function authenticate(request: FastifyRequest): Promise<void> {
    const header = request.headers.authorization;
    if (!header) throw new InvalidTokenError('an access token is required (Authorization: Bearer <token>)');
    const match = BEARER.exec(header);
    if (!match) throw new InvalidTokenError('the Authorization header must be "Bearer <token>"');
    let token: AccessToken;
    try {
      token = await verifier.verify(match[1]!);
    } catch (err) {
      // Why a token was refused, for the operator; the message never holds the token.
      if (err instanceof KrrError) request.log.debug({ code: err.code }, err.message);
      throw err;
    }
    const wrong = wrongKind(token, kind);
    if (wrong !== undefined) {
      request.log.debug({ code: 'WRONG_TOKEN_KIND', issuerKind: token.issuerKind }, wrong);
      throw new WrongTokenKindError(wrong);
    }
    if (!token.scopes.some((s) => anyOfScopes.includes(s))) throw new InsufficientScopeError(anyOfScopes);
    if (andAnyOf && !token.scopes.some((s) => andAnyOf.includes(s)))
      throw new InsufficientScopeError(andAnyOf);
    request.accessToken = token;
  };
}

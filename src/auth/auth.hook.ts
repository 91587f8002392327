import type { FastifyReply, FastifyRequest } from 'fastify';
import { InsufficientScopeError, InvalidTokenError, KrrError } from '../errors/errors.js';
import type { AccessToken } from '../access/access-token.js';
import type { TokenVerifier } from './token-verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    accessToken?: AccessToken;
  }
}

const BEARER = /^Bearer[ \t]+([A-Za-z0-9\-_.~+/]+=*)[ \t]*$/i;

/**
 * A preHandler that verifies the bearer token and demands at least one of `anyOfScopes`, and as
 * well at least one of `andAnyOf` where it is given (the feed: its own scope and a data scope,
 * docs/scopes.md#feed-scope). The token may hold any number of other scopes.
 */
export function requireToken(
  verifier: Pick<TokenVerifier, 'verify'>,
  anyOfScopes: readonly string[],
  andAnyOf?: readonly string[],
) {
  return async function authenticate(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
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
    if (!token.scopes.some((s) => anyOfScopes.includes(s))) throw new InsufficientScopeError(anyOfScopes);
    if (andAnyOf && !token.scopes.some((s) => andAnyOf.includes(s)))
      throw new InsufficientScopeError(andAnyOf);
    request.accessToken = token;
  };
}

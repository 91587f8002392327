// Maskinporten's endpoints on the dev server: POST /token (JWT-bearer grant), the RFC 8414 metadata
// and the JWKS at /jwk. They live in an encapsulated plugin with their own form parser and error
// handler, so that OAuth errors get OAuth bodies and the KRR endpoints keep reading every body as JSON.

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { JWK } from 'jose';
import { OAuthError } from '../errors/errors.js';
import { sendJson } from '../http/send-json.js';
import { ASSERTION_ALGORITHMS, JWT_BEARER_GRANT } from './token.service.js';
import type { MaskinportenTokenService } from './token.service.js';

export interface MaskinportenRoutesDeps {
  readonly service: MaskinportenTokenService;
  readonly issuer: string;
  /** The server's base URL, without a trailing slash. */
  readonly publicUrl: string;
  /** The dev issuer's public key. */
  readonly publicJwk: JWK;
}

const FORM = 'application/x-www-form-urlencoded';

function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}

function oauthErrorOf(error: FastifyError): OAuthError | undefined {
  if (error instanceof OAuthError) return error;
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new OAuthError('invalid_request', 'the request is too large');
  if (error.code?.startsWith('FST_ERR_CTP_') || error instanceof SyntaxError || error.statusCode === 400) {
    return new OAuthError('invalid_request', `the token request must be a form (${FORM})`);
  }
  return undefined;
}

/**
 * One value of a token request parameter: from the form body, else from the query string (a client
 * seen in the wild sends its grant as query parameters). Repeated parameters are refused (RFC 6749).
 */
function parameter(body: unknown, query: URLSearchParams, name: string): string | undefined {
  const form = body instanceof URLSearchParams ? body : undefined;
  const values = form?.has(name) ? form.getAll(name) : query.getAll(name);
  if (values.length > 1) throw new OAuthError('invalid_request', `${name} is given more than once`);
  return values[0] === '' ? undefined : values[0];
}

export async function maskinportenRoutes(app: FastifyInstance, deps: MaskinportenRoutesDeps): Promise<void> {
  const base = deps.publicUrl.replace(/\/+$/, '');
  const metadata = JSON.stringify({
    issuer: deps.issuer,
    token_endpoint: `${base}/token`,
    jwks_uri: `${base}/jwk`,
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    grant_types_supported: [JWT_BEARER_GRANT],
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
    authorization_details_types_supported: [],
  });
  const jwks = JSON.stringify({ keys: [deps.publicJwk] });

  // eslint-disable-next-line @typescript-eslint/require-await -- an async plugin: avvio turns what it throws (a bad route) into a rejected register()
  await app.register(async (scope) => {
    // Content types match on their essence, in any letter case, with or without `;charset=...`.
    scope.addContentTypeParser(FORM, { parseAs: 'string' }, (_req, body, done) => {
      done(null, new URLSearchParams(body as string));
    });
    scope.setErrorHandler((error: FastifyError, request, reply) => {
      const oauth = oauthErrorOf(error);
      if (!oauth) {
        request.log.error({ err: error }, 'unhandled error in the token service');
        return sendJson(noStore(reply), JSON.stringify({ error: 'server_error' }), 500);
      }
      return sendJson(
        noStore(reply),
        JSON.stringify({ error: oauth.error, error_description: oauth.message }),
        oauth.status,
      );
    });

    const token = async (request: FastifyRequest, reply: FastifyReply) => {
      const query = new URLSearchParams(request.url.split('?')[1] ?? '');
      if (request.body !== undefined && !(request.body instanceof URLSearchParams)) {
        throw new OAuthError('invalid_request', `the token request must be a form (${FORM})`);
      }
      const answer = await deps.service.grant({
        grantType: parameter(request.body, query, 'grant_type'),
        assertion: parameter(request.body, query, 'assertion'),
      });
      return sendJson(noStore(reply), JSON.stringify(answer));
    };
    // Clients that join the issuer (with its slash) and "/token" by hand ask for "//token".
    for (const url of ['/token', '/token/', '//token']) scope.post(url, { schema: { hide: true } }, token);

    const sendMetadata = async (_request: FastifyRequest, reply: FastifyReply) => sendJson(reply, metadata);
    for (const url of [
      '/.well-known/oauth-authorization-server',
      '/.well-known/oauth-authorization-server/',
      '//.well-known/oauth-authorization-server',
    ]) {
      scope.get(url, { schema: { hide: true } }, sendMetadata);
    }
    scope.get('/jwk', { schema: { hide: true } }, async (_request, reply) => sendJson(reply, jwks));
  });
}

import type {} from '@fastify/swagger';
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireToken } from '../auth/auth.hook.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { sendJson } from '../http/send-json.js';
import { DATA_SCOPES, groupsForScopes, viewFor } from '../access/access.view.js';
import type { ChangesService } from './changes.service.js';

export const FEED_SCOPE = 'krr:global/hentendring.read';
export const FEED_PATH = '/rest/v2/krr/hentEndringer';

const FeedBody = Type.Object(
  { fraEndringsId: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }) },
  { additionalProperties: true },
);
type FeedBody = Static<typeof FeedBody>;

const ErrorResponse = Type.Object({ errors: Type.Array(Type.Object({}, { additionalProperties: true })) });

export function changesRoutes(
  app: FastifyInstance,
  deps: { service: ChangesService; verifier: TokenVerifier },
) {
  app.post<{ Body: FeedBody }>(
    FEED_PATH,
    {
      onRequest: requireToken(deps.verifier, 'maskinporten', [FEED_SCOPE], DATA_SCOPES),
      schema: {
        summary: 'Changes since fraEndringsId (lokal kopi)',
        description:
          'Persons whose latest change id is greater than fraEndringsId, ascending, at most 1000, each in its current state. ' +
          'Page with fraEndringsId = tilEndringsId until tilEndringsId == sisteEndringsId. The token needs the feed scope and at least one data scope, which decide the fields.',
        tags: ['endringer'],
        security: [{ maskinporten: [] }],
        body: FeedBody,
        response: {
          200: Type.Object({
            list: Type.Array(Type.Ref('Person')),
            fraEndringsId: Type.Integer(),
            tilEndringsId: Type.Integer(),
            sisteEndringsId: Type.Integer(),
          }),
          400: ErrorResponse,
          401: ErrorResponse,
          403: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const token = request.accessToken!;
      const view = viewFor(groupsForScopes(token.scopes) ?? 0, undefined);
      return sendJson(reply, await deps.service.page(request.body.fraEndringsId, view, token, FEED_PATH));
    },
  );
}

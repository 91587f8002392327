import type {} from '@fastify/swagger';
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireToken } from '../auth/auth.hook.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { sendJson } from '../http/send-json.js';
import { DATA_SCOPES, groupsForScopes, viewFor } from '../access/access.view.js';
import type { ChangesService } from './changes.service.js';
import { EndringPersonSchema, FEED_PERSON_SCHEMAS } from '../answer/answer.schema.js';
import {
  BODY_ERRORS,
  errorResponses,
  jsonResponse,
  refTo,
  registerSchemas,
  TOKEN_ERRORS,
} from '../http/openapi.js';

export const FEED_SCOPE = 'krr:global/hentendring.read';
export const FEED_PATH = '/rest/v2/krr/hentEndringer';

export const EndringerRequestSchema = Type.Object(
  {
    fraEndringsId: Type.Integer({
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description: '0 to start, then the last tilEndringsId',
    }),
  },
  {
    $id: 'EndringerRequest',
    additionalProperties: true,
    description: 'A page of the change feed (docs/change-feed.md#request); other members are ignored.',
  },
);
type FeedBody = Static<typeof EndringerRequestSchema>;

/** One page of the feed (docs/change-feed.md#answer). */
export const EndringerResponseSchema = Type.Object(
  {
    list: Type.Array(refTo(EndringPersonSchema), {
      description:
        'the persons whose latest change id is greater than fraEndringsId, ascending by change id, at most 1000, each in its current state',
    }),
    fraEndringsId: Type.Integer({ description: 'as asked' }),
    tilEndringsId: Type.Integer({
      description: 'the change id of the last person in list; sisteEndringsId when list is empty',
    }),
    sisteEndringsId: Type.Integer({ description: 'the highest change id a reader can see' }),
  },
  {
    $id: 'EndringerResponse',
    description: 'One page of the change feed: page on until tilEndringsId == sisteEndringsId.',
  },
);

export function changesRoutes(
  app: FastifyInstance,
  deps: { service: ChangesService; verifier: TokenVerifier },
) {
  registerSchemas(app, [...FEED_PERSON_SCHEMAS, EndringerRequestSchema, EndringerResponseSchema]);
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
        operationId: 'hentEndringer',
        body: refTo(EndringerRequestSchema),
        response: {
          200: jsonResponse(EndringerResponseSchema, 'One page of the feed'),
          ...errorResponses({
            ...BODY_ERRORS,
            ...TOKEN_ERRORS,
            403: 'The token lacks the feed scope or has no data scope (WWW-Authenticate: Bearer error="insufficient_scope"), or is not a Maskinporten token (docs/tokens.md#issuer-kinds).',
          }),
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

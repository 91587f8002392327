import type {} from '@fastify/swagger';
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireToken } from '../auth/auth.hook.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { DATA_SCOPES, groupsForScopes, viewFor } from '../access/access.view.js';
import type { LookupService } from './lookup.service.js';
import { VerifiedTokenCache } from '../auth/token-cache.js';
import { PERSON_SCHEMAS, PersonSchema } from '../answer/answer.schema.js';
import {
  BODY_ERRORS,
  errorResponses,
  jsonResponse,
  refTo,
  registerSchemas,
  TOKEN_ERRORS,
} from '../http/openapi.js';

export const MAX_IDENTIFIERS = 1000;

// Shape only (400 when wrong); the identifiers' values are checked by the service (422).
// Unknown members are tolerated: real clients send extras such as personIdentifiersAsString.
export const PersonerRequestSchema = Type.Object(
  {
    personidentifikatorer: Type.Array(Type.String(), {
      minItems: 1,
      maxItems: MAX_IDENTIFIERS,
      description: '1 to 1000 identifiers (11 digits each, else 422); duplicates are answered once',
    }),
    // null as absent: Java clients serialise unset Boolean and List fields as null.
    inkluderIkkeRegistrerte: Type.Optional(
      Type.Union([Type.Boolean(), Type.Null()], {
        description:
          'v2 only (v1 always includes them): answer identifiers with no record as IKKE_REGISTRERT',
      }),
    ),
    informasjonsbehov: Type.Optional(
      Type.Union([Type.Array(Type.String(), { maxItems: 100 }), Type.Null()], {
        description:
          'the groups wanted: Person, Kontaktinfo (Kontaktinformasjon), Sertifikat, SikkerDigitalPost, VarslingsStatus, Spraak; unknown codes are ignored (docs/lookup.md#informasjonsbehov)',
      }),
    ),
  },
  {
    $id: 'PersonerRequest',
    additionalProperties: true,
    description: 'A lookup (docs/lookup.md#request); other members are ignored.',
  },
);
type LookupBody = Static<typeof PersonerRequestSchema>;

export const PersonerResponseSchema = Type.Object(
  {
    personer: Type.Array(refTo(PersonSchema), {
      description: 'in ascending order of personidentifikator, each identifier once',
    }),
  },
  { $id: 'PersonerResponse', description: 'The answer to a lookup (docs/lookup.md#answer).' },
);

export function lookupRoutes(
  app: FastifyInstance,
  deps: { service: LookupService; verifier: TokenVerifier },
) {
  registerSchemas(app, [...PERSON_SCHEMAS, PersonerRequestSchema, PersonerResponseSchema]);
  // Lookups come many times a second with the same token: verified once, then remembered until exp.
  const authenticate = requireToken(new VerifiedTokenCache(deps.verifier), 'maskinporten', DATA_SCOPES);
  for (const version of ['v1', 'v2'] as const) {
    const path = `/rest/${version}/personer`;
    app.post<{ Body: LookupBody }>(
      path,
      {
        onRequest: authenticate,
        config: { signAnswer: true },
        schema: {
          summary: `Look persons up (${version})`,
          description:
            version === 'v1'
              ? 'Contact and reservation data for 1 to 1000 persons. Identifiers with no record are answered as IKKE_REGISTRERT.'
              : 'Contact and reservation data for 1 to 1000 persons. inkluderIkkeRegistrerte decides whether identifiers with no record are answered.',
          tags: ['oppslag'],
          security: [{ maskinporten: [] }],
          operationId: `hentPersoner${version === 'v1' ? 'V1' : 'V2'}`,
          body: refTo(PersonerRequestSchema),
          response: {
            200: jsonResponse(PersonerResponseSchema, 'The persons asked for', true),
            ...errorResponses({
              ...BODY_ERRORS,
              ...TOKEN_ERRORS,
              403: 'The token has no data scope (WWW-Authenticate: Bearer error="insufficient_scope"), or is not a Maskinporten token (docs/tokens.md#issuer-kinds).',
              422: 'An identifier is not valid (not 11 digits, bad check digits or date): one error per identifier, source.pointer /personidentifikatorer/<index>.',
            }),
          },
        },
      },
      async (request, reply) => {
        const token = request.accessToken!;
        const body = request.body;
        const view = viewFor(groupsForScopes(token.scopes) ?? 0, body.informasjonsbehov ?? undefined);
        const answer = await deps.service.lookupAnswer(
          {
            endpoint: path,
            identifiers: body.personidentifikatorer,
            includeUnregistered: version === 'v1' ? true : (body.inkluderIkkeRegistrerte ?? false),
            view,
          },
          token,
        );
        // 'close' comes once the response is all handed to the kernel or the connection is gone:
        // only then may the buffer carry another answer.
        reply.raw.once('close', () => answer.release());
        return reply.status(200).header('content-type', 'application/json').send(answer.bytes);
      },
    );
  }
}

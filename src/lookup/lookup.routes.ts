import type {} from '@fastify/swagger';
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireToken } from '../auth/auth.hook.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { DATA_SCOPES, groupsForScopes, viewFor } from '../access/access.view.js';
import type { LookupService } from './lookup.service.js';
import { VerifiedTokenCache } from '../auth/token-cache.js';

export const MAX_IDENTIFIERS = 1000;

// Shape only (400 when wrong); the identifiers' values are checked by the service (422).
// Unknown members are tolerated: real clients send extras such as personIdentifiersAsString.
const LookupBody = Type.Object(
  {
    personidentifikatorer: Type.Array(Type.String(), { minItems: 1, maxItems: MAX_IDENTIFIERS }),
    // null as absent: Java clients serialise unset Boolean and List fields as null.
    inkluderIkkeRegistrerte: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    informasjonsbehov: Type.Optional(Type.Union([Type.Array(Type.String(), { maxItems: 100 }), Type.Null()])),
  },
  { additionalProperties: true },
);
type LookupBody = Static<typeof LookupBody>;

const Organisation = Type.String({ pattern: '^[0-9]{9}$' });
const Timestamp = Type.String({
  description: 'Europe/Oslo local time, hours-only offset: 2017-11-07T09:48:38+01',
});
export const PersonSchema = Type.Object(
  {
    personidentifikator: Type.String({ pattern: '^[0-9]{11}$' }),
    reservasjon: Type.Optional(Type.Union([Type.Literal('JA'), Type.Literal('NEI')])),
    reservasjonstidspunkt: Type.Optional(Timestamp),
    reservasjon_oppdatert: Type.Optional(Timestamp),
    status: Type.Union([Type.Literal('AKTIV'), Type.Literal('SLETTET'), Type.Literal('IKKE_REGISTRERT')]),
    varslingsstatus: Type.Optional(
      Type.Union([Type.Literal('KAN_VARSLES'), Type.Literal('KAN_IKKE_VARSLES')]),
    ),
    kontaktinformasjon: Type.Optional(
      Type.Object({
        epostadresse: Type.Optional(Type.String()),
        epostadresse_oppdatert: Type.Optional(Timestamp),
        epostadresse_sist_verifisert: Type.Optional(Timestamp),
        mobiltelefonnummer: Type.Optional(Type.String()),
        mobiltelefonnummer_oppdatert: Type.Optional(Timestamp),
        mobiltelefonnummer_sist_verifisert: Type.Optional(Timestamp),
      }),
    ),
    digital_post: Type.Optional(
      Type.Object({ postkasseadresse: Type.String(), postkasseleverandoeradresse: Organisation }),
    ),
    sertifikat: Type.Optional(Type.String({ description: 'base64 of a DER X.509 certificate' })),
    spraak: Type.Optional(Type.String({ enum: ['nb', 'nn', 'en', 'se'] })),
    spraak_oppdatert: Type.Optional(Timestamp),
  },
  { $id: 'Person' },
);

const ErrorResponse = Type.Object({
  errors: Type.Array(
    Type.Object({
      id: Type.String(),
      status: Type.String(),
      title: Type.String(),
      detail: Type.Optional(Type.String()),
      source: Type.Optional(Type.Object({ pointer: Type.String() })),
    }),
  ),
});

export function lookupRoutes(
  app: FastifyInstance,
  deps: { service: LookupService; verifier: TokenVerifier },
) {
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
          body: LookupBody,
          response: {
            200: Type.Object({ personer: Type.Array(Type.Ref('Person')) }),
            400: ErrorResponse,
            401: ErrorResponse,
            403: ErrorResponse,
            422: ErrorResponse,
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

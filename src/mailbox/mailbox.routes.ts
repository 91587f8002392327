import type {} from '@fastify/swagger';
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requireToken } from '../auth/auth.hook.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { ForbiddenError } from '../errors/errors.js';
import { sendJson } from '../http/send-json.js';
import { isValidOrganisationNumber } from '../identifier/identifier.js';
import type { ProviderRepository } from '../provider/provider.repository.js';
import type { MailboxService } from './mailbox.service.js';

export const MAILBOX_SCOPE = 'krr:global/postkasse.write';

const Identified = { personidentifikator: Type.String() };
const KanVelgeBody = Type.Object(Identified, { additionalProperties: true });
const SlettBody = Type.Object(
  { ...Identified, virksomhetsidentifikator: Type.String() },
  { additionalProperties: true },
);
const MailboxBody = Type.Object(
  {
    ...Identified,
    virksomhetsidentifikator: Type.String(),
    postkasseadresse: Type.String(),
    sertifikat: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  },
  { additionalProperties: true },
);
const Answer = Type.Object({ status: Type.String(), beskrivelse: Type.Optional(Type.String()) });
const ErrorResponse = Type.Object({ errors: Type.Array(Type.Object({}, { additionalProperties: true })) });

export interface MailboxRouteDeps {
  readonly service: MailboxService;
  readonly providers: ProviderRepository;
  readonly verifier: TokenVerifier;
}

export function mailboxRoutes(app: FastifyInstance, deps: MailboxRouteDeps) {
  const onRequest = requireToken(deps.verifier, 'maskinporten', [MAILBOX_SCOPE]);

  /** The caller's organisation, which must be a registered provider and the one the body names. */
  async function callingProvider(request: FastifyRequest, named?: string): Promise<string> {
    const consumer = request.accessToken!.consumer;
    if (!consumer || !(await deps.providers.find(consumer))) {
      throw new ForbiddenError("the token's consumer is not a mailbox provider registered here");
    }
    // An invalid organisation number is answered with UGYLDIG_ORGNR; a valid other one is forbidden.
    if (named !== undefined && isValidOrganisationNumber(named) && named !== consumer) {
      throw new ForbiddenError('a mailbox provider can only act for its own organisation');
    }
    return consumer;
  }

  const schema = (summary: string, body: unknown) => ({
    summary,
    tags: ['postkasse'],
    security: [{ maskinporten: [] }],
    body,
    response: { 200: Answer, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse },
  });

  app.post<{ Body: Static<typeof KanVelgeBody> }>(
    '/rest/v1/postkasse/kanVelge',
    { onRequest, schema: schema('Can the person choose a mailbox?', KanVelgeBody) },
    async (request, reply) => {
      const provider = await callingProvider(request);
      const answer = await deps.service.kanVelge(
        request.body.personidentifikator,
        provider,
        request.accessToken!,
      );
      return sendJson(reply, JSON.stringify(answer));
    },
  );

  for (const operation of ['opprettOgVelg', 'oppdater'] as const) {
    app.post<{ Body: Static<typeof MailboxBody> }>(
      `/rest/v1/postkasse/${operation}`,
      {
        onRequest,
        schema: schema(
          operation === 'opprettOgVelg' ? 'Create and choose a mailbox' : 'Update a mailbox',
          MailboxBody,
        ),
      },
      async (request, reply) => {
        const body = request.body;
        const provider = await callingProvider(request, body.virksomhetsidentifikator);
        const req = {
          personidentifikator: body.personidentifikator,
          virksomhetsidentifikator: body.virksomhetsidentifikator,
          postkasseadresse: body.postkasseadresse,
          sertifikat: body.sertifikat ?? undefined,
        };
        const answer = await deps.service[operation](req, provider, request.accessToken!);
        return sendJson(reply, JSON.stringify(answer));
      },
    );
  }

  app.post<{ Body: Static<typeof SlettBody> }>(
    '/rest/v1/postkasse/slett',
    { onRequest, schema: schema('Delete a mailbox', SlettBody) },
    async (request, reply) => {
      const provider = await callingProvider(request, request.body.virksomhetsidentifikator);
      const answer = await deps.service.slett(request.body, provider, request.accessToken!);
      return sendJson(reply, JSON.stringify(answer));
    },
  );
}

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
import { BESKRIVELSER } from './mailbox.service.js';
import type { Beskrivelse, MailboxService } from './mailbox.service.js';
import { stringEnum } from '../answer/answer.schema.js';
import {
  BODY_ERRORS,
  errorResponses,
  jsonResponse,
  refTo,
  registerSchemas,
  TOKEN_ERRORS,
} from '../http/openapi.js';
import type { NamedSchema } from '../http/openapi.js';

export const MAILBOX_SCOPE = 'krr:global/postkasse.write';

const Identified = {
  personidentifikator: Type.String({ description: '11 digits, else UGYLDIG_PERSONNUMMER' }),
};
const Provider = {
  virksomhetsidentifikator: Type.String({
    description:
      "the calling provider's organisation number (another valid one is 403; an invalid one UGYLDIG_ORGNR)",
  }),
};
export const KanVelgeRequestSchema = Type.Object(Identified, {
  $id: 'KanVelgeRequest',
  additionalProperties: true,
  description: 'Can the person choose a mailbox? Other members are ignored.',
});
export const SlettPostkasseRequestSchema = Type.Object(
  { ...Identified, ...Provider },
  {
    $id: 'SlettPostkasseRequest',
    additionalProperties: true,
    description: "Delete the person's mailbox at the calling provider. Other members are ignored.",
  },
);
export const PostkasseRequestSchema = Type.Object(
  {
    ...Identified,
    ...Provider,
    postkasseadresse: Type.String({
      description: '8 to 100 printable characters, else UGYLDIG_EPOSTADRESSE',
    }),
    sertifikat: Type.Optional(
      Type.Union([Type.String(), Type.Null()], {
        description:
          "base64 of a DER X.509 encryption certificate, the person's own; absent or null: the person shows the provider's",
      }),
    ),
  },
  {
    $id: 'PostkasseRequest',
    additionalProperties: true,
    description:
      'Create and choose, or update, a mailbox at the calling provider. Other members are ignored.',
  },
);
type KanVelgeBody = Static<typeof KanVelgeRequestSchema>;
type SlettBody = Static<typeof SlettPostkasseRequestSchema>;
type MailboxBody = Static<typeof PostkasseRequestSchema>;

export const BeskrivelseSchema = Type.Unsafe<Beskrivelse>({
  $id: 'Beskrivelse',
  type: 'string',
  enum: [...BESKRIVELSER],
  description: 'Why the answer is NEI or FEILET (docs/mailbox.md#beskrivelse-codes).',
});
export const KanVelgeResponseSchema = Type.Object(
  {
    status: stringEnum(['JA', 'NEI'] as const),
    beskrivelse: Type.Optional(refTo(BeskrivelseSchema, { description: 'exactly when status is NEI' })),
  },
  { $id: 'KanVelgeResponse' },
);
export const PostkasseResponseSchema = Type.Object(
  {
    status: stringEnum(['OK', 'FEILET'] as const),
    beskrivelse: Type.Optional(refTo(BeskrivelseSchema, { description: 'exactly when status is FEILET' })),
  },
  { $id: 'PostkasseResponse' },
);

const MAILBOX_SCHEMAS = [
  KanVelgeRequestSchema,
  PostkasseRequestSchema,
  SlettPostkasseRequestSchema,
  BeskrivelseSchema,
  KanVelgeResponseSchema,
  PostkasseResponseSchema,
] as const;

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

  registerSchemas(app, MAILBOX_SCHEMAS);
  const schema = (operationId: string, summary: string, body: NamedSchema, answer: NamedSchema) => ({
    summary,
    tags: ['postkasse'],
    security: [{ maskinporten: [] }],
    operationId,
    body: refTo(body),
    response: {
      200: jsonResponse(answer, 'The outcome; a refused operation is 200 too, with its beskrivelse'),
      ...errorResponses({
        ...BODY_ERRORS,
        ...TOKEN_ERRORS,
        403: 'The token lacks krr:global/postkasse.write (WWW-Authenticate: Bearer error="insufficient_scope") or is not a Maskinporten token; or its consumer is not a mailbox provider registered here, or acts for another (docs/mailbox.md#callers).',
      }),
    },
  });

  app.post<{ Body: KanVelgeBody }>(
    '/rest/v1/postkasse/kanVelge',
    {
      onRequest,
      schema: schema(
        'kanVelgePostkasse',
        'Can the person choose a mailbox?',
        KanVelgeRequestSchema,
        KanVelgeResponseSchema,
      ),
    },
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
    app.post<{ Body: MailboxBody }>(
      `/rest/v1/postkasse/${operation}`,
      {
        onRequest,
        schema: schema(
          `${operation}Postkasse`,
          operation === 'opprettOgVelg' ? 'Create and choose a mailbox' : 'Update a mailbox',
          PostkasseRequestSchema,
          PostkasseResponseSchema,
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

  app.post<{ Body: SlettBody }>(
    '/rest/v1/postkasse/slett',
    {
      onRequest,
      schema: schema(
        'slettPostkasse',
        'Delete a mailbox',
        SlettPostkasseRequestSchema,
        PostkasseResponseSchema,
      ),
    },
    async (request, reply) => {
      const provider = await callingProvider(request, request.body.virksomhetsidentifikator);
      const answer = await deps.service.slett(request.body, provider, request.accessToken!);
      return sendJson(reply, JSON.stringify(answer));
    },
  );
}

// `GET /rest/v1/person` (docs/person-endpoint.md#get) and `PATCH /rest/v1/person`
// (docs/person-endpoint.md#patch), for an ID-porten token.

import type {} from '@fastify/swagger';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { PERSON_SCHEMAS, PersonSchema, stringEnum } from '../answer/answer.schema.js';
import { requireToken } from '../auth/auth.hook.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { BadRequestError } from '../errors/errors.js';
import { sendJson } from '../http/send-json.js';
import { errorResponses, jsonResponse, refTo, registerSchemas, TOKEN_ERRORS } from '../http/openapi.js';
import { LANGUAGES } from '../person/person.js';
import { DATA_SCOPES, Group, groupsForScopes, viewFor } from '../access/access.view.js';
import type { View } from '../access/access.view.js';
import { parseSelfChange, SELF_PATH } from './self.service.js';
import type { SelfService } from './self.service.js';

/** `krr:user/*` and legacy `user/*`: the person's own twins of the lookup scopes. */
function userTwin(scope: string): string {
  return scope.startsWith('krr:global/') ? `krr:user/${scope.slice(11)}` : `user/${scope.slice(7)}`;
}
export const USER_READ_SCOPES: readonly string[] = DATA_SCOPES.map(userTwin);
export const SPRAAK_WRITE_SCOPE = 'krr:user/spraak.write';

/** The groups a person's token grants: each user scope as its global twin. */
export function userGroups(scopes: readonly string[]): number {
  const globals = scopes
    .filter((s) => USER_READ_SCOPES.includes(s))
    .map((s) => DATA_SCOPES[USER_READ_SCOPES.indexOf(s)]!);
  return groupsForScopes(globals) ?? 0;
}

/**
 * The body of PATCH, for the OpenAPI document only: the route reads the body itself
 * (parseSelfChange), so that a wrong member or value is 422 with a pointer and only a body that is
 * not an object is 400 (docs/person-endpoint.md#patch); a validated schema would make them all 400.
 */
export const SpraakEndringSchema = Type.Object(
  {
    spraak: stringEnum([...LANGUAGES, ''] as const, 'the preferred language (ISO 639-1); "" removes it'),
  },
  {
    $id: 'SpraakEndring',
    additionalProperties: false,
    description: 'Exactly {"spraak": ...}: any other member, a missing spraak or another value is 422.',
  },
);

/** The logged-in person's token problems (docs/person-endpoint.md#errors). */
const SELF_403 =
  'The token lacks the scope the operation needs (WWW-Authenticate: Bearer error="insufficient_scope"), is not an ID-porten token (docs/tokens.md#issuer-kinds), or has no pid or one that is not a valid identifier.';

export function selfRoutes(app: FastifyInstance, deps: { service: SelfService; verifier: TokenVerifier }) {
  registerSchemas(app, [...PERSON_SCHEMAS, SpraakEndringSchema]);
  const security = [{ idporten: [] }];
  app.get(
    SELF_PATH,
    {
      onRequest: requireToken(deps.verifier, 'idporten', USER_READ_SCOPES),
      config: { signAnswer: true },
      schema: {
        summary: 'The logged-in person',
        description:
          'The person of the ID-porten token (its pid), as one Person object. IKKE_REGISTRERT when the register has no record. A token from an issuer that is not configured as ID-porten, or without pid, is refused with 403.',
        tags: ['innlogget'],
        security,
        operationId: 'hentInnloggetPerson',
        response: {
          200: jsonResponse(PersonSchema, 'The logged-in person', true),
          ...errorResponses({ ...TOKEN_ERRORS, 403: SELF_403 }),
        },
      },
    },
    async (request, reply) => {
      const token = request.accessToken!;
      const view: View = viewFor(userGroups(token.scopes), undefined);
      return sendJson(reply, await deps.service.get(token, view));
    },
  );
  app.patch(
    SELF_PATH,
    {
      onRequest: requireToken(deps.verifier, 'idporten', [SPRAAK_WRITE_SCOPE]),
      config: {
        signAnswer: true,
        // The body in the document, not in the route's schema (see SpraakEndringSchema).
        swaggerTransform: ({ schema, url }) => ({
          schema: { ...schema, body: refTo(SpraakEndringSchema) },
          url,
        }),
      },
      schema: {
        summary: "Change the logged-in person's language",
        description:
          'Body {"spraak": "nb|nn|en|se"} ("" removes it); scope krr:user/spraak.write. Answers the updated Person. 404 when the register has no active record for the person.',
        tags: ['innlogget'],
        security,
        operationId: 'endreSpraak',
        response: {
          200: jsonResponse(PersonSchema, 'The person after the change', true),
          ...errorResponses({
            400: 'The body is not a JSON object (not JSON, empty, or another JSON value); or the request is not valid HTTP.',
            ...TOKEN_ERRORS,
            403: SELF_403,
            404: 'The register holds no AKTIV record for the person.',
            413: 'The body is over the size limit (bodyLimitBytes).',
            422: 'A member other than spraak, spraak missing, or not one of the languages: one error per problem, with source.pointer.',
          }),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        throw new BadRequestError('the request body must be a JSON object');
      }
      const change = parseSelfChange(body as Record<string, unknown>);
      const token = request.accessToken!;
      const view: View = viewFor(userGroups(token.scopes) | Group.spraak, undefined);
      return sendJson(reply, await deps.service.change(token, change, view));
    },
  );
}

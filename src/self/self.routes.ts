// `GET /rest/v1/person` (docs/person-endpoint.md#get) and `PATCH /rest/v1/person`
// (docs/person-endpoint.md#patch), for an ID-porten token.

import type { FastifyInstance } from 'fastify';
import { requireToken } from '../auth/auth.hook.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { BadRequestError } from '../errors/errors.js';
import { sendJson } from '../http/send-json.js';
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

export function selfRoutes(app: FastifyInstance, deps: { service: SelfService; verifier: TokenVerifier }) {
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
      config: { signAnswer: true },
      schema: {
        summary: "Change the logged-in person's language",
        description:
          'Body {"spraak": "nb|nn|en|se"} ("" removes it); scope krr:user/spraak.write. Answers the updated Person. 404 when the register has no active record for the person.',
        tags: ['innlogget'],
        security,
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

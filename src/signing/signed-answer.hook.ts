// `Accept: application/jose` (docs/signed-answers.md#negotiation): an onSend hook that signs the 200
// answer of the routes whose config has `signAnswer: true`, whatever form the payload has (string or
// Buffer). Errors stay the JSON error body (docs/errors.md#error-body).

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AnswerSigner } from './answer-signer.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Answer `Accept: application/jose` with a compact JWS of the JSON answer. */
    signAnswer?: boolean;
  }
}

export const JOSE_MEDIA_TYPE = 'application/jose';

/** `application/jose` anywhere in the Accept list, with any parameters, unless it has q=0. */
export function acceptsJose(accept: string | undefined): boolean {
  if (!accept) return false;
  for (const range of accept.split(',')) {
    const [type, ...params] = range.split(';').map((s) => s.trim().toLowerCase());
    if (type !== JOSE_MEDIA_TYPE) continue;
    const q = params.find((p) => p.startsWith('q='));
    if (q !== undefined && Number(q.slice(2)) === 0) continue;
    return true;
  }
  return false;
}

/** `signer` gives the signer when answers are signed at all (undefined: they are not). */
export function signedAnswerHook(signer: (() => Promise<AnswerSigner>) | undefined) {
  return async function signAnswer(
    request: FastifyRequest,
    reply: FastifyReply,
    payload: unknown,
  ): Promise<unknown> {
    if (request.routeOptions.config?.signAnswer !== true) return payload;
    reply.header('vary', 'Accept');
    if (signer === undefined || reply.statusCode !== 200 || !acceptsJose(request.headers.accept))
      return payload;
    let bytes: Uint8Array;
    if (typeof payload === 'string') bytes = Buffer.from(payload, 'utf8');
    // A copy: a lookup's buffer goes back to its pool when the response closes, which a client
    // that hangs up can make happen while the signature is being computed.
    else if (payload instanceof Uint8Array) bytes = Buffer.from(payload);
    else return payload;
    const jws = await (await signer()).sign(bytes);
    reply.header('content-type', JOSE_MEDIA_TYPE);
    return jws;
  };
}

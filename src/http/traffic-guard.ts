// What keeps the service answering under more traffic than it can take: a per-client rate limit
// (429) and load shedding (503), both answered at once with the error body (docs/errors.md#error-body)
// and a Retry-After, instead of queueing without end.
//
// - The rate limit is @fastify/rate-limit, run in preParsing: after the route's token check (so a
//   client is its verified token's client, and nobody can spend another client's allowance with a
//   forged token naming it) and before the body is read. Callers without a token (the print
//   certificate) are counted by address. A refused token costs a cheap check and is not counted;
//   floods of them are held off by the bounds below.
// - Load shedding: a bound on requests in flight (checked first, before the token), and
//   @fastify/under-pressure on the event loop's mean delay when the operator sets a maximum (off by
//   default: the embedded store blocks the loop while it works, so there a long delay is no sign of
//   overload).
// Liveness (/health/live) is exempt from both: a busy server is not a dead one. So is the metrics'
// scrape (/metrics, docs/operations.md#metrics): a busy server is when it is watched.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import { ServiceOverloadedError, TooManyRequestsError } from '../errors/errors.js';

export interface TrafficLimits {
  /** At most `max` requests per client in each window of `windowSeconds`; undefined: no limit. */
  readonly rateLimit: { readonly max: number; readonly windowSeconds: number } | undefined;
  readonly overload: { readonly maxInFlight: number; readonly maxEventLoopDelayMs: number };
}

const EXEMPT = new Set(['/health/live', '/metrics']);
const isExempt = (request: FastifyRequest) => EXEMPT.has(request.routeOptions?.url ?? '');

/** The rate limit's key: the verified token's client, else the caller's address. */
export function clientKey(request: FastifyRequest): string {
  const token = request.accessToken;
  if (token) return `client ${token.issuer} ${token.clientId ?? token.consumer ?? '-'}`;
  return `address ${request.ip}`;
}

/** Registers the guards; call before the routes are added (the rate limit attaches to each route). */
export async function registerTrafficGuards(app: FastifyInstance, limits: TrafficLimits): Promise<void> {
  let inFlight = 0;
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (isExempt(request)) return;
    if (inFlight >= limits.overload.maxInFlight) {
      reply.header('retry-after', '1');
      throw new ServiceOverloadedError('the service is busy; try again shortly');
    }
    inFlight++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      inFlight--;
    };
    // 'close' also comes when the client goes away before its answer.
    reply.raw.once('finish', release);
    reply.raw.once('close', release);
  });

  if (limits.overload.maxEventLoopDelayMs > 0) {
    await app.register(underPressure, {
      maxEventLoopDelay: limits.overload.maxEventLoopDelayMs,
      retryAfter: 1,
      pressureHandler: (request: FastifyRequest, reply: FastifyReply) => {
        if (isExempt(request)) return undefined;
        reply.header('retry-after', '1');
        return Promise.reject(new ServiceOverloadedError('the service is busy; try again shortly'));
      },
    });
  }

  if (limits.rateLimit) {
    const { max, windowSeconds } = limits.rateLimit;
    await app.register(rateLimit, {
      global: true,
      hook: 'preParsing',
      max,
      timeWindow: windowSeconds * 1000,
      keyGenerator: clientKey,
      allowList: (request: FastifyRequest) => isExempt(request),
      // Retry-After always; the x-ratelimit-* counts only once the limit is hit.
      addHeadersOnExceeding: {
        'x-ratelimit-limit': false,
        'x-ratelimit-remaining': false,
        'x-ratelimit-reset': false,
      },
      errorResponseBuilder: (_request: FastifyRequest, context: { ttl: number }) =>
        new TooManyRequestsError(
          `too many requests from this client; retry after ${Math.max(1, Math.ceil(context.ttl / 1000))} s`,
        ),
    });
  }
}

// The client's typed errors. Each has a stable `code`. Messages never hold personal data or
// secrets: no identifier, token or assertion, and text the server sends is cleaned of anything shaped
// like one before it is put in a message (the body itself is kept as sent, on the error's `body`).

import type { ErrorBody, ErrorItem } from './person.types.js';

export type KrrErrorCode =
  'KRR_HTTP' | 'KRR_TIMEOUT' | 'KRR_NETWORK' | 'KRR_TOKEN' | 'KRR_SIGNATURE' | 'KRR_PROTOCOL' | 'KRR_CONFIG';

export abstract class KrrError extends Error {
  abstract readonly code: KrrErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

// A JWT or JWS (three base64url parts), runs of 11 digits (identifiers), e-mail addresses and
// long digit runs that may be phone numbers.
const JWT_SHAPED = /[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g;
const DIGIT_RUN = /\+?\d[\d ]{7,}\d/g;
const EMAIL = /[^\s@"']+@[^\s@"']+\.[^\s@"']+/g;

/** Text from a server or token service, cleaned for a message and cut to `max` characters. */
export function cleanText(text: string, max = 300): string {
  const cleaned = text
    .replace(JWT_SHAPED, '[token]')
    .replace(EMAIL, '[e-mail]')
    .replace(DIGIT_RUN, '[number]')
    .replace(/\s+/g, ' ')
    .trim();
  return cleaned.length > max ? `${cleaned.slice(0, max - 1)}…` : cleaned;
}

function describeItems(items: readonly ErrorItem[]): string {
  const shown = items.slice(0, 3).map((item) => {
    const detail = cleanText(String(item.detail ?? item.title ?? ''), 160);
    const at = item.source?.pointer ? `(${cleanText(String(item.source.pointer), 80)})` : '';
    return [detail, at].filter(Boolean).join(' ');
  });
  const more = items.length > 3 ? `; and ${items.length - 3} more` : '';
  return shown.filter(Boolean).join('; ') + more;
}

/** The server answered with an error status. `body` is the contract's error body when it sent one. */
export class KrrHttpError extends KrrError {
  readonly code = 'KRR_HTTP' as const;
  /** The problems of the error body; empty when the server sent none. */
  readonly errors: readonly ErrorItem[];
  constructor(
    readonly status: number,
    /** `POST /rest/v2/personer`: the method and path, never a query or a body. */
    readonly operation: string,
    readonly body: ErrorBody | undefined,
    /** From `Retry-After` (429, 503), in milliseconds. */
    readonly retryAfterMs?: number,
  ) {
    const errors = body?.errors ?? [];
    const said = describeItems(errors);
    super(`KRR answered HTTP ${status} to ${operation}${said ? `: ${said}` : ''}`);
    this.errors = errors;
  }
}

/** No answer within `timeoutMs` (each attempt has its own). */
export class KrrTimeoutError extends KrrError {
  readonly code = 'KRR_TIMEOUT' as const;
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super(`no answer to ${operation} within ${timeoutMs} ms`);
  }
}

/** The server could not be reached, or the connection broke. */
export class KrrNetworkError extends KrrError {
  readonly code = 'KRR_NETWORK' as const;
  constructor(
    readonly operation: string,
    cause: unknown,
  ) {
    super(`cannot reach KRR for ${operation}: ${networkReason(cause)}`, { cause });
  }
}

/** The token service refused the grant, or its answer holds no token. */
export class KrrTokenError extends KrrError {
  readonly code = 'KRR_TOKEN' as const;
  constructor(
    message: string,
    /** The token service's HTTP status, when it answered. */
    readonly status?: number,
    /** Its OAuth `error` (`invalid_grant`, ...), when it said one. */
    readonly error?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A signed answer that is not signed, does not verify, or is signed by a certificate not trusted. */
export class KrrSignatureError extends KrrError {
  readonly code = 'KRR_SIGNATURE' as const;
  constructor(
    message: string,
    readonly operation: string,
    options?: { cause?: unknown },
  ) {
    super(`the signed answer to ${operation} ${message}`, options);
  }
}

/** A 200 answer that is not what the contract says (not JSON, missing members). */
export class KrrProtocolError extends KrrError {
  readonly code = 'KRR_PROTOCOL' as const;
  constructor(
    message: string,
    readonly operation: string,
  ) {
    super(`the answer to ${operation} ${message}`);
  }
}

/** The client's options or a call's arguments cannot be used. */
export class KrrConfigError extends KrrError {
  readonly code = 'KRR_CONFIG' as const;
}

/** Why a fetch failed, without the URL's query or anything the caller sent. */
export function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cleanText(cause.message, 120);
  if (err instanceof Error) return cleanText(err.message, 120);
  return 'unknown error';
}

// The errors of `krr sync`: the source's refusals, its unavailability (worth retrying), answers
// that are not a change feed, and Maskinporten's refusals. Like every KrrError their messages never
// hold a token, an assertion, an identifier or contact data: text that comes from the other side is
// passed through `sanitizeRemoteText` first.

import { KrrError } from '../errors/errors.js';

/** An error after which the same request may succeed later (5xx, network, timeout). */
export interface MaybeRetryable {
  readonly retryable: boolean;
}

export function isRetryable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as Partial<MaybeRetryable>).retryable === true;
}

/**
 * The source answered 4xx (other than 408/429): the request is refused as it stands (a bad or
 * expired token, a missing scope, a wrong URL). Not retried.
 */
export class SourceRefusedError extends KrrError implements MaybeRetryable {
  readonly code = 'SOURCE_REFUSED';
  readonly retryable = false;
  /** The source's HTTP status. */
  readonly status: number;
  /** The source's error `detail` (docs/errors.md#error-body), when it gave one. */
  readonly detail: string | undefined;

  constructor(status: number, detail: string | undefined, hint?: string) {
    super(
      `the source refused the change feed request: HTTP ${status}${detail ? `: ${detail}` : ''}${hint ? ` (${hint})` : ''}`,
    );
    this.status = status;
    this.detail = detail;
  }
}

/** The source could not be reached, timed out, or answered 5xx / 408 / 429: worth retrying. */
export class SourceUnavailableError extends KrrError implements MaybeRetryable {
  readonly code = 'SOURCE_UNAVAILABLE';
  readonly status = 503;
  readonly retryable = true;
}

/** The source answered, but not with a change feed page (or with ids that cannot be followed). */
export class SourceAnswerError extends KrrError implements MaybeRetryable {
  readonly code = 'SOURCE_ANSWER';
  readonly status = 502;
  readonly retryable = false;
}

/** A person in a feed page is not a valid person for this register: nothing of that page was written. */
export class SyncDataError extends KrrError implements MaybeRetryable {
  readonly code = 'SYNC_DATA';
  readonly status = 422;
  readonly retryable = false;
}

/** The stored cursor moved under this process: another `krr sync` follows the same source into this store. */
export class SyncConflictError extends KrrError implements MaybeRetryable {
  readonly code = 'SYNC_CONFLICT';
  readonly status = 409;
  readonly retryable = false;
}

/** Getting a Maskinporten token failed: refused (not retryable) or Maskinporten unavailable (retryable). */
export class MaskinportenError extends KrrError implements MaybeRetryable {
  readonly code = 'MASKINPORTEN';
  readonly status = 502;
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

const JWT_LIKE = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;
const ELEVEN_DIGITS = /(?<![0-9])[0-9]{11}(?![0-9])/g;

/**
 * Makes text from the other side fit for a message: secrets given (and anything shaped like a JWT)
 * and 11-digit runs (identifiers) are blanked, control characters dropped, the length capped.
 */
export function sanitizeRemoteText(text: string, secrets: readonly string[] = [], max = 300): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join('[redacted]');
  out = out
    .replace(JWT_LIKE, '[redacted]')
    .replace(ELEVEN_DIGITS, '[identifier]')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .trim();
  return out.length > max ? `${out.slice(0, max)}…` : out;
}

/** A short reason for a failed fetch (connection refused, DNS, timeout), without the URL's secrets. */
export function networkReason(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return `no answer within ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`}`;
  }
  const cause = err instanceof Error ? (err as Error & { cause?: unknown }).cause : undefined;
  const code = cause && typeof cause === 'object' && 'code' in cause ? String(cause.code) : undefined;
  const message = cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err);
  return sanitizeRemoteText(code && !message.includes(code) ? `${code}: ${message}` : message);
}

// Typed errors with stable codes. HTTP maps them to the error body (http/error-handler,
// docs/errors.md#error-body); the CLI prints their message. Messages never contain identifiers,
// contact data or tokens.

export interface ErrorItem {
  readonly detail: string;
  /** JSON Pointer into the request body. */
  readonly pointer?: string;
}

export abstract class KrrError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  readonly items: readonly ErrorItem[];

  constructor(message: string, items?: readonly ErrorItem[]) {
    super(message);
    this.name = new.target.name;
    this.items = items ?? [{ detail: message }];
  }
}

/** The request body is not what the endpoint takes (not JSON, wrong shape or types). */
export class BadRequestError extends KrrError {
  readonly code = 'BAD_REQUEST';
  readonly status = 400;
}

/** Well-formed JSON whose values are invalid (identifiers, languages, addresses). */
export class InvalidValueError extends KrrError {
  readonly code = 'INVALID_VALUE';
  readonly status = 422;
}

/** No usable access token. The message never contains the token. */
export class InvalidTokenError extends KrrError {
  readonly code = 'INVALID_TOKEN';
  readonly status = 401;
}

export class InsufficientScopeError extends KrrError {
  readonly code = 'INSUFFICIENT_SCOPE';
  readonly status = 403;
  constructor(readonly requiredScopes: readonly string[]) {
    super(`the token has none of the scopes this endpoint needs: ${requiredScopes.join(' ')}`);
  }
}

/**
 * A valid token of the wrong kind for the endpoint (docs/tokens.md#issuer-kinds): a person's token on
 * a system's endpoint, or the other way round. 403 without a challenge: the token is fine, just not
 * here (docs/errors.md#www-authenticate).
 */
export class WrongTokenKindError extends KrrError {
  readonly code = 'WRONG_TOKEN_KIND';
  readonly status = 403;
}

export class NotFoundError extends KrrError {
  readonly code = 'NOT_FOUND';
  readonly status = 404;
}

export class MethodNotAllowedError extends KrrError {
  readonly code = 'METHOD_NOT_ALLOWED';
  readonly status = 405;
}

export class PayloadTooLargeError extends KrrError {
  readonly code = 'PAYLOAD_TOO_LARGE';
  readonly status = 413;
}

export class UnsupportedMediaTypeError extends KrrError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
  readonly status = 415;
}

/** The store cannot be reached; the request may succeed later. */
export class StoreUnavailableError extends KrrError {
  readonly code = 'STORE_UNAVAILABLE';
  readonly status = 503;
}

/**
 * The store did not answer in time: a statement ran past the statement timeout, or its connection
 * went silent (docs/operations.md#timeouts). A 503 like any other unreachable store.
 */
export class StoreTimeoutError extends StoreUnavailableError {}

/** Bad configuration or command-line use: reported at start, before anything is served. */
export class ConfigError extends KrrError {
  readonly code = 'CONFIG';
  readonly status = 500;
}

/** The embedded store's directory is held by another process. */
export class StoreLockedError extends KrrError {
  readonly code = 'STORE_LOCKED';
  readonly status = 503;
}

/** A bad line in an import: nothing was written. */
export class ImportError extends KrrError {
  readonly code = 'IMPORT';
  readonly status = 400;
}

/** The keys of a trusted token issuer cannot be fetched, and none are cached. */
export class IssuerUnavailableError extends KrrError {
  readonly code = 'ISSUER_UNAVAILABLE';
  readonly status = 503;
}

/** The request conflicts with what the register holds (a provider still in use). */
export class ConflictError extends KrrError {
  readonly code = 'CONFLICT';
  readonly status = 409;
}

/** The caller is known but may not do this (a provider acting for another). */
export class ForbiddenError extends KrrError {
  readonly code = 'FORBIDDEN';
  readonly status = 403;
}

/**
 * An OAuth 2.0 token endpoint error (RFC 6749 section 5.2), answered as
 * `{"error", "error_description"}` by the token service. The description never echoes the assertion.
 */
export class OAuthError extends KrrError {
  readonly code = 'OAUTH';
  constructor(
    readonly error:
      | 'invalid_request'
      | 'invalid_grant'
      | 'invalid_scope'
      | 'unauthorized_client'
      | 'unsupported_grant_type'
      | 'invalid_client'
      | 'server_error',
    description: string,
    readonly status: number = 400,
  ) {
    super(description);
  }
}

/** The client has sent more requests than the operator allows it in the window. */
export class TooManyRequestsError extends KrrError {
  readonly code = 'TOO_MANY_REQUESTS';
  readonly status = 429;
}

/** The service is too busy to take the request now; it answers at once instead of queueing. */
export class ServiceOverloadedError extends KrrError {
  readonly code = 'OVERLOADED';
  readonly status = 503;
}

/**
 * The server is stopping (docs/operations.md#stopping): `/health/ready` says so, so that a load
 * balancer sends the requests elsewhere while the ones it already sent are still served.
 */
export class ShuttingDownError extends KrrError {
  readonly code = 'SHUTTING_DOWN';
  readonly status = 503;
}

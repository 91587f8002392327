// One page of another register's change feed (docs/change-feed.md#answer):
// `POST <from>/rest/v2/krr/hentEndringer` with `{"fraEndringsId": n}` and a bearer token. The answer's shape
// is checked here; the persons in it are checked by the sync service. 4xx is a refusal (not retried; a
// refused Maskinporten token is renewed once), 5xx, network errors and timeouts are worth retrying.

import { ConfigError } from '../errors/errors.js';
import type { TokenProvider } from './maskinporten.client.js';
import {
  networkReason,
  sanitizeRemoteText,
  SourceAnswerError,
  SourceRefusedError,
  SourceUnavailableError,
} from './sync.errors.js';
import { AnswerTooLargeError, FEED_PAGE_MAX_BYTES, readBodyBounded } from './bounded-body.js';

export const FEED_PATH = '/rest/v2/krr/hentEndringer';
const DEFAULT_TIMEOUT_MS = 30_000;

export interface FeedPage {
  /** The persons in the wire shape, unchecked. */
  readonly list: readonly unknown[];
  readonly fraEndringsId: number;
  readonly tilEndringsId: number;
  readonly sisteEndringsId: number;
}

/** Where the sync service gets its pages (the HTTP client below, or a test's stand-in). */
export interface FeedSource {
  /** The source register's base URL, as the sync cursor is named after it. */
  readonly url: string;
  fetchPage(fraEndringsId: number): Promise<FeedPage>;
}

/** The base URL without trailing slashes: what `--from` means, whichever way it was written. */
export function normalizeSourceUrl(from: string): string {
  let url: URL;
  try {
    url = new URL(from);
  } catch {
    throw new ConfigError(`--from must be a URL such as https://krr.example.no (got an unparsable value)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError('--from must be an http:// or https:// URL');
  }
  if (url.username || url.password) {
    throw new ConfigError('--from must not carry a user name or password; use --token or Maskinporten');
  }
  if (url.search || url.hash) throw new ConfigError('--from must not carry a query or fragment');
  return from.replace(/\/+$/, '');
}

export interface FeedClientOptions {
  readonly from: string;
  readonly auth: TokenProvider;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
  /** The largest answer read (FEED_PAGE_MAX_BYTES). */
  readonly maxAnswerBytes?: number;
}

function isConnectionReset(err: unknown): boolean {
  const cause = err instanceof Error ? (err as Error & { cause?: { code?: unknown } }).cause : undefined;
  const code = cause && typeof cause === 'object' ? cause.code : undefined;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET';
}

function isSafeId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** The error body's first `detail` (docs/errors.md#error-body; or an OAuth-style description), sanitized. */
function errorDetail(text: string, token: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  let detail: unknown;
  if (Array.isArray(b.errors) && b.errors.length > 0) {
    const first = b.errors[0] as Record<string, unknown> | null;
    detail = first?.detail ?? first?.title;
  }
  detail ??= b.detail ?? b.error_description ?? b.message ?? b.error;
  return typeof detail === 'string' && detail.trim() ? sanitizeRemoteText(detail, [token]) : undefined;
}

export class FeedClient implements FeedSource {
  readonly url: string;
  private readonly endpoint: string;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;
  private readonly maxAnswerBytes: number;

  constructor(private readonly options: FeedClientOptions) {
    this.url = normalizeSourceUrl(options.from);
    this.endpoint = `${this.url}${FEED_PATH}`;
    this.fetchFn = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxAnswerBytes = options.maxAnswerBytes ?? FEED_PAGE_MAX_BYTES;
  }

  async fetchPage(fraEndringsId: number): Promise<FeedPage> {
    const { auth } = this.options;
    let renewed = false;
    let resent = false;
    for (;;) {
      const token = await auth.token();
      let res: Response;
      try {
        res = await this.fetchFn(this.endpoint, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            accept: 'application/json',
          },
          body: JSON.stringify({ fraEndringsId }),
          // A redirect would carry the token elsewhere: it is reported instead of followed.
          redirect: 'manual',
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (err) {
        // A kept-alive connection the source has just closed fails the request before it is
        // sent; reading a page is safe to repeat, so it is sent again once, on a new connection.
        if (!resent && isConnectionReset(err)) {
          resent = true;
          continue;
        }
        throw new SourceUnavailableError(
          `cannot reach the source ${this.url}: ${networkReason(err, this.timeoutMs)}`,
        );
      }
      let text: string;
      try {
        text = await readBodyBounded(res, this.maxAnswerBytes);
      } catch (err) {
        if (err instanceof AnswerTooLargeError) {
          throw new SourceAnswerError(
            `the source ${this.url} sent an answer larger than ${err.maxBytes} bytes`,
          );
        }
        throw new SourceUnavailableError(
          `the source ${this.url} broke off its answer: ${networkReason(err, this.timeoutMs)}`,
        );
      }
      const { status } = res;
      if (status === 401 && auth.renewable && !renewed) {
        // The token may have been revoked or expired early: one retry with a new one.
        auth.invalidate();
        renewed = true;
        continue;
      }
      if (status >= 300 && status < 400) {
        throw new SourceRefusedError(
          status,
          undefined,
          `the source redirects${res.headers.get('location') ? ' elsewhere' : ''}; give the final base URL as --from`,
        );
      }
      if (status === 408 || status === 429 || status >= 500) {
        throw new SourceUnavailableError(`the source ${this.url} answered HTTP ${status}`);
      }
      if (status >= 400) {
        const hint =
          status === 404
            ? `is ${this.url} a krr register? the feed is at ${FEED_PATH}`
            : status === 401
              ? 'the token was not accepted'
              : status === 403
                ? 'the token lacks a scope the feed needs, krr:global/hentendring.read and the data scopes'
                : undefined;
        throw new SourceRefusedError(status, errorDetail(text, token), hint);
      }
      if (status !== 200) throw new SourceAnswerError(`the source answered HTTP ${status}, not 200`);
      return this.parsePage(text);
    }
  }

  private parsePage(text: string): FeedPage {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new SourceAnswerError(`the source's answer is not JSON: is ${this.url} a krr register?`);
    }
    const b = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<
      string,
      unknown
    >;
    if (
      !Array.isArray(b.list) ||
      !isSafeId(b.fraEndringsId) ||
      !isSafeId(b.tilEndringsId) ||
      !isSafeId(b.sisteEndringsId)
    ) {
      throw new SourceAnswerError(
        'the source\'s answer is not a change feed page ({"list": [...], "fraEndringsId", "tilEndringsId", "sisteEndringsId"} with whole numbers)',
      );
    }
    return {
      list: b.list,
      fraEndringsId: b.fraEndringsId,
      tilEndringsId: b.tilEndringsId,
      sisteEndringsId: b.sisteEndringsId,
    };
  }
}

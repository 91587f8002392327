// Folkeregisteret's event list and person lookup, as Skatteetaten publishes them
// (docs/folkeregister.md#the-event-list): `GET <from>/folkeregisteret/offentlig-med-hjemmel/api/v1/hendelser/feed?seq=N`
// answers a JSON array of at most 1000 events from sequence number N on, and
// `GET .../personer/<identifier>?part=...` the person's document. Both with a Maskinporten bearer token
// (or one given). The answers' shape is checked by the service; here only that they are JSON of the
// right kind. Like the change feed client (feed.client.ts): 4xx is a refusal (a refused Maskinporten
// token renewed once), 5xx, 408, 429, network errors and timeouts are worth retrying.

import type { TokenProvider } from './maskinporten.client.js';
import { normalizeSourceUrl } from './feed.client.js';
import {
  networkReason,
  sanitizeRemoteText,
  SourceAnswerError,
  SourceRefusedError,
  SourceUnavailableError,
} from './sync.errors.js';
import { AnswerTooLargeError, FEED_PAGE_MAX_BYTES, readBodyBounded } from './bounded-body.js';

/** The rights package (rettighetspakke) krr reads with: public bodies with legal basis. */
export const FOLKEREGISTER_API_ROOT = '/folkeregisteret/offentlig-med-hjemmel/api/v1';
export const FOLKEREGISTER_FEED_PATH = `${FOLKEREGISTER_API_ROOT}/hendelser/feed`;
export const FOLKEREGISTER_PERSON_PATH = `${FOLKEREGISTER_API_ROOT}/personer`;
/** Maskinporten's scope for the rights package "offentlig med hjemmel" (docs/folkeregister.md#authentication). */
export const DEFAULT_FOLKEREGISTER_SCOPES: readonly string[] = ['folkeregister:deling/offentligmedhjemmel'];
/** The parts of the person's document the events need: its identifiers, and its death. */
export const PERSON_PARTS = ['identifikasjonsnummer', 'doedsfall'] as const;

const DEFAULT_TIMEOUT_MS = 30_000;

/** Folkeregisteret answered 4xx: a refusal as the change feed's (not retried), told as Folkeregisteret's. */
export class FolkeregisterRefusedError extends SourceRefusedError {
  constructor(status: number, detail: string | undefined, hint?: string) {
    super(status, detail, hint);
    this.message = `Folkeregisteret refused the request: HTTP ${status}${detail ? `: ${detail}` : ''}${hint ? ` (${hint})` : ''}`;
  }
}

/** Where the service gets events and person documents (the HTTP client below, or a test's stand-in). */
export interface FolkeregisterSource {
  /** The base URL, as given with --from (without trailing slashes). */
  readonly url: string;
  /** The events from sequence number `seq` on (inclusive), unchecked; an empty array when there are none. */
  fetchEvents(seq: number): Promise<readonly unknown[]>;
  /** The person's document (the parts in PERSON_PARTS), unchecked; undefined when Folkeregisteret has no such person. */
  fetchPerson(identifier: string): Promise<unknown>;
}

export interface FolkeregisterClientOptions {
  readonly from: string;
  readonly auth: TokenProvider;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

/** Folkeregisteret's error body `{"kode", "melding"}` (docs/folkeregister.md#errors), sanitized. */
function errorDetail(text: string, token: string): string | undefined {
  try {
    const body = JSON.parse(text) as Record<string, unknown> | null;
    if (typeof body !== 'object' || body === null) return undefined;
    const parts = [body.kode, body.melding].filter((v): v is string => typeof v === 'string' && v !== '');
    return parts.length ? sanitizeRemoteText(parts.join(': '), [token]) : undefined;
  } catch {
    return undefined;
  }
}

export class FolkeregisterClient implements FolkeregisterSource {
  readonly url: string;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;

  constructor(private readonly options: FolkeregisterClientOptions) {
    this.url = normalizeSourceUrl(options.from);
    this.fetchFn = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async fetchEvents(seq: number): Promise<readonly unknown[]> {
    const { status, text } = await this.get(`${FOLKEREGISTER_FEED_PATH}?seq=${seq}`, 'the event list');
    if (status !== 200)
      throw new SourceAnswerError(`Folkeregisteret's event list answered HTTP ${status}, not 200`);
    const body = this.json(text, 'event list');
    if (!Array.isArray(body)) {
      throw new SourceAnswerError("Folkeregisteret's event list is not a JSON array of events");
    }
    return body as unknown[];
  }

  async fetchPerson(identifier: string): Promise<unknown> {
    const parts = PERSON_PARTS.map((p) => `part=${p}`).join('&');
    const { status, text } = await this.get(
      `${FOLKEREGISTER_PERSON_PATH}/${encodeURIComponent(identifier)}?${parts}`,
      'a person lookup',
      true,
    );
    if (status === 404) return undefined;
    if (status !== 200)
      throw new SourceAnswerError(`Folkeregisteret's person lookup answered HTTP ${status}, not 200`);
    return this.json(text, 'person document');
  }

  private json(text: string, what: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      throw new SourceAnswerError(`Folkeregisteret's ${what} is not JSON: is ${this.url} Folkeregisteret?`);
    }
  }

  /** GETs `path` with the token: the status and body of a 2xx (or a 404 when `notFoundOk`), else an error. */
  private async get(
    path: string,
    what: string,
    notFoundOk = false,
  ): Promise<{ status: number; text: string }> {
    const { auth } = this.options;
    let renewed = false;
    for (;;) {
      const token = await auth.token();
      let res: Response;
      try {
        res = await this.fetchFn(`${this.url}${path}`, {
          headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
          // A redirect would carry the token elsewhere: it is reported instead of followed.
          redirect: 'manual',
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (err) {
        throw new SourceUnavailableError(
          `cannot reach Folkeregisteret at ${this.url}: ${networkReason(err, this.timeoutMs)}`,
        );
      }
      let text: string;
      try {
        text = await readBodyBounded(res, FEED_PAGE_MAX_BYTES);
      } catch (err) {
        if (err instanceof AnswerTooLargeError) {
          throw new SourceAnswerError(`Folkeregisteret sent an answer larger than ${err.maxBytes} bytes`);
        }
        throw new SourceUnavailableError(
          `Folkeregisteret broke off its answer: ${networkReason(err, this.timeoutMs)}`,
        );
      }
      const { status } = res;
      if (status === 401 && auth.renewable && !renewed) {
        auth.invalidate();
        renewed = true;
        continue;
      }
      if (status === 404 && notFoundOk) return { status, text };
      if (status >= 300 && status < 400) {
        throw new FolkeregisterRefusedError(
          status,
          undefined,
          'Folkeregisteret redirects; give the final base URL as --from',
        );
      }
      if (status === 408 || status === 429 || status >= 500) {
        throw new SourceUnavailableError(`Folkeregisteret answered ${what} with HTTP ${status}`);
      }
      if (status >= 400) {
        const hint =
          status === 404
            ? `is ${this.url} Folkeregisteret? the event list is at ${FOLKEREGISTER_FEED_PATH}`
            : status === 401
              ? 'the token was not accepted'
              : status === 403
                ? 'the organisation lacks access to the rights package offentlig-med-hjemmel'
                : undefined;
        throw new FolkeregisterRefusedError(status, errorDetail(text, token), hint);
      }
      return { status, text };
    }
  }
}

// One HTTP exchange with a timeout, and retries with back-off: only for what may pass by itself (a
// 5xx, a 429, a connection that failed or broke, no answer in time), never for another 4xx. A 429
// or 503 with `Retry-After` waits as long as it says. Redirects are not followed: a redirect would
// carry the bearer token or the signed assertion to another server.

import { KrrNetworkError, KrrProtocolError, KrrTimeoutError } from './krr.errors.js';

export interface TransportOptions {
  readonly fetch: typeof fetch;
  /** Each attempt's limit, the answer's body included. */
  readonly timeoutMs: number;
  /** Attempts after the first. */
  readonly retries: number;
  /** The first back-off; it doubles with each retry (with jitter), up to `maxBackoffMs`. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** A `Retry-After` longer than this is not waited for: the answer is given up on at once. */
  readonly maxRetryAfterMs?: number;
  /** An answer larger than this is not read to its end (default MAX_ANSWER_BYTES). */
  readonly maxAnswerBytes?: number;
}

/** An answer, read whole. */
export interface Exchange {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

const DEFAULT_BACKOFF_MS = 200;
const DEFAULT_MAX_BACKOFF_MS = 5_000;
const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

/** 5xx and 429: the answers worth asking again. */
export const isRetryableStatus = (status: number): boolean => status >= 500 || status === 429;

/** `Retry-After` in milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Waits `ms`, or rejects with the signal's reason once it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `promise`, or the signal's reason once it aborts first (the promise itself goes on). */
export function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: Error) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * A bound on an answer's size, far above any KRR answer (a full feed page or a batch of 1000 persons
 * with certificates is a few MB): a server that sends without end does not fill the memory.
 */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

class AnswerTooLarge extends Error {}

/** The body as text; AnswerTooLarge (the exchange aborted) once it passes `maxBytes`. */
async function readBounded(res: Response, maxBytes: number, controller: AbortController): Promise<string> {
  if (!res.body) return '';
  if (Number(res.headers.get('content-length')) > maxBytes) {
    controller.abort();
    throw new AnswerTooLarge();
  }
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  // Node's web streams are async iterables (its fetch's body among them).
  for await (const value of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      controller.abort();
      throw new AnswerTooLarge();
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

export class Transport {
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly maxAnswerBytes: number;

  constructor(private readonly options: TransportOptions) {
    this.backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.maxBackoffMs = options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
    this.maxAnswerBytes = options.maxAnswerBytes ?? MAX_ANSWER_BYTES;
  }

  /**
   * One exchange, its body read whole within the timeout. Throws KrrTimeoutError, KrrNetworkError,
   * or the signal's reason when the caller aborts.
   */
  async exchange(url: string, init: RequestInit, operation: string, signal?: AbortSignal): Promise<Exchange> {
    if (signal?.aborted) throw signal.reason;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.options.timeoutMs);
    const onAbort = () => controller.abort(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await this.options.fetch(url, { ...init, redirect: 'manual', signal: controller.signal });
      const text = await readBounded(res, this.maxAnswerBytes, controller);
      return { status: res.status, headers: res.headers, text };
    } catch (err) {
      if (err instanceof AnswerTooLarge)
        throw new KrrProtocolError(`is larger than ${this.maxAnswerBytes} bytes`, operation);
      if (signal?.aborted) throw signal.reason;
      if (timedOut) throw new KrrTimeoutError(operation, this.options.timeoutMs);
      throw new KrrNetworkError(operation, err);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Runs `attempt` until it gives an answer not worth asking again, or the retries are spent: the
   * last answer is returned (the caller decides what an error status means); a timeout or network
   * error of the last attempt is thrown.
   */
  async withRetries(attempt: () => Promise<Exchange>, signal?: AbortSignal): Promise<Exchange> {
    for (let n = 0; ; n++) {
      let answer: Exchange;
      try {
        answer = await attempt();
      } catch (err) {
        const transient = err instanceof KrrTimeoutError || err instanceof KrrNetworkError;
        if (!transient || n >= this.options.retries) throw err;
        await sleep(this.backoff(n), signal);
        continue;
      }
      if (!isRetryableStatus(answer.status) || n >= this.options.retries) return answer;
      const after = retryAfterMs(answer.headers);
      if (after !== undefined && after > this.maxRetryAfterMs) return answer;
      await sleep(after ?? this.backoff(n), signal);
    }
  }

  /** Exponential with jitter: between half and all of backoffMs * 2^n, at most maxBackoffMs. */
  private backoff(n: number): number {
    const full = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** n);
    return Math.round(full / 2 + (Math.random() * full) / 2);
  }
}

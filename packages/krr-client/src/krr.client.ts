// The client: lookups of any number of identifiers (batches of at most 1000, a few at a time, one
// merged answer in ascending identifier order), the logged-in person, the change feed followed until
// it has caught up, the print certificate, and signed answers verified against certificates the
// caller trusts. The paths and shapes are Digdir's KRR's (the repository's docs/lookup.md,
// docs/change-feed.md, docs/person-endpoint.md, docs/signed-answers.md, docs/mailbox.md), which krr
// serves unchanged.

import type { CertificateInput } from './certificate.parse.js';
import { KrrConfigError, KrrHttpError, KrrProtocolError, KrrSignatureError } from './krr.errors.js';
import { retryAfterMs, Transport } from './http.transport.js';
import type { Exchange } from './http.transport.js';
import { functionTokenSource, isMaskinportenAuth, MaskinportenTokenSource } from './maskinporten.auth.js';
import type { MaskinportenAuth, TokenFunction, TokenSource } from './maskinporten.auth.js';
import type {
  ChangePage,
  ErrorBody,
  ErrorItem,
  Informasjonsbehov,
  Person,
  PrintCertificate,
} from './person.types.js';
import { AnswerVerifier } from './signed-answer.verify.js';

/** At most this many identifiers in one request (Digdir's limit). */
export const BATCH_SIZE = 1000;
const DEFAULTS = { timeoutMs: 30_000, retries: 3, concurrency: 4 } as const;
const JOSE = 'application/jose';

/** A token function (for an ID-porten token, or tokens got elsewhere) or a Maskinporten client. */
export type KrrAuth = TokenFunction | MaskinportenAuth;

/** A signed answer as received, verified: keep it as proof of what the register said. */
export interface SignedAnswer {
  /** `POST /rest/v2/personer`, `GET /rest/v1/person`. */
  readonly operation: string;
  /** The compact JWS exactly as received. */
  readonly jws: string;
  /** The signing certificate, base64 DER. */
  readonly certificate: string;
}

export interface SignedAnswersOptions {
  /**
   * The certificates trusted to sign answers: the register's signing certificate itself, or a CA
   * that issued it (PEM text with one or more certificates, base64 DER, DER bytes, X509Certificate).
   */
  readonly trust: CertificateInput | readonly CertificateInput[];
  /**
   * Called with every answer that verified (lookup batches and the person) as it arrives, e.g. to
   * archive it; the batches of one lookup may arrive in any order.
   */
  readonly onVerified?: (answer: SignedAnswer) => void;
}

export interface KrrClientOptions {
  /** The register's base URL: `https://krr.digdir.no`, or krr's `http://127.0.0.1:8080`. */
  readonly baseUrl: string;
  readonly auth: KrrAuth;
  /** Each attempt's limit in milliseconds, the answer's body included (default 30 000). */
  readonly timeoutMs?: number;
  /** Attempts after the first, for 5xx, 429 and network errors and timeouts (default 3). */
  readonly retries?: number;
  /** Lookup batches in flight at once (default 4). */
  readonly concurrency?: number;
  /** Ask for signed answers (`Accept: application/jose`) and verify each one. */
  readonly signedAnswers?: SignedAnswersOptions;
  /** The fetch to use (a proxy's, say); the global one by default. */
  readonly fetch?: typeof fetch;
}

export interface LookupOptions {
  /** Identifiers without a record come back as `IKKE_REGISTRERT` (default false: left out). */
  readonly includeUnregistered?: boolean;
  /** Only these groups (krr's own member; Digdir's REST service does not read it). */
  readonly informasjonsbehov?: readonly Informasjonsbehov[];
  readonly signal?: AbortSignal;
}

export interface LookupResult {
  /** One per distinct identifier answered, ascending by `personidentifikator`. */
  readonly personer: readonly Person[];
  /** With `signedAnswers`: every batch's signed answer, in identifier order; else empty. */
  readonly signedAnswers: readonly SignedAnswer[];
}

export interface PersonOptions {
  /** The person's ID-porten access token; the auth function's token when not given. */
  readonly token?: string;
  readonly signal?: AbortSignal;
}

export interface ChangesOptions {
  /** Start after this change id: 0 for the whole register, or the last `tilEndringsId` kept. */
  readonly from?: number;
  readonly signal?: AbortSignal;
}

export interface KrrClient {
  /** Looks up any number of identifiers (`POST /rest/v2/personer`). */
  lookup(identifiers: Iterable<string>, options?: LookupOptions): Promise<LookupResult>;
  /** The logged-in person (`GET /rest/v1/person`), with an ID-porten token. */
  person(options?: PersonOptions): Promise<Person>;
  /**
   * The change feed's pages (`POST /rest/v2/krr/hentEndringer`) from `from`, until it has caught up
   * (`tilEndringsId == sisteEndringsId`); keep each page's `tilEndringsId` to go on from there.
   */
  changes(options?: ChangesOptions): AsyncGenerator<ChangePage, void, undefined>;
  /** The print provider's certificate (`GET /rest/v2/printSertifikat`), no token needed. */
  printCertificate(options?: { readonly signal?: AbortSignal }): Promise<PrintCertificate>;
}

interface Request {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: unknown;
  /** undefined: no token; a string: this one; true: the client's auth. */
  readonly token: string | true | undefined;
  readonly signed: boolean;
  readonly signal: AbortSignal | undefined;
}

interface Answer {
  readonly json: unknown;
  readonly signed?: SignedAnswer;
}

function wholeNumber(
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
  what: string,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new KrrConfigError(`${what}: a whole number from ${min} to ${max}`);
  }
  return value;
}

function checkBaseUrl(value: unknown): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new KrrConfigError('baseUrl: not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new KrrConfigError('baseUrl: an http(s) URL');
  if (url.search || url.hash) throw new KrrConfigError('baseUrl: no query or fragment');
  return url.href.replace(/\/+$/, '');
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isPerson = (v: unknown): v is Person =>
  isObject(v) && typeof v.personidentifikator === 'string' && typeof v.status === 'string';
const isWholeNumber = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function errorBodyOf(text: string): ErrorBody | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (isObject(parsed) && Array.isArray(parsed.errors))
      return { errors: parsed.errors.filter(isObject) as unknown as ErrorItem[] };
  } catch {
    // not the error body
  }
  return undefined;
}

/** The error body with each `/personidentifikatorer/<i>` pointing into the caller's list instead of the batch. */
function pointingIntoCallersList(
  error: KrrHttpError,
  batch: readonly string[],
  firstIndex: ReadonlyMap<string, number>,
): KrrHttpError {
  if (!error.body) return error;
  const errors = error.body.errors.map((item) => {
    const m = /^\/personidentifikatorer\/(\d+)(.*)$/.exec(item.source?.pointer ?? '');
    const id = m ? batch[Number(m[1])] : undefined;
    const at = id === undefined ? undefined : firstIndex.get(id);
    return at === undefined
      ? item
      : { ...item, source: { ...item.source, pointer: `/personidentifikatorer/${at}${m![2]}` } };
  });
  return new KrrHttpError(error.status, error.operation, { errors }, error.retryAfterMs);
}

class Client implements KrrClient {
  private readonly baseUrl: string;
  private readonly transport: Transport;
  private readonly tokens: TokenSource;
  private readonly maskinporten: boolean;
  private readonly concurrency: number;
  private readonly verifier: AnswerVerifier | undefined;
  private readonly onVerified: ((answer: SignedAnswer) => void) | undefined;

  constructor(options: KrrClientOptions) {
    if (!isObject(options)) throw new KrrConfigError('createKrrClient needs its options');
    this.baseUrl = checkBaseUrl(options.baseUrl);
    this.transport = new Transport({
      fetch: options.fetch ?? globalThis.fetch,
      timeoutMs: wholeNumber(options.timeoutMs, DEFAULTS.timeoutMs, 1, 600_000, 'timeoutMs'),
      retries: wholeNumber(options.retries, DEFAULTS.retries, 0, 10, 'retries'),
    });
    this.concurrency = wholeNumber(options.concurrency, DEFAULTS.concurrency, 1, 32, 'concurrency');
    if (typeof options.auth === 'function') {
      this.tokens = functionTokenSource(options.auth);
      this.maskinporten = false;
    } else if (isMaskinportenAuth(options.auth)) {
      this.tokens = new MaskinportenTokenSource(options.auth, this.transport);
      this.maskinporten = true;
    } else {
      throw new KrrConfigError(
        'auth: a function that gives a token, or a Maskinporten client { issuer, clientId, scopes, key }',
      );
    }
    if (options.signedAnswers !== undefined) {
      this.verifier = new AnswerVerifier(options.signedAnswers.trust);
      this.onVerified = options.signedAnswers.onVerified;
    }
  }

  async lookup(identifiers: Iterable<string>, options: LookupOptions = {}): Promise<LookupResult> {
    if (typeof identifiers === 'string' || identifiers === null || typeof identifiers !== 'object') {
      throw new KrrConfigError('lookup: a list of identifiers (an array or another iterable of strings)');
    }
    if (options.signal?.aborted) throw options.signal.reason;
    const list = [...identifiers];
    const firstIndex = new Map<string, number>();
    list.forEach((id, i) => {
      if (typeof id !== 'string') throw new KrrConfigError(`lookup: identifier ${i} is not a string`);
      if (!firstIndex.has(id)) firstIndex.set(id, i);
    });
    if (options.includeUnregistered !== undefined && typeof options.includeUnregistered !== 'boolean') {
      throw new KrrConfigError('lookup: includeUnregistered is true or false');
    }
    if (options.informasjonsbehov !== undefined && !Array.isArray(options.informasjonsbehov)) {
      throw new KrrConfigError('lookup: informasjonsbehov is a list of codes');
    }
    const distinct = [...firstIndex.keys()].sort();
    const batches: string[][] = [];
    for (let i = 0; i < distinct.length; i += BATCH_SIZE) batches.push(distinct.slice(i, i + BATCH_SIZE));

    // The first batch to fail stops the others: one answer or one error.
    const stop = new AbortController();
    const onAbort = () => stop.abort(options.signal!.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const answers: Answer[] = new Array<Answer>(batches.length);
    let next = 0;
    // A holder, not a variable: it is set inside the workers.
    const state: { failure?: { error: unknown } } = {};
    const worker = async () => {
      while (!state.failure && next < batches.length) {
        const n = next++;
        const batch = batches[n]!;
        try {
          answers[n] = await this.request({
            method: 'POST',
            path: '/rest/v2/personer',
            body: {
              personidentifikatorer: batch,
              inkluderIkkeRegistrerte: options.includeUnregistered ?? false,
              ...(options.informasjonsbehov ? { informasjonsbehov: options.informasjonsbehov } : {}),
            },
            token: true,
            signed: this.verifier !== undefined,
            signal: stop.signal,
          });
        } catch (err) {
          if (!state.failure) {
            const error = err instanceof KrrHttpError ? pointingIntoCallersList(err, batch, firstIndex) : err;
            state.failure = { error };
            stop.abort(error);
          }
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(this.concurrency, batches.length) }, worker));
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    if (state.failure) throw state.failure.error;

    const personer: Person[] = [];
    for (const answer of answers) {
      const json = answer.json;
      if (!isObject(json) || !Array.isArray(json.personer) || !json.personer.every(isPerson)) {
        throw new KrrProtocolError('is not {"personer": [Person...]}', 'POST /rest/v2/personer');
      }
      personer.push(...json.personer);
    }
    personer.sort((a, b) =>
      a.personidentifikator < b.personidentifikator
        ? -1
        : a.personidentifikator > b.personidentifikator
          ? 1
          : 0,
    );
    return {
      personer,
      signedAnswers: answers.flatMap((a) => (a.signed ? [a.signed] : [])),
    };
  }

  async person(options: PersonOptions = {}): Promise<Person> {
    if (options.token === undefined && this.maskinporten) {
      throw new KrrConfigError(
        "person: needs the person's ID-porten token (give options.token, or auth as a function), not a Maskinporten token",
      );
    }
    const answer = await this.request({
      method: 'GET',
      path: '/rest/v1/person',
      token: options.token ?? true,
      signed: this.verifier !== undefined,
      signal: options.signal,
    });
    if (!isPerson(answer.json)) throw new KrrProtocolError('is not a Person', 'GET /rest/v1/person');
    return answer.json;
  }

  async *changes(options: ChangesOptions = {}): AsyncGenerator<ChangePage, void, undefined> {
    let from = options.from ?? 0;
    if (!isWholeNumber(from)) throw new KrrConfigError('changes: from is a whole number from 0');
    const operation = 'POST /rest/v2/krr/hentEndringer';
    for (;;) {
      const { json } = await this.request({
        method: 'POST',
        path: '/rest/v2/krr/hentEndringer',
        body: { fraEndringsId: from },
        token: true,
        signed: false, // the feed is never signed (docs/signed-answers.md#endpoints)
        signal: options.signal,
      });
      if (
        !isObject(json) ||
        !Array.isArray(json.list) ||
        !json.list.every(isPerson) ||
        !isWholeNumber(json.tilEndringsId) ||
        !isWholeNumber(json.sisteEndringsId)
      ) {
        throw new KrrProtocolError(
          'is not a feed page {list, fraEndringsId, tilEndringsId, sisteEndringsId}',
          operation,
        );
      }
      const page = json as unknown as ChangePage;
      yield page;
      if (page.list.length === 0 || page.tilEndringsId >= page.sisteEndringsId) return;
      // A page that does not move forward would be asked for again and again.
      if (page.tilEndringsId <= from)
        throw new KrrProtocolError(`ends at or before the change id asked from`, operation);
      from = page.tilEndringsId;
    }
  }

  async printCertificate(options: { readonly signal?: AbortSignal } = {}): Promise<PrintCertificate> {
    const { json } = await this.request({
      method: 'GET',
      path: '/rest/v2/printSertifikat',
      token: undefined,
      signed: false,
      signal: options.signal,
    });
    if (
      !isObject(json) ||
      typeof json.postkasseleverandoerAdresse !== 'string' ||
      typeof json.x509Sertifikat !== 'string'
    ) {
      throw new KrrProtocolError(
        'is not {postkasseleverandoerAdresse, x509Sertifikat}',
        'GET /rest/v2/printSertifikat',
      );
    }
    return {
      postkasseleverandoerAdresse: json.postkasseleverandoerAdresse,
      x509Sertifikat: json.x509Sertifikat,
    };
  }

  /** One request with retries and, on a 401 for the client's own token, one more with a renewed token. */
  private async request(req: Request): Promise<Answer> {
    const operation = `${req.method} ${req.path}`;
    const url = `${this.baseUrl}${req.path}`;
    const headers: Record<string, string> = { accept: req.signed ? JOSE : 'application/json' };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);

    // The token the last attempt sent, and the one to send next after a 401 (set inside attempts).
    const sending: { sent?: string; renewed?: string } = {};
    for (let renewals = 0; ; renewals++) {
      const answer: Exchange = await this.transport.withRetries(async () => {
        const token =
          req.token === true ? (sending.renewed ?? (await this.tokens.token(req.signal))) : req.token;
        sending.sent = token;
        sending.renewed = undefined;
        const withToken = token === undefined ? headers : { ...headers, authorization: `Bearer ${token}` };
        return this.transport.exchange(
          url,
          { method: req.method, headers: withToken, body },
          operation,
          req.signal,
        );
      }, req.signal);
      if (answer.status === 401 && req.token === true && sending.sent !== undefined && renewals === 0) {
        sending.renewed = await this.tokens.renew(sending.sent, req.signal);
        if (sending.renewed !== undefined) continue;
      }
      if (answer.status !== 200) {
        throw new KrrHttpError(
          answer.status,
          operation,
          errorBodyOf(answer.text),
          retryAfterMs(answer.headers),
        );
      }
      return req.signed ? this.verified(answer, operation) : { json: this.json(answer.text, operation) };
    }
  }

  private json(text: string, operation: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      throw new KrrProtocolError('is not JSON', operation);
    }
  }

  private async verified(answer: Exchange, operation: string): Promise<Answer> {
    const type = (answer.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== JOSE) {
      throw new KrrSignatureError(`is not signed (Content-Type ${type || 'none'}, not ${JOSE})`, operation);
    }
    const jws = answer.text.trim();
    const { payload, signer } = await this.verifier!.verify(jws, operation);
    const json = this.json(new TextDecoder().decode(payload), operation);
    const signed: SignedAnswer = { operation, jws, certificate: signer.raw.toString('base64') };
    this.onVerified?.(signed);
    return { json, signed };
  }
}

/** A client of Digdir's KRR, or of krr. Throws KrrConfigError at once when an option cannot be used. */
export function createKrrClient(options: KrrClientOptions): KrrClient {
  return new Client(options);
}

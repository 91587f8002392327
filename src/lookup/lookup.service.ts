import type { AccessToken } from '../access/access-token.js';
import type { AuditRepository } from '../audit/audit.repository.js';
import { InvalidValueError } from '../errors/errors.js';
import type { ErrorItem } from '../errors/errors.js';
import { checkPersonIdentifier, IDENTIFIER_PROBLEM_TEXT } from '../identifier/identifier.js';
import type { IdentifierRules } from '../identifier/identifier.js';
import type { PersonRepository } from '../register/person.repository.js';
import type { Clock } from '../time/clock.js';
import { AnswerBufferPool, unpooled } from './answer-buffers.js';
import type { AnswerBuffer } from './answer-buffers.js';
import { AnswerBuilder } from '../answer/answer.assemble.js';
import { StoreLookupSource } from './lookup.cache.js';
import type { LookupSource } from './lookup.cache.js';
import type { View } from '../access/access.view.js';
import { freshnessBoundary } from '../freshness/freshness.js';

export interface LookupQuery {
  /** The path asked, for the audit trail. */
  readonly endpoint: string;
  readonly identifiers: readonly string[];
  readonly includeUnregistered: boolean;
  readonly view: View;
}

export interface LookupDeps {
  readonly persons: PersonRepository;
  /** Where records come from: the store (default) or a cache in front of it. */
  readonly source?: LookupSource;
  readonly audit: Pick<AuditRepository, 'record'>;
  readonly clock: Clock;
  readonly identifierRules: IdentifierRules;
}

/**
 * Valid identifiers (11 digits) in ascending order, each once. Their order as strings is their
 * order as numbers, and numbers sort natively in a Float64Array: each identifier's number, times
 * 1024, plus its position (exact below 2^53) sorts the positions along, without a comparator
 * function; several times faster than sorting the strings for a 1000-identifier lookup.
 */
export function sortedUnique(identifiers: readonly string[]): string[] {
  const n = identifiers.length;
  if (n > 1024) return [...new Set(identifiers)].sort();
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = Number(identifiers[i]) * 1024 + i;
  keys.sort();
  const out: string[] = [];
  let last = -1;
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    const value = Math.floor(key / 1024);
    if (value !== last) {
      out.push(identifiers[key - value * 1024]!);
      last = value;
    }
  }
  return out;
}

/** What the lookups have answered since the service was made (docs/operations.md#metrics). */
export interface LookupStats {
  /** Lookups answered (200). */
  readonly lookups: number;
  /** Persons in those answers (each identifier once; unregistered ones when the answer lists them). */
  readonly personsAnswered: number;
}

export class LookupService {
  private readonly source: LookupSource;
  private readonly buffers = new AnswerBufferPool();
  private lookups = 0;
  private personsAnswered = 0;

  constructor(private readonly deps: LookupDeps) {
    this.source = deps.source ?? new StoreLookupSource(deps.persons);
  }

  stats(): LookupStats {
    return { lookups: this.lookups, personsAnswered: this.personsAnswered };
  }

  /** The answer as text (see lookupBytes). */
  async lookup(query: LookupQuery, caller: AccessToken): Promise<string> {
    return (await this.lookupBytes(query, caller)).toString('utf8');
  }

  /**
   * Answers a bulk lookup as the JSON bytes `{"personer":[...]}`, persons in ascending identifier
   * order, each identifier once, assembled from the persons' pre-rendered records. The lookup is
   * in the audit trail before the answer is returned.
   */
  async lookupBytes(query: LookupQuery, caller: AccessToken): Promise<Buffer> {
    return (await this.answer(query, caller, unpooled)).bytes;
  }

  /**
   * As lookupBytes, in a buffer that is used again for another answer once `release()` is called:
   * call it when the response that carries the bytes is over, and not before.
   */
  async lookupAnswer(query: LookupQuery, caller: AccessToken): Promise<AnswerBuffer> {
    return this.answer(query, caller, (size) => this.buffers.acquire(size));
  }

  private async answer(
    query: LookupQuery,
    caller: AccessToken,
    allocate: (size: number) => AnswerBuffer,
  ): Promise<AnswerBuffer> {
    const problems: ErrorItem[] = [];
    query.identifiers.forEach((id, i) => {
      const check = checkPersonIdentifier(id, this.deps.identifierRules);
      if (!check.valid)
        problems.push({
          pointer: `/personidentifikatorer/${i}`,
          detail: IDENTIFIER_PROBLEM_TEXT[check.problem],
        });
    });
    if (problems.length > 0) {
      await this.audit(query, caller, [...new Set(query.identifiers)].sort(), 422);
      throw new InvalidValueError('invalid personidentifikator', problems);
    }

    const unique = sortedUnique(query.identifiers);
    // The audit insert runs while the persons are read: one round trip less per lookup, and the
    // answer still waits for its record. Should the read fail, a second entry says so.
    const recorded = this.audit(query, caller, unique, 200);
    recorded.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"
    let records: Awaited<ReturnType<LookupSource['records']>>;
    try {
      records = await this.source.records(unique);
    } catch (err) {
      await Promise.allSettled([recorded, this.audit(query, caller, unique, 500)]);
      throw err;
    }
    const now = this.deps.clock.now();
    const answer = new AnswerBuilder(query.view, now, freshnessBoundary(now));
    let answered = 0;
    for (let i = 0; i < unique.length; i++) {
      const record = records[i];
      if (record !== undefined) {
        answer.add(record);
        answered++;
      } else if (query.includeUnregistered) {
        answer.unregistered(unique[i]!);
        answered++;
      }
    }
    const target = allocate(answer.byteLength);
    answer.writeTo(target.bytes);
    await recorded; // should it fail, a pooled buffer is left to the garbage collector
    this.lookups++;
    this.personsAnswered += answered;
    return target;
  }

  private audit(query: LookupQuery, caller: AccessToken, identifiers: readonly string[], status: number) {
    return this.deps.audit.record({
      at: new Date(),
      clientId: caller.clientId,
      consumer: caller.consumer,
      supplier: caller.supplier,
      endpoint: query.endpoint,
      identifiers,
      status,
    });
  }
}

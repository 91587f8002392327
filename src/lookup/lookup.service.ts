import type { AccessToken } from '../auth/access-token.js';
import type { AuditRepository } from '../audit/audit.repository.js';
import { InvalidValueError } from '../errors/errors.js';
import type { ErrorItem } from '../errors/errors.js';
import { checkPersonIdentifier, IDENTIFIER_PROBLEM_TEXT } from '../identifier/identifier.js';
import type { IdentifierRules } from '../identifier/identifier.js';
import type { PersonRepository } from '../person/person.repository.js';
import type { Clock } from '../time/clock.js';
import { eighteenMonthBoundary } from '../time/oslo-time.js';
import { renderPersonAnswer, renderUnregisteredAnswer } from './lookup.render.js';
import type { View } from './lookup.view.js';

export interface LookupQuery {
  /** The path asked, for the audit trail. */
  readonly endpoint: string;
  readonly identifiers: readonly string[];
  readonly includeUnregistered: boolean;
  readonly view: View;
}

export interface LookupDeps {
  readonly persons: PersonRepository;
  readonly audit: AuditRepository;
  readonly clock: Clock;
  readonly identifierRules: IdentifierRules;
}

export class LookupService {
  constructor(private readonly deps: LookupDeps) {}

  /**
   * Answers a bulk lookup as the JSON text `{"personer":[...]}`, persons in ascending identifier
   * order, each identifier once. The lookup is in the audit trail before the answer exists.
   */
  async lookup(query: LookupQuery, caller: AccessToken): Promise<string> {
    const problems: ErrorItem[] = [];
    query.identifiers.forEach((id, i) => {
      const check = checkPersonIdentifier(id, this.deps.identifierRules);
      if (!check.valid)
        problems.push({
          pointer: `/personidentifikatorer/${i}`,
          detail: IDENTIFIER_PROBLEM_TEXT[check.problem],
        });
    });
    const unique = [...new Set(query.identifiers)].sort();
    if (problems.length > 0) {
      await this.audit(query, caller, unique, 422);
      throw new InvalidValueError('invalid personidentifikator', problems);
    }

    const found = await this.deps.persons.findMany(unique);
    const boundary = eighteenMonthBoundary(this.deps.clock.now());
    const parts: string[] = [];
    let next = 0;
    for (const id of unique) {
      const person = found[next];
      if (person !== undefined && person.personidentifikator === id) {
        parts.push(renderPersonAnswer(person, query.view, boundary));
        next++;
      } else if (query.includeUnregistered) {
        parts.push(renderUnregisteredAnswer(id, query.view));
      }
    }
    await this.audit(query, caller, unique, 200);
    return `{"personer":[${parts.join(',')}]}`;
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

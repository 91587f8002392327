// The logged-in person: their own record, read (docs/person-endpoint.md#get) and their language
// changed (docs/person-endpoint.md#patch).
// The person is the access token's `pid`; their changes go through PersonWriter, so each is a
// register change in the feed.

import type { AccessToken } from '../access/access-token.js';
import type { AuditRepository } from '../audit/audit.repository.js';
import { ForbiddenError, InvalidValueError, NotFoundError } from '../errors/errors.js';
import { checkPersonIdentifier } from '../identifier/identifier.js';
import type { IdentifierRules } from '../identifier/identifier.js';
import { renderPersonAnswer, renderUnregisteredAnswer } from '../answer/answer.compose.js';
import type { View } from '../access/access.view.js';
import { LANGUAGES } from '../person/person.js';
import type { Language } from '../person/person.js';
import type { PersonRepository } from '../register/person.repository.js';
import type { PersonWriter } from '../register/person.writer.js';
import type { Clock } from '../time/clock.js';
import { freshnessBoundary } from '../freshness/freshness.js';

export const SELF_PATH = '/rest/v1/person';

export interface SelfDeps {
  readonly persons: PersonRepository;
  /**
   * Where GET reads the person (docs/operations.md#replicas): a read replica may answer it; the
   * answer to a PATCH is read from `persons`, which has the change just made. Default `persons`.
   */
  readonly reads?: PersonRepository;
  readonly writer: PersonWriter;
  readonly audit: AuditRepository;
  readonly clock: Clock;
  readonly identifierRules: IdentifierRules;
}

/** What a PATCH may change: the language, or its removal (null). */
export interface SelfChange {
  readonly spraak: Language | null;
}

/**
 * Reads a PATCH body: exactly `{"spraak": "<nb|nn|en|se|"">"}`. Anything else is a 422 naming the
 * value; a body that is not a JSON object at all is the caller's (400, from the route).
 */
export function parseSelfChange(body: Record<string, unknown>): SelfChange {
  const problems = Object.keys(body)
    .filter((name) => name !== 'spraak')
    .map((name) => ({
      pointer: `/${name.slice(0, 100).replace(/~/g, '~0').replace(/\//g, '~1')}`,
      detail: 'only spraak can be changed here',
    }));
  const spraak = body.spraak;
  if (!Object.hasOwn(body, 'spraak')) problems.push({ pointer: '/spraak', detail: 'spraak is required' });
  else if (
    spraak !== '' &&
    !(typeof spraak === 'string' && (LANGUAGES as readonly string[]).includes(spraak))
  ) {
    problems.push({
      pointer: '/spraak',
      detail: `spraak must be one of ${LANGUAGES.join(', ')}, or "" to remove it`,
    });
  }
  if (problems.length > 0) throw new InvalidValueError('the change is not valid', problems);
  return { spraak: spraak === '' ? null : (spraak as Language) };
}

export class SelfService {
  constructor(private readonly deps: SelfDeps) {}

  /**
   * The token's person. The route takes only ID-porten tokens (docs/tokens.md#issuer-kinds); one
   * without `pid` (a pseudonymous sign-in) names no person and is refused with 403: it is a valid
   * token, just not one for this endpoint (docs/person-endpoint.md#token).
   */
  personOf(token: AccessToken): string {
    if (token.pid === null) {
      throw new ForbiddenError('this endpoint is for a logged-in person: the token has no pid');
    }
    if (!checkPersonIdentifier(token.pid, this.deps.identifierRules).valid) {
      throw new ForbiddenError("the token's pid is not a valid personidentifikator");
    }
    return token.pid;
  }

  /** The person as one Person object (not wrapped); IKKE_REGISTRERT when the register has no record. */
  async get(token: AccessToken, view: View): Promise<string> {
    const pid = this.personOf(token);
    const answer = await this.render(pid, view, this.deps.reads ?? this.deps.persons);
    await this.audit(token, 'GET', pid, 200);
    return answer;
  }

  /**
   * Sets or removes the person's language; `spraak_oppdatert` becomes now (also on removal, so the
   * change shows when it happened). Only an AKTIV person can: a person without a record (or
   * SLETTET) gets 404, since a language preference is no reason to create a register entry.
   * Setting the language the person already has is no change (no new change id).
   */
  async change(token: AccessToken, change: SelfChange, view: View): Promise<string> {
    const pid = this.personOf(token);
    const now = Math.floor(this.deps.clock.now() / 1000) * 1000;
    const found = await this.deps.writer.session(async (s) => {
      const person = await s.find(pid);
      if (!person || person.status !== 'AKTIV') return false;
      if ((person.spraak ?? null) === change.spraak) return true;
      // The language and its time are left out of `rest`, then set (or not) below.
      const { spraak: _old, spraak_oppdatert: _oldAt, ...rest } = person;
      await s.write([
        change.spraak === null
          ? { ...rest, spraak_oppdatert: now }
          : { ...rest, spraak: change.spraak, spraak_oppdatert: now },
      ]);
      return true;
    });
    await this.audit(token, 'PATCH', pid, found ? 200 : 404);
    if (!found) throw new NotFoundError('the register holds no active record for the logged-in person');
    return this.render(pid, view, this.deps.persons);
  }

  private async render(pid: string, view: View, from: PersonRepository): Promise<string> {
    const [person] = await from.findMany([pid]);
    if (!person) return renderUnregisteredAnswer(pid, view);
    return renderPersonAnswer(person, view, freshnessBoundary(this.deps.clock.now()));
  }

  private audit(token: AccessToken, method: string, pid: string, status: number) {
    return this.deps.audit.record({
      at: new Date(),
      clientId: token.clientId,
      consumer: token.consumer,
      supplier: token.supplier,
      endpoint: `${method} ${SELF_PATH}`,
      identifiers: [pid],
      status,
    });
  }
}

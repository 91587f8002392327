// The test-data API's work (docs/testdata.md): persons put, read, removed and made from templates,
// imports, resets and the register's clock. Every write goes through the register's one write
// path (PersonWriter: a change id, the lookup cache, the change feed) and into the audit trail as a
// test-data event.

import { randomBytes, randomInt } from 'node:crypto';
import { Readable } from 'node:stream';
import type { AccessToken } from '../access/access-token.js';
import { ALL_GROUPS } from '../access/access.view.js';
import type { View } from '../access/access.view.js';
import { renderPersonAnswer } from '../answer/answer.compose.js';
import { renderExportLine } from '../answer/answer.render.js';
import type { AuditRepository } from '../audit/audit.repository.js';
import { BadRequestError, ConflictError, InvalidValueError, NotFoundError } from '../errors/errors.js';
import type { ErrorItem } from '../errors/errors.js';
import { freshnessBoundary } from '../freshness/freshness.js';
import {
  checkPersonIdentifier,
  IDENTIFIER_PROBLEM_TEXT,
  isValidOrganisationNumber,
} from '../identifier/identifier.js';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import { parsePerson } from '../person/person.js';
import type { FieldProblem, Language, Person, PersonRules } from '../person/person.js';
import type { PersonRepository } from '../register/person.repository.js';
import type { PersonWriter, PersonWriteSession } from '../register/person.writer.js';
import type { AdjustableClock, ClockChange, ClockView, Clock } from '../time/clock.js';
import { isAdjustable } from '../time/clock.js';
import { addDuration } from '../time/duration.js';
import type { EpochMs } from '../time/oslo-time.js';
import { importPersonsFromBytes, ImportLineError } from '../transfer/import.service.js';
import type { ImportSummary } from '../transfer/import.service.js';
import { digdirPersons } from './testdata.digdir.js';
import { MAILBOX_TEMPLATES, templatePerson } from './testdata.templates.js';
import type { TemplateName } from './testdata.templates.js';
import { resolveRelativeTimes } from './testdata.relative.js';

/** Every data scope: what PUT and POST answer (docs/testdata.md#put). */
const EVERY_SCOPE: View = { groups: ALL_GROUPS, withholdUnreachable: false };

export const DATASETS = ['tomt', 'demo', 'digdir'] as const;
export type Dataset = (typeof DATASETS)[number];

export interface TestdataDeps {
  readonly writer: PersonWriter;
  readonly persons: PersonRepository;
  readonly audit: Pick<AuditRepository, 'record'>;
  readonly clock: Clock;
  readonly rules: PersonRules;
  /** krr's demo persons at the register's now (the demo layer, handed in by the app). */
  readonly demoPersons: (now: EpochMs) => Person[];
  /** Registers the demo mailbox providers where they are missing (demo and digdir use them). */
  readonly ensureDemoProviders: () => Promise<void>;
}

export interface CreateRequest {
  readonly mal: TemplateName;
  readonly spraak?: Language | undefined;
  readonly leverandoer?: string | undefined;
}

const FIRST_INSTANT = Date.UTC(1900, 0, 2);
const LAST_INSTANT = Date.UTC(2199, 11, 31);

/** Tries at drawing an identifier the register has never used, before giving up (never, in practice). */
const IDENTIFIER_ATTEMPTS = 50;

/** Problems of a person body as the contract's error (docs/errors.md#statuses): 400 for shape, else 422. */
function personError(problems: readonly FieldProblem[]): Error {
  const shape = problems.filter((p) => p.shape);
  const items: ErrorItem[] = (shape.length > 0 ? shape : problems).map((p) => ({
    pointer: p.pointer,
    detail: p.detail,
  }));
  return shape.length > 0
    ? new BadRequestError('the person is not valid', items)
    : new InvalidValueError('the person is not valid', items);
}

/** A synthetic identifier (Tenor: month + 80) for a random date, or undefined when the date has none. */
function drawIdentifier(dNumber: boolean): string | undefined {
  const year = 1940 + randomInt(67); // 1940..2006
  const spec = {
    day: 1 + randomInt(28),
    month: 1 + randomInt(12),
    year: year % 100,
    dNumber,
    synthetic: 'tenor' as const,
  };
  // Individual numbers as Folkeregisteret gives them for the century: 000-499 for 1900-1999, 500-999 from 2000.
  const individual = year >= 2000 ? 500 + randomInt(400) : randomInt(400);
  try {
    return makeIdentifier(spec, individual);
  } catch {
    return undefined;
  }
}

export class TestdataService {
  constructor(private readonly deps: TestdataDeps) {}

  /** The register's now, whole seconds. */
  private now(): EpochMs {
    return Math.floor(this.deps.clock.now() / 1000) * 1000;
  }

  private checkIdentifier(pid: string): void {
    const check = checkPersonIdentifier(pid, this.deps.rules);
    if (!check.valid) throw new InvalidValueError(IDENTIFIER_PROBLEM_TEXT[check.problem]);
  }

  /** The person as a lookup with every data scope shows it now. */
  private async answer(pid: string): Promise<string> {
    const [person] = await this.deps.persons.findMany([pid]);
    if (!person) throw new NotFoundError('no such person');
    return renderPersonAnswer(person, EVERY_SCOPE, freshnessBoundary(this.deps.clock.now()));
  }

  private audit(caller: AccessToken, endpoint: string, identifiers: readonly string[], status: number) {
    return this.deps.audit.record({
      at: new Date(),
      clientId: caller.clientId,
      consumer: caller.consumer,
      supplier: caller.supplier,
      endpoint: `testdata ${endpoint}`,
      identifiers,
      status,
    });
  }

  /**
   * Creates or replaces the entry of `pid` with `body` (one person in the import format, its
   * timestamps absolute or relative to the register's now). `personidentifikator` may be left out;
   * given, it must be `pid`.
   */
  async put(pid: string, body: unknown, caller: AccessToken): Promise<{ created: boolean; answer: string }> {
    this.checkIdentifier(pid);
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new BadRequestError('the request body must be a JSON object (one person in the import format)');
    const given = (body as Record<string, unknown>).personidentifikator;
    if (given !== undefined && given !== pid) {
      throw new InvalidValueError('the person is not valid', [
        {
          pointer: '/personidentifikator',
          detail: "personidentifikator must be the path's identifier, or left out",
        },
      ]);
    }
    const resolved = resolveRelativeTimes({ ...body, personidentifikator: pid }, this.now());
    const parsed = parsePerson(resolved.value, this.deps.rules);
    const problems = [...resolved.problems, ...(parsed.ok ? [] : parsed.problems)];
    if (problems.length > 0 || !parsed.ok) throw personError(problems);
    const person = parsed.value;
    const created = await this.deps.writer.session(async (s) => {
      const existed = await s.find(pid);
      await s.write([person]);
      return existed === undefined;
    });
    await this.audit(caller, 'PUT /testdata/personer', [pid], created ? 201 : 200);
    return { created, answer: await this.answer(pid) };
  }

  /** The stored entry in the import format, or undefined. */
  async get(pid: string, caller: AccessToken): Promise<string | undefined> {
    this.checkIdentifier(pid);
    const [person] = await this.deps.persons.findMany([pid]);
    await this.audit(caller, 'GET /testdata/personer', [pid], person ? 200 : 404);
    return person ? renderExportLine(person) : undefined;
  }

  /** Removes the entry (docs/testdata.md#delete); false when there was none. */
  async remove(pid: string, caller: AccessToken): Promise<boolean> {
    this.checkIdentifier(pid);
    const removed = await this.deps.writer.session((s) => s.remove([pid]));
    await this.audit(caller, 'DELETE /testdata/personer', [pid], removed.length > 0 ? 204 : 404);
    return removed.length > 0;
  }

  /** A person from a template under a new synthetic identifier the register has never used. */
  async create(request: CreateRequest, caller: AccessToken): Promise<{ pid: string; answer: string }> {
    if (!this.deps.rules.allowSynthetic) {
      throw new ConflictError(
        'this register refuses synthetic identifiers (allowSyntheticIdentifiers is off), so it cannot make test persons',
      );
    }
    const problems: ErrorItem[] = [];
    if (request.leverandoer !== undefined) {
      if (!MAILBOX_TEMPLATES.includes(request.mal))
        problems.push({
          pointer: '/leverandoer',
          detail: `leverandoer goes only with the templates ${MAILBOX_TEMPLATES.join(', ')}`,
        });
      else if (!isValidOrganisationNumber(request.leverandoer))
        problems.push({ pointer: '/leverandoer', detail: 'leverandoer must be a valid organisation number' });
    }
    if (problems.length > 0) throw new InvalidValueError('the request is not valid', problems);
    const now = this.now();
    const pid = await this.deps.writer.session(async (s) => {
      // Drawn and checked under the register's write lock, which every krr process on the store
      // takes for every write: no two callers, in this process or another, get the same one.
      const fresh = async (dNumber: boolean) => {
        for (let i = 0; i < IDENTIFIER_ATTEMPTS; i++) {
          const id = drawIdentifier(dNumber);
          if (id !== undefined && checkPersonIdentifier(id, this.deps.rules).valid && !(await s.everUsed(id)))
            return id;
        }
        throw new ConflictError('no unused synthetic identifier was found; try again');
      };
      const id = await fresh(request.mal === 'd-nummer');
      const options = {
        personidentifikator: id,
        now,
        spraak: request.spraak,
        leverandoer: request.leverandoer,
        tag: randomBytes(6)
          .toString('base64url')
          .toLowerCase()
          .replace(/[^a-z0-9]/g, 'x')
          .slice(0, 8),
        mobileDigits: String(randomInt(10_000_000)).padStart(7, '0'),
      };
      if (request.mal === 'delt-epost') {
        // The other AKTIV person with the same address: a person of its own, template `aktiv`.
        const other = await fresh(false);
        const sharedEmail = `delt.${options.tag}@example.no`;
        await s.write([
          templatePerson('aktiv', { ...options, personidentifikator: other, sharedEmail }),
          templatePerson('delt-epost', { ...options, sharedEmail }),
        ]);
      } else {
        await s.write([templatePerson(request.mal, options)]);
      }
      return id;
    });
    await this.audit(caller, `POST /testdata/personer mal=${request.mal}`, [pid], 201);
    return { pid, answer: await this.answer(pid) };
  }

  /** JSON Lines, as `krr import` takes them: all or nothing, with notes on surprising lines. */
  async importLines(body: Buffer, caller: AccessToken): Promise<ImportSummary> {
    let summary: ImportSummary;
    try {
      summary = await importPersonsFromBytes(this.deps.writer, Readable.from([body]), {
        rules: this.deps.rules,
        workers: 0,
      });
    } catch (err) {
      if (err instanceof ImportLineError) {
        await this.audit(caller, 'POST /testdata/import', [], err.invalidValue ? 422 : 400);
        // The body as an array of lines: /<line index from 0> then the place in that line.
        const item = { detail: err.message, pointer: `/${err.line - 1}${err.pointer ?? ''}` };
        throw err.invalidValue
          ? new InvalidValueError(err.message, [item])
          : new BadRequestError(err.message, [item]);
      }
      throw err;
    }
    await this.audit(caller, 'POST /testdata/import', [], 200);
    return summary;
  }

  /** Resets the register's persons to `dataset` in one transaction (docs/testdata.md#datasets). */
  async reset(dataset: Dataset, caller: AccessToken): Promise<{ removed: number; persons: number }> {
    const now = this.now();
    if (dataset !== 'tomt') {
      try {
        await this.deps.ensureDemoProviders();
      } catch (err) {
        // Another reset registered them meanwhile.
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    const persons =
      dataset === 'demo' ? this.deps.demoPersons(now) : dataset === 'digdir' ? digdirPersons(now) : [];
    const result = await this.deps.writer.session(async (s: PersonWriteSession) => {
      const removed = await s.removeAll();
      if (persons.length > 0) await s.write(persons);
      return { removed, persons: persons.length };
    });
    await this.audit(caller, `POST /testdata/nullstill datasett=${dataset}`, [], 200);
    return result;
  }

  private adjustable(): AdjustableClock {
    const clock = this.deps.clock;
    if (!isAdjustable(clock)) throw new ConflictError("this server's clock cannot be turned");
    return clock;
  }

  clock(): ClockView {
    return this.adjustable().view();
  }

  async changeClock(change: ClockChange, caller: AccessToken): Promise<ClockView> {
    const clock = this.adjustable();
    // The years the register's timestamps may have (docs/testdata.md#relative-timestamps).
    const target =
      change.kind === 'freeze'
        ? change.at
        : change.kind === 'shift'
          ? addDuration(clock.now(), change.by)
          : 0;
    if (change.kind !== 'real' && !(target >= FIRST_INSTANT && target <= LAST_INSTANT)) {
      const pointer = change.kind === 'freeze' ? '/naa' : '/forskyv';
      throw new InvalidValueError('the clock would leave the years 1900 to 2199', [
        { pointer, detail: 'the clock must stay within the years 1900 to 2199' },
      ]);
    }
    const view = await clock.change(change);
    await this.audit(caller, `PUT /testdata/klokke ${change.kind}`, [], 200);
    return view;
  }
}

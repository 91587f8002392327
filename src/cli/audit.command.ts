// `krr audit --person ID | --consumer ORGNO [--from DATE] [--to DATE]` (docs/operations.md#audit-trail):
// the operator's reading of the audit trail, as JSON Lines on standard output. The reading is
// itself recorded in the trail, with who asked (the operating-system user) and what.

import { userInfo } from 'node:os';
import type { KrrConfig } from '../config/config.js';
import { ConfigError } from '../errors/errors.js';
import { AuditRepository } from '../audit/audit.repository.js';
import type { AuditQuery, StoredAuditEntry } from '../audit/audit.repository.js';
import { checkPersonIdentifier, isValidOrganisationNumber } from '../identifier/identifier.js';
import { osloWallTimeToInstant, parseInstant } from '../time/oslo-time.js';
import { withStore } from './runtime.js';

export interface AuditCommandOptions {
  readonly person?: string;
  readonly consumer?: string;
  readonly from?: string;
  readonly to?: string;
}

/** The audit trail's `endpoint` for an operator's reading of it. */
export const AUDIT_READ_ENDPOINT = 'krr audit';

/** `2026-12-04` (midnight in Oslo) or an instant with an offset. */
export function parseAuditDate(text: string, option: string): Date {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (day) {
    const wall = Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]));
    const date = new Date(wall);
    if (date.getUTCDate() === Number(day[3]) && date.getUTCMonth() === Number(day[2]) - 1)
      return new Date(osloWallTimeToInstant(wall));
  } else {
    const at = parseInstant(text);
    if (at !== undefined) return new Date(at);
  }
  throw new ConfigError(
    `${option} must be a date (2026-12-04, midnight in Oslo) or an instant with an offset`,
  );
}

/** The query the options ask for, checked (fail before the store is opened). */
export function auditQueryOf(opts: AuditCommandOptions, config: KrrConfig): AuditQuery {
  if ((opts.person === undefined) === (opts.consumer === undefined))
    throw new ConfigError('give exactly one of --person ID and --consumer ORGNO');
  const range = {
    ...(opts.from !== undefined ? { from: parseAuditDate(opts.from, '--from') } : {}),
    ...(opts.to !== undefined ? { to: parseAuditDate(opts.to, '--to') } : {}),
  };
  if (range.from && range.to && range.to <= range.from) throw new ConfigError('--to must be after --from');
  if (opts.person !== undefined) {
    const check = checkPersonIdentifier(opts.person, { allowSynthetic: config.allowSyntheticIdentifiers });
    if (!check.valid) throw new ConfigError('--person must be a valid fødselsnummer or D-nummer (11 digits)');
    return { person: opts.person, ...range };
  }
  const orgno = opts.consumer!.replace(/^0192:/, '');
  if (!isValidOrganisationNumber(orgno))
    throw new ConfigError('--consumer must be an organisation number (9 digits, or 0192:ORGNO)');
  return { consumer: orgno, ...range };
}

/**
 * One entry as a line. For a person, the other identifiers of a bulk lookup are not theirs to
 * see: only how many were asked together; for a consumer, what it asked for is the point.
 */
function line(e: StoredAuditEntry, query: AuditQuery): string {
  return JSON.stringify({
    id: e.id,
    at: e.at.toISOString(),
    endpoint: e.endpoint,
    status: e.status,
    clientId: e.clientId,
    consumer: e.consumer,
    supplier: e.supplier,
    ...(query.person !== undefined
      ? { personidentifikator: query.person, identifiersInRequest: e.identifiers.length }
      : { identifiers: e.identifiers }),
    ...(e.detail != null ? { detail: e.detail } : {}),
  });
}

function operator(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

export async function runAudit(
  config: KrrConfig,
  opts: AuditCommandOptions,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<void> {
  const query = auditQueryOf(opts, config);
  const count = await withStore(config, async (db) => {
    const audit = new AuditRepository(db);
    // Recorded first: a reading that fails halfway has still been made.
    await audit.record({
      at: new Date(),
      clientId: `cli:${operator()}`,
      consumer: query.consumer ?? null,
      supplier: null,
      endpoint: AUDIT_READ_ENDPOINT,
      identifiers: query.person !== undefined ? [query.person] : [],
      status: 200,
      detail: [
        query.person !== undefined ? 'person' : 'consumer',
        ...(query.from ? [`from=${query.from.toISOString()}`] : []),
        ...(query.to ? [`to=${query.to.toISOString()}`] : []),
      ].join(','),
    });
    let n = 0;
    for await (const entry of audit.search(query)) {
      if (!out.write(`${line(entry, query)}\n`)) await new Promise((r) => out.once('drain', r));
      n++;
    }
    return n;
  });
  err.write(`${count} ${count === 1 ? 'entry' : 'entries'}\n`);
}

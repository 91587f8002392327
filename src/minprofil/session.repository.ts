// Min profil's sessions in the store (table minprofil_session, docs/minprofil.md#sessions): the
// cookie holds a random id, the store only its SHA-256 hash, so a copy of the table signs no one
// in. Rows never leave this file: callers get a Session.
//
// The idle timeout runs on the real clock (`now` passed in), never the register's test clock: a
// frozen or turned register clock must not keep a session alive or end it.

import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../store/database.js';

export interface Session {
  /** The id's hash: what the profile's rate limits count by (ProfileActor.sessionHash). */
  readonly idHash: string;
  readonly pid: string;
  readonly acr: string | undefined;
}

export function hashSessionId(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}

/** Sessions unused this long are removed (far beyond any idle timeout the config allows). */
const PRUNE_AFTER_MS = 2 * 24 * 3600_000;

interface SessionRow {
  personidentifikator: string;
  acr: string | null;
}

export class SessionRepository {
  constructor(private readonly db: Queryable) {}

  /** A new session for `pid`; the returned id goes into the cookie and nowhere else. */
  async create(pid: string, acr: string | undefined, now: Date): Promise<{ id: string; session: Session }> {
    const id = randomBytes(32).toString('base64url');
    const idHash = hashSessionId(id);
    // Housekeeping as sessions begin: rows unused for a day are worthless (ended or idle), gone.
    await this.prune(new Date(now.getTime() - PRUNE_AFTER_MS));
    await this.db.query(
      `insert into minprofil_session (id_hash, personidentifikator, acr, created_at, last_seen_at)
       values ($1, $2, $3, $4, $4)`,
      [idHash, pid, acr ?? null, now],
    );
    return { id, session: { idHash, pid, acr } };
  }

  /**
   * The open session with this id, its last use moved to `now`; undefined when it is unknown,
   * ended, or idle longer than `idleMs`. A session found idle is ended for good, so that a clock
   * set back (or a replayed cookie) cannot bring it back.
   */
  async resume(id: string, now: Date, idleMs: number): Promise<Session | undefined> {
    const idHash = hashSessionId(id);
    const since = new Date(now.getTime() - idleMs);
    const rows = await this.db.query<SessionRow>(
      `update minprofil_session set last_seen_at = $2
        where id_hash = $1 and ended_at is null and last_seen_at > $3
       returning personidentifikator, acr`,
      [idHash, now, since],
    );
    const row = rows[0];
    if (row) return { idHash, pid: row.personidentifikator, acr: row.acr ?? undefined };
    await this.db.query(
      `update minprofil_session set ended_at = $2 where id_hash = $1 and ended_at is null`,
      [idHash, now],
    );
    return undefined;
  }

  /** Logs out: the session is ended and its cookie worth nothing from now on. */
  async end(idHash: string, now: Date): Promise<void> {
    await this.db.query(
      `update minprofil_session set ended_at = $2 where id_hash = $1 and ended_at is null`,
      [idHash, now],
    );
  }

  /** Removes sessions ended or idle before `before` (housekeeping; their ids are worthless). */
  async prune(before: Date): Promise<number> {
    const rows = await this.db.query<{ n: number }>(
      `with gone as (delete from minprofil_session where last_seen_at < $1 returning 1)
       select count(*)::int as n from gone`,
      [before],
    );
    return rows[0]?.n ?? 0;
  }
}

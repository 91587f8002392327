import type { Database } from '../store/database.js';

/** Assertions already used (jti per client), kept in the store until they expire. */
export class UsedAssertionRepository {
  constructor(private readonly db: Database) {}

  /**
   * Records the client's `jti` until `expiresAt`; false when it was used before (a replay), also by
   * another process or before a restart. Expired entries go on the way: such an assertion is
   * refused as expired anyway.
   */
  async use(clientId: string, jti: string, expiresAt: Date): Promise<boolean> {
    await this.db.query('delete from used_assertion where expires_at < now()');
    const rows = await this.db.query(
      `insert into used_assertion (client_id, jti, expires_at) values ($1, $2, $3)
       on conflict (client_id, jti) do nothing returning jti`,
      [clientId, jti, expiresAt.toISOString()],
    );
    return rows.length > 0;
  }
}

// The token service's clients and their keys, and the assertions already used. Rows stay here.

import type { JWK } from 'jose';
import { ConflictError, NotFoundError } from '../errors/errors.js';
import type { Database, Queryable } from '../store/database.js';
import type { ClientKey } from './client-key.js';

export interface Client {
  readonly clientId: string;
  readonly orgno: string;
  readonly scopes: readonly string[];
  readonly keys: readonly ClientKey[];
  /**
   * The organisations that delegated to the client: the `consumer_org` its assertions may name
   * besides its own (docs/tokens.md#delegations).
   */
  readonly delegatedBy: readonly string[];
}

interface ClientRow {
  client_id: string;
  orgno: string;
  scopes: string;
}

interface KeyRow {
  client_id: string;
  kid: string;
  public_jwk: string;
  certificate: string | null;
}

function toKey(row: KeyRow): ClientKey {
  const jwk = JSON.parse(row.public_jwk) as JWK;
  return row.certificate
    ? { kid: row.kid, publicJwk: jwk, certificate: row.certificate }
    : { kid: row.kid, publicJwk: jwk };
}

interface DelegationRow {
  client_id: string;
  orgno: string;
}

function toClient(row: ClientRow, keys: KeyRow[], delegations: DelegationRow[]): Client {
  return {
    clientId: row.client_id,
    orgno: row.orgno,
    scopes: row.scopes.split(' ').filter(Boolean),
    keys: keys.filter((k) => k.client_id === row.client_id).map(toKey),
    delegatedBy: delegations.filter((d) => d.client_id === row.client_id).map((d) => d.orgno),
  };
}

/**
 * Where clients are kept. PostgreSQL: tables of the store. The embedded store: a file in its data
 * directory (client-file.repository.ts), as the dev key is, so that `krr clients add` works while a
 * server holds the embedded database, and the server sees the new client at its next token request.
 */
export interface ClientRepository {
  find(clientId: string): Promise<Client | undefined>;
  list(): Promise<Client[]>;
  /** Throws ConflictError when the client id is taken. */
  add(client: Client): Promise<void>;
  /** Throws NotFoundError for an unknown client, ConflictError for a kid it has already. */
  addKeys(clientId: string, keys: readonly ClientKey[]): Promise<void>;
  remove(clientId: string): Promise<boolean>;
  removeKey(clientId: string, kid: string): Promise<boolean>;
}

export function conflictingKid(
  keys: readonly ClientKey[],
  existing: readonly ClientKey[] = [],
): string | undefined {
  const seen = new Set(existing.map((k) => k.kid));
  for (const key of keys) {
    if (seen.has(key.kid)) return key.kid;
    seen.add(key.kid);
  }
  return undefined;
}

export class DatabaseClientRepository implements ClientRepository {
  constructor(private readonly db: Database) {}

  async find(clientId: string, q: Queryable = this.db): Promise<Client | undefined> {
    const [row] = await q.query<ClientRow>(
      'select client_id, orgno, scopes from maskinporten_client where client_id = $1',
      [clientId],
    );
    if (!row) return undefined;
    const keys = await q.query<KeyRow>(
      'select client_id, kid, public_jwk, certificate from maskinporten_client_key where client_id = $1 order by kid',
      [clientId],
    );
    const delegations = await q.query<DelegationRow>(
      'select client_id, orgno from maskinporten_client_delegation where client_id = $1 order by orgno',
      [clientId],
    );
    return toClient(row, keys, delegations);
  }

  async list(): Promise<Client[]> {
    const rows = await this.db.query<ClientRow>(
      'select client_id, orgno, scopes from maskinporten_client order by client_id',
    );
    const keys = await this.db.query<KeyRow>(
      'select client_id, kid, public_jwk, certificate from maskinporten_client_key order by client_id, kid',
    );
    const delegations = await this.db.query<DelegationRow>(
      'select client_id, orgno from maskinporten_client_delegation order by client_id, orgno',
    );
    return rows.map((r) => toClient(r, keys, delegations));
  }

  async add(client: Client): Promise<void> {
    await this.db.transaction(async (tx) => {
      const inserted = await tx.query(
        `insert into maskinporten_client (client_id, orgno, scopes) values ($1, $2, $3)
         on conflict (client_id) do nothing returning client_id`,
        [client.clientId, client.orgno, client.scopes.join(' ')],
      );
      if (inserted.length === 0) {
        throw new ConflictError(`client ${client.clientId} is registered already; add a key with --add-key`);
      }
      for (const key of client.keys) await this.insertKey(client.clientId, key, tx);
      for (const orgno of client.delegatedBy) {
        await tx.query('insert into maskinporten_client_delegation (client_id, orgno) values ($1, $2)', [
          client.clientId,
          orgno,
        ]);
      }
    });
  }

  async addKeys(clientId: string, keys: readonly ClientKey[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('select client_id from maskinporten_client where client_id = $1 for update', [clientId]);
      const existing = await this.find(clientId, tx);
      if (!existing) throw new NotFoundError(`no client ${clientId} is registered`);
      const kid = conflictingKid(keys, existing.keys);
      if (kid !== undefined) throw new ConflictError(`the client has a key with kid ${kid} already`);
      for (const key of keys) await this.insertKey(clientId, key, tx);
    });
  }

  private async insertKey(clientId: string, key: ClientKey, q: Queryable): Promise<void> {
    await q.query(
      'insert into maskinporten_client_key (client_id, kid, public_jwk, certificate) values ($1, $2, $3, $4)',
      [clientId, key.kid, JSON.stringify(key.publicJwk), key.certificate ?? null],
    );
  }

  async remove(clientId: string): Promise<boolean> {
    const rows = await this.db.query(
      'delete from maskinporten_client where client_id = $1 returning client_id',
      [clientId],
    );
    return rows.length > 0;
  }

  async removeKey(clientId: string, kid: string): Promise<boolean> {
    const rows = await this.db.query(
      'delete from maskinporten_client_key where client_id = $1 and kid = $2 returning kid',
      [clientId, kid],
    );
    return rows.length > 0;
  }
}

// The operator's side of the token service's clients (`krr clients add|list|remove`).

import { ConflictError, InvalidValueError, NotFoundError } from '../errors/errors.js';
import { isValidOrganisationNumber } from '../identifier/identifier.js';
import type { Database, StoreConfig } from '../store/database.js';
import type { ClientKey } from './client-key.js';
import { FileClientRepository } from './client-file.repository.js';
import { conflictingKid, DatabaseClientRepository } from './client.repository.js';
import type { Client, ClientRepository } from './client.repository.js';

const CLIENT_ID = /^[\x21-\x7e]{1,200}$/;
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+$/; // RFC 6749 scope-token

/** The embedded store keeps its clients in a file of its data directory; PostgreSQL in its tables. */
export function clientRepositoryFor(store: StoreConfig, db: Database | undefined): ClientRepository {
  if (store.kind === 'embedded') return new FileClientRepository(store.dataDir);
  if (!db) throw new Error('a PostgreSQL store keeps the clients in the database: open it first');
  return new DatabaseClientRepository(db);
}

export interface NewClient {
  readonly clientId: string;
  readonly orgno: string;
  readonly scopes: string;
  /** None: the client signs its assertions only with a business certificate (x5c) from a trusted CA. */
  readonly keys: readonly ClientKey[];
  /** Organisations that delegated to the client: its assertions may name them as `consumer_org`. */
  readonly delegatedBy?: readonly string[];
}

function parseScopes(text: string): string[] {
  const scopes = [...new Set(text.split(/\s+/).filter(Boolean))];
  if (scopes.length === 0) throw new InvalidValueError('the client needs at least one scope');
  if (scopes.some((s) => !SCOPE.test(s))) {
    throw new InvalidValueError('a scope is visible ASCII characters without quotes or backslashes');
  }
  return scopes;
}

export class ClientService {
  constructor(private readonly clients: ClientRepository) {}

  list(): Promise<Client[]> {
    return this.clients.list();
  }

  async add(client: NewClient): Promise<void> {
    if (!CLIENT_ID.test(client.clientId)) {
      throw new InvalidValueError('a client id is 1 to 200 visible ASCII characters');
    }
    if (!isValidOrganisationNumber(client.orgno)) {
      throw new InvalidValueError(
        'the organisation number must be 9 digits with a valid check digit (mod 11)',
      );
    }
    const scopes = parseScopes(client.scopes);
    const kid = conflictingKid(client.keys);
    if (kid !== undefined) throw new ConflictError(`kid ${kid} is given twice`);
    const delegatedBy = [...new Set(client.delegatedBy ?? [])];
    if (!delegatedBy.every(isValidOrganisationNumber)) {
      throw new InvalidValueError(
        'an organisation that delegates to the client (--delegated-by) must be 9 digits with a valid check digit (mod 11)',
      );
    }
    await this.clients.add({
      clientId: client.clientId,
      orgno: client.orgno,
      scopes,
      keys: client.keys,
      delegatedBy: delegatedBy.filter((orgno) => orgno !== client.orgno).sort(),
    });
  }

  /** Adds keys to a registered client (key rotation: the old ones stay until removed). */
  async addKeys(clientId: string, keys: readonly ClientKey[]): Promise<void> {
    if (keys.length === 0) throw new InvalidValueError('give the key to add with --jwk, or --pem and --kid');
    await this.clients.addKeys(clientId, keys);
  }

  async remove(clientId: string): Promise<void> {
    if (!(await this.clients.remove(clientId)))
      throw new NotFoundError(`no client ${clientId} is registered`);
  }

  async removeKey(clientId: string, kid: string): Promise<void> {
    if (!(await this.clients.removeKey(clientId, kid))) {
      throw new NotFoundError(`client ${clientId} has no key with kid ${kid}`);
    }
  }
}

// The embedded store's clients: a JSON file in the data directory, beside the dev key. The embedded
// database belongs to one process (the server, while it runs), so `krr clients add` must not need
// it; the server reads this file at each token request, so a client added while it runs is known
// at once. Writers take a lock file and replace the file whole (write, then rename): readers never
// see half a file, and two writers never lose each other's change.

import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ConflictError, NotFoundError, StoreLockedError } from '../errors/errors.js';
import type { ClientKey } from './client-key.js';
import { conflictingKid } from './client.repository.js';
import type { Client, ClientRepository } from './client.repository.js';

const FILE = 'maskinporten-clients.json';
const LOCK_WAIT_MS = 10_000;
/** A lock older than this was left by a writer that died (a write takes milliseconds). */
const STALE_LOCK_MS = 30_000;

interface ClientFile {
  /** A file written before delegations were kept has clients without `delegatedBy`. */
  readonly clients: Array<Omit<Client, 'delegatedBy'> & { readonly delegatedBy?: readonly string[] }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FileClientRepository implements ClientRepository {
  private readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, FILE);
  }

  private async read(): Promise<Client[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return (JSON.parse(text) as ClientFile).clients.map((c) => ({ ...c, delegatedBy: c.delegatedBy ?? [] }));
  }

  /** Runs `change` on the current list under the lock and writes what it returns. */
  private async update(change: (clients: Client[]) => Client[]): Promise<void> {
    const lock = `${this.path}.lock`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    // The first command on a new data directory may be this one.
    await mkdir(dirname(this.path), { recursive: true });
    for (;;) {
      try {
        await writeFile(lock, String(process.pid), { flag: 'wx' });
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const age = await stat(lock).then(
          (s) => Date.now() - s.mtimeMs,
          () => 0,
        );
        if (age > STALE_LOCK_MS) await rm(lock, { force: true });
        else if (Date.now() > deadline)
          throw new StoreLockedError(`the client list ${this.path} stays locked`);
        else await sleep(50);
      }
    }
    try {
      const next = change(await this.read());
      const tmp = `${this.path}.${process.pid}.${randomUUID()}.tmp`;
      await writeFile(tmp, `${JSON.stringify({ clients: next } satisfies ClientFile, null, 1)}\n`, {
        mode: 0o600,
      });
      await rename(tmp, this.path);
    } finally {
      await rm(lock, { force: true });
    }
  }

  async find(clientId: string): Promise<Client | undefined> {
    return (await this.read()).find((c) => c.clientId === clientId);
  }

  async list(): Promise<Client[]> {
    return (await this.read()).sort((a, b) =>
      a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0,
    );
  }

  async add(client: Client): Promise<void> {
    await this.update((clients) => {
      if (clients.some((c) => c.clientId === client.clientId)) {
        throw new ConflictError(`client ${client.clientId} is registered already; add a key with --add-key`);
      }
      return [...clients, client];
    });
  }

  async addKeys(clientId: string, keys: readonly ClientKey[]): Promise<void> {
    await this.update((clients) => {
      const existing = clients.find((c) => c.clientId === clientId);
      if (!existing) throw new NotFoundError(`no client ${clientId} is registered`);
      const kid = conflictingKid(keys, existing.keys);
      if (kid !== undefined) throw new ConflictError(`the client has a key with kid ${kid} already`);
      return clients.map((c) => (c === existing ? { ...c, keys: [...c.keys, ...keys] } : c));
    });
  }

  async remove(clientId: string): Promise<boolean> {
    let removed = false;
    await this.update((clients) => {
      removed = clients.some((c) => c.clientId === clientId);
      return clients.filter((c) => c.clientId !== clientId);
    });
    return removed;
  }

  async removeKey(clientId: string, kid: string): Promise<boolean> {
    let removed = false;
    await this.update((clients) =>
      clients.map((c) => {
        if (c.clientId !== clientId || !c.keys.some((k) => k.kid === kid)) return c;
        removed = true;
        return { ...c, keys: c.keys.filter((k) => k.kid !== kid) };
      }),
    );
    return removed;
  }
}

// `krr clients add|list|remove`: the clients of the dev-mode Maskinporten-like token service.

import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { InvalidValueError } from '../errors/errors.js';
import { withStore } from './runtime.js';
import { parseClientKeys } from '../client/client-key.js';
import type { ClientKey } from '../client/client-key.js';
import { clientRepositoryFor, ClientService } from '../client/client.service.js';
import type { CliValues, KrrConfig } from '../config/config.js';
import { readFileBounded } from '../files/bounded-file.js';
import type { FileReadError } from '../files/bounded-file.js';

/**
 * Runs `fn` with the client service of the configured store. The embedded store's clients are a
 * file beside its database, which is not opened: this works while a server holds the store.
 */
async function withClients<T>(config: KrrConfig, fn: (service: ClientService) => Promise<T>): Promise<T> {
  if (config.store.kind === 'embedded')
    return fn(new ClientService(clientRepositoryFor(config.store, undefined)));
  return withStore(config, (db) => fn(new ClientService(clientRepositoryFor(config.store, db))));
}

/** What commander parses for `krr clients add` (beside the store options, which loadConfig reads). */
interface AddOptions extends CliValues {
  readonly clientId: string;
  readonly orgno?: string;
  readonly scopes?: string;
  readonly jwk?: string;
  readonly pem?: string;
  readonly kid?: string;
  readonly addKey?: boolean;
  /** --delegated-by, repeatable (none: []). */
  readonly delegatedBy: string[];
}

/** What commander parses for `krr clients remove`. */
interface RemoveOptions extends CliValues {
  readonly clientId: string;
  readonly kid?: string;
}

function keysFrom(opts: { jwk?: string; pem?: string; kid?: string }): ClientKey[] {
  if (opts.jwk && opts.pem) throw new InvalidValueError('give either --jwk or --pem, not both');
  const file = opts.jwk ?? opts.pem;
  if (!file) {
    if (opts.kid) throw new InvalidValueError('--kid goes with --pem (or overrides the kid of --jwk)');
    return [];
  }
  let text: string;
  try {
    text = readFileBounded(file).toString('utf8');
  } catch (err) {
    throw new InvalidValueError(`cannot read ${file}: ${(err as FileReadError).reason}`);
  }
  if (opts.pem && !opts.kid) throw new InvalidValueError('--pem needs --kid: the id the client signs with');
  return parseClientKeys(text, file, opts.kid);
}

export function addClientCommands(
  program: Command,
  storeOptions: (cmd: Command) => Command,
  out: NodeJS.WritableStream,
): void {
  const clients = program
    .command('clients')
    .description("the dev token service's Maskinporten clients (POST /token with the JWT-bearer grant)");

  storeOptions(clients.command('add').description('register a client and its public key'))
    .requiredOption('--client-id <id>', "the client id (the assertion's iss)")
    .option('--orgno <orgno>', "the client's organisation number (the token's consumer)")
    .option('--scopes <scopes>', 'the scopes the client may ask for, space-separated')
    .option(
      '--jwk <file>',
      'a JWK or JWK Set file (its kid is used; of a private key only the public part is kept)',
    )
    .option('--pem <file>', 'a PEM public key, private key or certificate (with --kid)')
    .option('--kid <kid>', 'the key id the client names in its assertions')
    .option(
      '--delegated-by <orgno>',
      'an organisation that delegated to the client: its assertions may name it as consumer_org (repeatable)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option('--add-key', 'add the key to a client registered already')
    .addHelpText(
      'after',
      '\nWithout --jwk or --pem the client can sign only with a business certificate (x5c) of its organisation issued by a CA in trustedClientCas (KRR_TRUSTED_CLIENT_CAS).',
    )
    .action(async (opts: AddOptions) => {
      const keys = keysFrom(opts);
      const { delegatedBy } = opts;
      if (opts.addKey) {
        if (delegatedBy.length > 0)
          throw new InvalidValueError('--delegated-by goes with a new client, not with --add-key');
        await withClients(loadConfig(opts), (service) => service.addKeys(opts.clientId, keys));
        out.write(`added ${keys.map((k) => `kid ${k.kid}`).join(', ')} to client ${opts.clientId}\n`);
        return;
      }
      const { orgno, scopes } = opts;
      if (!orgno) throw new InvalidValueError('--orgno is required');
      if (!scopes) throw new InvalidValueError('--scopes is required');
      await withClients(loadConfig(opts), (service) =>
        service.add({ clientId: opts.clientId, orgno, scopes, keys, delegatedBy }),
      );
      const how = keys.length > 0 ? keys.map((k) => `kid ${k.kid}`).join(', ') : 'x5c only';
      const delegations = delegatedBy.length > 0 ? `; delegated by ${delegatedBy.join(', ')}` : '';
      out.write(`registered client ${opts.clientId} (${opts.orgno}; ${how}${delegations})\n`);
    });

  storeOptions(clients.command('list').description('list the clients')).action(async (opts: CliValues) => {
    const list = await withClients(loadConfig(opts), (service) => service.list());
    for (const c of list) {
      const kids = c.keys.length > 0 ? c.keys.map((k) => k.kid).join(',') : '(x5c only)';
      const delegations = c.delegatedBy.length > 0 ? `  delegated-by ${c.delegatedBy.join(',')}` : '';
      out.write(`${c.clientId}  ${c.orgno}  ${kids}  ${c.scopes.join(' ')}${delegations}\n`);
    }
  });

  storeOptions(clients.command('remove').description('remove a client, or one of its keys with --kid'))
    .requiredOption('--client-id <id>', 'the client id')
    .option('--kid <kid>', 'remove only this key')
    .action(async (opts: RemoveOptions) => {
      await withClients(loadConfig(opts), (service) =>
        opts.kid ? service.removeKey(opts.clientId, opts.kid) : service.remove(opts.clientId),
      );
      out.write(
        opts.kid
          ? `removed kid ${opts.kid} of client ${opts.clientId}\n`
          : `removed client ${opts.clientId}\n`,
      );
    });
}

// `krr sync --from URL`: the command's work, kept out of cli/main.ts (which only declares it):
// authentication from the options, the run, progress on a terminal, a clean stop on SIGINT/SIGTERM.

import type { Command } from 'commander';
import type { KrrConfig } from '../config/config.js';
import { ConfigError, KrrError } from '../errors/errors.js';
import { personRules, withStore } from './runtime.js';
import { FeedClient } from '../sync/feed.client.js';
import {
  DEFAULT_SYNC_SCOPES,
  loadSigningKey,
  MaskinportenClient,
  staticToken,
} from '../sync/maskinporten.client.js';
import type { TokenProvider } from '../sync/maskinporten.client.js';
import { follow, syncOnce } from '../sync/sync.service.js';
import type { SyncProgress, SyncSummary } from '../sync/sync.service.js';
import { printable } from './printable.js';
import { FollowTerminal } from './follow-terminal.js';

/** The command's own options (the store options are read by loadConfig). */
export interface SyncCommandOptions {
  readonly from: string;
  readonly token?: string;
  readonly maskinportenIssuer?: string;
  readonly maskinportenMetadata?: string;
  readonly clientId?: string;
  readonly key?: string;
  readonly kid?: string;
  readonly scope?: string;
  readonly resource?: string;
  readonly audience?: string;
  readonly once?: boolean;
  readonly restart?: boolean;
}

/** `--once` was stopped by a signal before the source was caught up. */
export class SyncStoppedError extends KrrError {
  readonly code = 'SYNC_STOPPED';
  readonly status = 500;
}

/**
 * The options of a Maskinporten client (`--maskinporten-issuer URL --client-id ID --key FILE ...`)
 * on a command that reads a source with one, as `krr sync` and `krr folkeregister sync` do.
 */
export function maskinportenClientOptions(cmd: Command, defaultScopes: readonly string[]): Command {
  return cmd
    .option(
      '--maskinporten-issuer <url>',
      'get tokens from this Maskinporten issuer, e.g. https://maskinporten.no/',
    )
    .option('--maskinporten-metadata <url>', "Maskinporten's metadata URL, when not under the issuer")
    .option('--client-id <id>', 'the Maskinporten client id')
    .option('--key <file>', "the client's private key: a JWK file (with kid), or a PEM file with --kid")
    .option('--kid <kid>', 'the id the key is registered under (needed with a PEM key)')
    .option('--scope <scopes>', `Maskinporten scopes, space-separated (default "${defaultScopes.join(' ')}")`)
    .option('--resource <url>', 'the resource claim for an audience-restricted token')
    .option('--audience <aud>', "the assertion's aud, when not the issuer");
}

export async function tokenProviderFor(opts: SyncCommandOptions): Promise<TokenProvider> {
  const maskinporten = opts.maskinportenIssuer ?? opts.maskinportenMetadata;
  const clientOptions = (['clientId', 'key', 'kid', 'scope', 'resource', 'audience'] as const).filter(
    (k) => opts[k] !== undefined,
  );
  if (opts.token !== undefined && maskinporten) {
    throw new ConfigError(
      'give either --token or a Maskinporten client (--maskinporten-issuer ...), not both',
    );
  }
  if (opts.token !== undefined) {
    if (clientOptions.length > 0) {
      throw new ConfigError(`--${kebab(clientOptions[0]!)} is for a Maskinporten client, not with --token`);
    }
    if (!opts.token.trim()) throw new ConfigError('--token is empty');
    return staticToken(opts.token.trim());
  }
  if (!maskinporten) {
    throw new ConfigError(
      'the source needs a token: give --token TOKEN, or a Maskinporten client with --maskinporten-issuer URL --client-id ID --key FILE',
    );
  }
  if (!opts.clientId) throw new ConfigError('a Maskinporten client needs --client-id');
  if (!opts.key)
    throw new ConfigError('a Maskinporten client needs --key (a JWK file, or a PEM file with --kid)');
  const scopes = opts.scope === undefined ? DEFAULT_SYNC_SCOPES : opts.scope.split(/\s+/).filter(Boolean);
  if (scopes.length === 0) throw new ConfigError('--scope is empty');
  return new MaskinportenClient({
    issuer: opts.maskinportenIssuer,
    metadataUrl: opts.maskinportenMetadata,
    clientId: opts.clientId,
    signingKey: await loadSigningKey(opts.key, opts.kid),
    scopes,
    resource: opts.resource,
    audience: opts.audience,
  });
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function describeIds(p: SyncProgress | SyncSummary): string {
  return p.sisteEndringsId === undefined
    ? `change id ${p.cursor}`
    : `change id ${p.cursor} / ${p.sisteEndringsId}`;
}

const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function summaryLine(s: SyncSummary): string {
  const rate = s.seconds > 0 ? Math.round(s.persons / s.seconds) : s.persons;
  const state = s.caughtUp ? 'up to date' : 'not caught up';
  return (
    `synced ${count(s.persons, 'person')} in ${count(s.pages, 'page')} from ${s.source} in ${s.seconds.toFixed(1)} s (${rate} persons/s): ` +
    `change id ${s.startCursor} → ${s.cursor}${s.sisteEndringsId === undefined ? '' : ` of ${s.sisteEndringsId}`}, ${state}\n`
  );
}

export async function runSync(
  cfg: KrrConfig,
  opts: SyncCommandOptions,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<void> {
  const auth = await tokenProviderFor(opts);
  const source = new FeedClient({ from: opts.from, auth });
  const terminal = new FollowTerminal(err);
  const draw = (p: SyncProgress, force = false) =>
    terminal.progress(() => {
      const verb = p.caughtUp && !opts.once ? 'following' : 'syncing from';
      return `${verb} ${source.url}: ${p.persons} persons | ${describeIds(p)}${p.caughtUp ? ', up to date' : ''}`;
    }, force);

  let summary: SyncSummary;
  try {
    summary = await withStore(cfg, (db) =>
      (opts.once ? syncOnce : follow)({
        db,
        source,
        rules: personRules(cfg),
        signal: terminal.signal,
        ...(opts.restart ? { fromId: 0 } : {}),
        onProgress: (p) => draw(p, p.caughtUp),
        onRetry: (e, delayMs) => terminal.retrying(e, delayMs),
      }),
    );
  } finally {
    terminal.close();
  }

  if (summary.ignoredFields.size > 0) {
    const fields = [...summary.ignoredFields]
      .map(([f, n]) => `${printable(f, 100)} (${n} persons)`)
      .join(', ');
    err.write(`note: fields the register does not know were ignored: ${fields}\n`);
  }
  out.write(summaryLine(summary));
  if (opts.once && summary.stopped && !summary.caughtUp) {
    throw new SyncStoppedError(
      `stopped before catching up (${describeIds(summary)}); run the same command again to resume`,
    );
  }
}

// `krr folkeregister sync` and `krr folkeregister status` (docs/folkeregister.md#commands): the commands'
// work, kept out of cli/main.ts. Authentication is `krr sync`'s (a token as given, or a Maskinporten
// client), with Folkeregisteret's scope by default; progress on a terminal; a clean stop on SIGINT/SIGTERM.

import type { Command } from 'commander';
import { Option } from 'commander';
import { loadConfig } from '../config/config.js';
import type { CliValues, KrrConfig } from '../config/config.js';
import { ConfigError } from '../errors/errors.js';
import { DEFAULT_FOLKEREGISTER_SCOPES, FolkeregisterClient } from '../sync/folkeregister.client.js';
import {
  folkeregisterSyncOnce,
  followFolkeregister,
  readFolkeregisterStatus,
} from '../sync/folkeregister.service.js';
import type { FolkeregisterProgress, FolkeregisterSummary } from '../sync/folkeregister.service.js';
import { printable } from './printable.js';
import { FollowTerminal } from './follow-terminal.js';
import { personRules, withStore } from './runtime.js';
import { maskinportenClientOptions, SyncStoppedError, tokenProviderFor } from './sync.command.js';
import type { SyncCommandOptions } from './sync.command.js';

interface FolkeregisterSyncOptions extends CliValues, Omit<SyncCommandOptions, 'restart'> {
  readonly interval: string;
}

const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The run's summary for standard output: one line, then the counts and the conflicts. */
export function folkeregisterSummary(s: FolkeregisterSummary): string {
  const state = s.caughtUp ? 'up to date' : 'not caught up';
  let text =
    `read ${count(s.events, 'event')} in ${count(s.pages, 'page')} from ${s.source} in ${s.seconds.toFixed(1)} s: ` +
    `sequence number ${s.startPosition} → ${s.position}, ${state}\n`;
  for (const [type, n] of [...s.counts].sort(([a], [b]) => a.localeCompare(b))) {
    text += `  ${printable(type, 120)}: ${n}\n`;
  }
  if (s.conflicts.length > 0) {
    text +=
      `conflicts for the operator (the identifiers are in the audit trail): sekvensnummer ` +
      `${s.conflicts.map((c) => c.sequence).join(', ')}; see krr folkeregister status\n`;
  }
  return text;
}

export async function runFolkeregisterSync(
  cfg: KrrConfig,
  opts: FolkeregisterSyncOptions,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<void> {
  const intervalSeconds = Number(opts.interval);
  if (!Number.isFinite(intervalSeconds) || intervalSeconds <= 0) {
    throw new ConfigError('--interval must be a positive number of seconds');
  }
  // Folkeregisteret's scope unless others are asked for; a given token carries what it carries.
  const maskinporten = opts.token === undefined && opts.scope === undefined;
  const auth = await tokenProviderFor(
    maskinporten ? { ...opts, scope: DEFAULT_FOLKEREGISTER_SCOPES.join(' ') } : opts,
  );
  const source = new FolkeregisterClient({ from: opts.from, auth });
  const terminal = new FollowTerminal(err);
  const draw = (p: FolkeregisterProgress) =>
    terminal.progress(() => {
      const verb = p.caughtUp && !opts.once ? 'following' : 'reading';
      return `${verb} ${source.url}: ${p.events} events | sequence number ${p.position}${p.caughtUp ? ', up to date' : ''}`;
    }, p.caughtUp);

  let summary: FolkeregisterSummary;
  try {
    summary = await withStore(cfg, (db) =>
      (opts.once ? folkeregisterSyncOnce : followFolkeregister)({
        db,
        source,
        rules: personRules(cfg),
        signal: terminal.signal,
        pollMs: intervalSeconds * 1000,
        onProgress: draw,
        onRetry: (e, delayMs) => terminal.retrying(e, delayMs),
      }),
    );
  } finally {
    terminal.close();
  }
  out.write(folkeregisterSummary(summary));
  if (opts.once && summary.stopped && !summary.caughtUp) {
    throw new SyncStoppedError(
      `stopped before catching up (sequence number ${summary.position}); run the same command again to resume`,
    );
  }
}

export async function printFolkeregisterStatus(cfg: KrrConfig, out: NodeJS.WritableStream): Promise<void> {
  const status = await withStore(cfg, (db) => readFolkeregisterStatus(db));
  let text =
    status.position === undefined
      ? 'position: none (never synced from Folkeregisteret)\n'
      : `position: sequence number ${status.position} (committed ${status.updatedAt})\n`;
  text += status.counts.length ? 'events:\n' : 'events: none\n';
  for (const c of status.counts) text += `  ${printable(c.type, 120)}: ${c.count}\n`;
  text += status.conflicts.length
    ? 'conflicts for the operator (the identifiers are in the audit trail):\n'
    : 'conflicts: none\n';
  for (const c of status.conflicts) {
    text += `  sekvensnummer ${c.sequence}  ${printable(c.type, 120)}: ${c.reason} (${c.recordedAt})\n`;
  }
  out.write(text);
}

export function addFolkeregisterCommands(
  program: Command,
  storeOptions: (cmd: Command) => Command,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): void {
  const group = program
    .command('folkeregister')
    .description("follow Folkeregisteret's event list: deaths and new identifiers (docs/folkeregister.md)");

  maskinportenClientOptions(
    storeOptions(group.command('sync').description("apply Folkeregisteret's events to the register"))
      .requiredOption(
        '--from <url>',
        "Folkeregisteret's base URL, e.g. https://folkeregisteret.api.skatteetaten.no (its event list: " +
          '<url>/folkeregisteret/offentlig-med-hjemmel/api/v1/hendelser/feed)',
      )
      .addOption(new Option('--token <token>', 'a bearer token, as given').env('KRR_FOLKEREGISTER_TOKEN')),
    DEFAULT_FOLKEREGISTER_SCOPES,
  )
    .option('--once', 'stop when caught up, instead of following')
    .option('--interval <seconds>', 'when caught up, how long before asking again', '10')
    .action(async (opts: FolkeregisterSyncOptions) => {
      await runFolkeregisterSync(loadConfig(opts), opts, out, err);
    });

  storeOptions(group.command('status').description('the position, the events counted, the conflicts')).action(
    async (opts: CliValues) => {
      await printFolkeregisterStatus(loadConfig(opts), out);
    },
  );
}

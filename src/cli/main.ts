// `krr`: thin commands over the config, the store and the services.

import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command, CommanderError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { devKeyFor, mintDevToken } from '../auth/dev-issuer.js';
import { loadConfig } from '../config/config.js';
import type { CliValues, KrrConfig } from '../config/config.js';
import { seedDemo } from '../demo/demo-seed.js';
import { syntheticPersons } from '../demo/synthetic-persons.js';
import { renderExportLine, renderPerson } from '../answer/answer.render.js';
import { ConfigError, ImportError, KrrError } from '../errors/errors.js';
import { PersonWriter } from '../register/person.writer.js';
import { RegisterClock } from '../register/register-clock.js';
import { exportPersons } from '../transfer/export.service.js';
import { importPersonsFromBytes } from '../transfer/import.service.js';
import { devIdentityForToken } from '../maskinporten/dev-identity.js';
import { DEFAULT_SYNC_SCOPES } from '../sync/maskinporten.client.js';
import { maskinportenClientOptions, runSync } from './sync.command.js';
import type { SyncCommandOptions } from './sync.command.js';
import { addClientCommands } from './clients.command.js';
import { addProviderCommands } from './providers.command.js';
import { addFolkeregisterCommands } from './folkeregister.command.js';
import { idportenIssuerAt } from '../idporten/idporten-issuer.js';
import { mintIdportenAccessToken } from '../idporten/idporten.tokens.js';
import { checkPersonIdentifier } from '../identifier/identifier.js';
import { personRules, withStore } from './runtime.js';
import { openReadReplicas } from '../register/open-store.js';
import { printable } from './printable.js';
import { ReadyFile } from './ready-file.js';
import { listenForStop } from './stop-signal.js';
import type { StopReason } from './stop-signal.js';
import type { RunningServer } from './serve.command.js';
import type { JobsRunOptions } from './jobs.command.js';
import type { AuditCommandOptions } from './audit.command.js';

function storeOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'embedded store directory (default ./.krr-data, or KRR_DATA_DIR)')
    .option('--database <url>', 'PostgreSQL URL (or KRR_DATABASE_URL); the production store')
    .option('--config <file>', 'JSON config file (or KRR_CONFIG)')
    .option('--no-synthetic-identifiers', 'refuse synthetic test identifiers (month + 80 / + 40)');
}

/** `--read-database`: repeatable, each URL one read replica (docs/operations.md#replicas). */
function readDatabaseOption(cmd: Command): Command {
  return cmd.option(
    '--read-database <url>',
    'a PostgreSQL streaming replica to read from; repeatable (or KRR_READ_DATABASE_URLS, comma-separated)',
    (url: string, urls: string[]) => [...urls, url],
    [] as string[],
  );
}

/** `krr import` prints at most this many notes, then how many more there were. */
const CLI_NOTES = 20;

function config(values: CliValues): KrrConfig {
  // commander sets a `--no-x` option's value to true when it is not given: only `--no-jobs`
  // itself may override KRR_JOBS and the config file.
  return loadConfig({ ...values, jobs: values.jobs === false ? false : undefined });
}

/** What commander parses for `krr serve` (beside the store options, which loadConfig reads). */
interface ServeOptions extends CliValues {
  readonly demo?: boolean;
  readonly readyFile?: string;
}

/** What commander parses for `krr generate`: both options have defaults. */
interface GenerateOptions {
  readonly persons: string;
  readonly seed: string;
}

/** What commander parses for `krr token`: --scope is required; consumer, client id, lifetime have defaults. */
interface TokenOptions extends CliValues {
  readonly scope: string;
  readonly consumer: string;
  readonly supplier?: string;
  readonly clientId: string;
  readonly pid?: string;
  readonly audience?: string;
  readonly expiresIn: string;
}

function makeProgram(out: NodeJS.WritableStream, err: NodeJS.WritableStream): Command {
  const program = new Command('krr')
    .description(
      "Kontakt- og reservasjonsregisteret: a register and lookup service compatible with Digdir's KRR",
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => out.write(s), writeErr: (s) => err.write(s) })
    .showHelpAfterError();

  readDatabaseOption(storeOptions(program.command('serve').description('serve the API')))
    .option('--dev', 'dev mode: a local token issuer (see `krr token`)')
    .option(
      '--demo',
      'seed demo persons when the register is empty (timestamps counted back from --clock when given)',
    )
    .option('--host <host>', 'address to listen on (default 127.0.0.1, or KRR_HOST)')
    .option('--port <port>', 'port to listen on (default 8080, or KRR_PORT)')
    .option(
      '--public-url <url>',
      'the base URL clients reach the server at (default http://HOST:PORT, or KRR_PUBLIC_URL)',
    )
    .option(
      '--clock <iso>',
      'freeze the register\'s "now" (the 18-month rule) at this instant at start (or KRR_CLOCK)',
    )
    .option(
      '--testdata-api',
      'serve the test-data API under /testdata (on with --dev; or KRR_TESTDATA_API, testdataApi)',
    )
    .option(
      '--no-jobs',
      "do not run the register's jobs here (or KRR_JOBS=false, jobs.enabled; docs/jobs.md)",
    )
    .addOption(new Option('--log-level <level>', 'log level (or KRR_LOG_LEVEL)'))
    .option(
      '--ready-file <path>',
      'once the server answers, write its base URL and a newline to this file; removed when it stops',
    )
    .action(async (opts: ServeOptions) => {
      const cfg = config(opts);
      const readyFile = opts.readyFile === undefined ? undefined : await ReadyFile.prepare(opts.readyFile);
      // Listened for from the start: a signal while the store is being created or migrated stops
      // the server once it is up and everything is closed in order, not halfway through.
      const stop = listenForStop();
      let server: RunningServer;
      try {
        // Loaded here, not at the top: the server (fastify, the routes, the dev issuers) is most of
        // the CLI's code, and every other command would load it for nothing (a third of a second each).
        const { startServer } = await import('./serve.command.js');
        server = await startServer(cfg, { demo: Boolean(opts.demo) });
      } catch (e) {
        stop.dispose();
        throw e;
      }
      let reason: StopReason | undefined;
      try {
        const { startupBanner } = await import('./serve.command.js');
        out.write(startupBanner(cfg, server));
        if (readyFile && !stop.requested) await readyFile.write(server.localUrl);
        reason = await stop.stopped;
      } finally {
        stop.dispose();
        // The audit trail's pending entries are written before the store closes: app.close() waits
        // for the requests in flight, and each awaits its own entry (docs/operations.md#stopping).
        // Only SIGTERM waits the drain delay: it is what a load balancer's orchestration sends,
        // while Ctrl-C at a terminal (SIGINT) or the end of `npm start` has none to wait for.
        await server.close({ drain: reason === 'SIGTERM' });
        // Last: a script that sees the file gone knows the port and the store are free.
        await readyFile?.remove(server.localUrl);
      }
      out.write(`krr stopped (${reason})\n`);
    });

  storeOptions(program.command('import').description('import persons from JSON Lines (all or nothing)'))
    .argument('[file]', 'JSON Lines file; - or nothing for standard input')
    .action(async (file: string | undefined, opts: CliValues) => {
      const cfg = config(opts);
      const fromStdin = file === undefined || file === '-';
      let total = 0;
      if (!fromStdin) {
        try {
          total = statSync(file).size;
        } catch {
          throw new ImportError(`cannot read ${file}: no such file`);
        }
      }
      const tty = Boolean((err as NodeJS.WriteStream).isTTY);
      const summary = await withStore(cfg, async (db) => {
        // The input is opened only now that the store is open; a stream holds what it reads until
        // the import, which iterates only after it has begun its transaction, asks for it.
        const input = fromStdin ? process.stdin : createReadStream(file, { highWaterMark: 1 << 20 });
        let bytes = 0;
        async function* counted(): AsyncGenerator<Buffer | string> {
          for await (const chunk of input as AsyncIterable<Buffer | string>) {
            bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
            yield chunk;
          }
        }
        const bar =
          tty && total > 0
            ? new cliProgress.SingleBar(
                {
                  format: 'importing [{bar}] {percentage}% | {persons} persons | ETA {eta}s',
                  stream: err,
                },
                cliProgress.Presets.shades_classic,
              )
            : undefined;
        bar?.start(total, 0, { persons: 0 });
        let lastTick = 0;
        return importPersonsFromBytes(new PersonWriter(db), counted(), {
          rules: personRules(cfg),
          // Lines are checked and rendered on worker threads while this thread feeds the store.
          workers: Math.min(2, availableParallelism()),
          onProgress: ({ persons }) => {
            if (bar) bar.update(bytes, { persons });
            else if (tty && Date.now() - lastTick > 1000) {
              lastTick = Date.now();
              err.write(`\rimporting: ${persons} persons`);
            }
          },
        }).finally(() => {
          bar?.stop();
          if (lastTick) err.write('\n'); // end the `\r` progress line before the summary or the error
          if (!fromStdin) input.destroy();
        });
      });
      if (summary.ignoredFields.size > 0) {
        const fields = [...summary.ignoredFields]
          .map(([f, n]) => `${printable(f, 100)} (${n} lines)`)
          .join(', ');
        err.write(`note: fields the register does not know were ignored: ${fields}\n`);
      }
      // What a tester would not expect of valid lines (docs/import-export.md#notes): said, not refused.
      const shown = summary.notes.slice(0, CLI_NOTES);
      for (const note of shown) err.write(`note: line ${note.line} ${note.pointer}: ${note.detail}\n`);
      if (summary.noteCount > shown.length)
        err.write(`note: and ${summary.noteCount - shown.length} more notes of these kinds\n`);
      const rate = summary.seconds > 0 ? Math.round(summary.persons / summary.seconds) : summary.persons;
      out.write(
        `imported ${summary.persons} persons from ${summary.lines} lines in ${summary.seconds.toFixed(1)} s (${rate} persons/s)\n`,
      );
    });

  readDatabaseOption(storeOptions(program.command('export').description('write the register as JSON Lines')))
    .argument('[file]', 'output file; - or nothing for standard output')
    .action(async (file: string | undefined, opts: CliValues) => {
      const cfg = config(opts);
      const target = file === undefined || file === '-' ? out : createWriteStream(file);
      await withStore(cfg, async (db) => {
        // Read from a fresh replica when one is configured; a page a replica cannot give (recovery
        // cancelled it, or the replica went away) is read from the primary (docs/operations.md#replicas).
        const replicas = await openReadReplicas(cfg.store, db);
        try {
          const reads = replicas ? replicas.router(db) : db;
          await pipeline(exportPersons(reads), target as Writable, { end: target !== out });
        } finally {
          await replicas?.close();
        }
      });
    });

  maskinportenClientOptions(
    storeOptions(program.command('sync').description("follow another register's change feed into this one"))
      .requiredOption(
        '--from <url>',
        "the source register's base URL (its feed: <url>/rest/v2/krr/hentEndringer)",
      )
      .addOption(
        new Option('--token <token>', 'a bearer token for the source, as given').env('KRR_SYNC_TOKEN'),
      ),
    DEFAULT_SYNC_SCOPES,
  )
    .option('--once', 'stop when caught up, instead of following')
    .option('--restart', 'start from change id 0 instead of the stored position')
    .action(async (opts: CliValues & SyncCommandOptions) => {
      const cfg = config(opts);
      await runSync(cfg, opts, out, err);
    });

  storeOptions(
    program
      .command('audit')
      .description("an operator's reading of the audit trail, as JSON Lines; itself recorded in the trail"),
  )
    .option('--person <id>', "one person's entries (the other identifiers of a bulk lookup only counted)")
    .option('--consumer <orgno>', "one consumer's entries, with what it asked for")
    .option('--from <date>', 'from this date (Oslo midnight) or instant, inclusive')
    .option('--to <date>', 'before this date (Oslo midnight) or instant')
    .action(async (opts: CliValues & AuditCommandOptions) => {
      const { runAudit } = await import('./audit.command.js');
      await runAudit(config(opts), opts, out, err);
    });

  const jobs = program
    .command('jobs')
    .description("the register's own jobs: reminders, retention (docs/jobs.md)");
  storeOptions(jobs.command('run').description('run the jobs on their schedule, or each once with --once'))
    .option('--once', 'run each job now, once, and exit (non-zero when one fails)')
    .option('--job <name...>', 'only these jobs (e.g. reminder retention)')
    .option('--no-delivery', 'do not deliver the outbox here (without --once, it is delivered)')
    .action(async (opts: CliValues & JobsRunOptions) => {
      const { runJobs } = await import('./jobs.command.js');
      await runJobs(config(opts), opts, out, err);
    });
  storeOptions(jobs.command('status').description("each job's last run and where it runs now"))
    .option('--json', 'as JSON')
    .action(async (opts: CliValues & { json?: boolean }) => {
      const { jobsStatus } = await import('./jobs.command.js');
      await jobsStatus(config(opts), opts, out);
    });

  storeOptions(program.command('seed').description('add the demo persons to the register'))
    .option(
      '--clock <iso>',
      'count the demo timestamps back from this instant, not from now: the same data every time (or KRR_CLOCK)',
    )
    .action(async (opts: CliValues) => {
      const cfg = config(opts);
      // The demo persons' timestamps follow --clock when given, else the register's clock
      // (docs/testdata.md#the-clock).
      const persons = await withStore(cfg, async (db) => {
        if (cfg.clock !== undefined) return seedDemo(db, cfg.clock);
        const clock = await RegisterClock.open(db, { follow: false });
        try {
          return await seedDemo(db, clock.now());
        } finally {
          await clock.close();
        }
      });
      for (const p of persons) out.write(`${p.person.personidentifikator}  ${p.label}\n`);
    });

  program
    .command('generate')
    .description('write a synthetic register as JSON Lines (for tests and benchmarks)')
    .option('--persons <n>', 'how many persons', '1000')
    .option('--seed <n>', 'random seed: the same seed gives the same register', '1')
    .action(async (opts: GenerateOptions) => {
      const count = Number(opts.persons);
      const seed = Number(opts.seed);
      if (!Number.isInteger(count) || count < 1)
        throw new ConfigError('--persons must be a positive whole number');
      if (!Number.isInteger(seed)) throw new ConfigError('--seed must be a whole number');
      function* lines() {
        let chunk = '';
        for (const person of syntheticPersons(count, { seed })) {
          chunk += `${renderExportLine(renderPerson(person))}\n`;
          if (chunk.length > 1 << 20) {
            yield chunk;
            chunk = '';
          }
        }
        yield chunk;
      }
      await pipeline(lines(), out as Writable, { end: false });
    });

  storeOptions(program.command('token').description('print an access token from the dev issuer (last line)'))
    .requiredOption('--scope <scopes>', 'space-separated scopes, e.g. "krr:global/kontaktinformasjon.read"')
    .option('--consumer <org>', 'consumer organisation, 0192:<orgno>', '0192:991825827')
    .option('--supplier <org>', 'supplier organisation, 0192:<orgno>')
    .option('--client-id <id>', 'client_id claim', 'krr-dev-client')
    .option(
      '--pid <identifier>',
      'the logged-in person: an ID-porten-shaped token (iss <publicUrl>/idporten)',
    )
    .option('--audience <aud>', 'aud claim')
    .option('--expires-in <seconds>', 'lifetime in seconds', '3600')
    .option('--public-url <url>', "the dev server's base URL: the token's iss is <url>/ (or KRR_PUBLIC_URL)")
    .option('--host <host>', "the dev server's host, when it is not 127.0.0.1 and no --public-url is given")
    .option('--port <port>', "the dev server's port, when no --public-url is given")
    .action(async (opts: TokenOptions) => {
      const cfg = config(opts);
      const expiresIn = Number(opts.expiresIn);
      if (!Number.isInteger(expiresIn) || expiresIn <= 0)
        throw new ConfigError('--expires-in must be a positive number of seconds');
      // The embedded store's key is a file beside the database, read without opening the database,
      // so a token can be made while a server holds the store.
      // Without host, port or public URL, the issuer is the one the dev server on the store recorded.
      const [jwk, identity] =
        cfg.store.kind === 'embedded'
          ? [await devKeyFor(cfg.store, undefined), await devIdentityForToken(cfg, undefined)]
          : await withStore(
              cfg,
              async (db) => [await devKeyFor(cfg.store, db), await devIdentityForToken(cfg, db)] as const,
            );
      if (opts.pid !== undefined) {
        const pid = String(opts.pid);
        if (!checkPersonIdentifier(pid, { allowSynthetic: cfg.allowSyntheticIdentifiers }).valid) {
          throw new ConfigError('--pid must be a valid fødselsnummer or D-nummer');
        }
        const idportenToken = await mintIdportenAccessToken(jwk, {
          issuer: idportenIssuerAt(identity.publicUrl),
          pid,
          scopes: String(opts.scope).split(/\s+/).filter(Boolean),
          clientId: opts.clientId,
          acr: 'idporten-loa-high',
          expiresInSeconds: expiresIn,
        });
        out.write(`${idportenToken}\n`);
        return;
      }
      const token = await mintDevToken(jwk, {
        issuer: identity.issuer,
        scopes: String(opts.scope).split(/\s+/).filter(Boolean),
        consumer: opts.consumer,
        supplier: opts.supplier,
        clientId: opts.clientId,
        audience: opts.audience,
        pid: opts.pid,
        expiresInSeconds: expiresIn,
      });
      out.write(`${token}\n`);
    });

  addProviderCommands(program, storeOptions, out);
  addClientCommands(program, storeOptions, out);
  addFolkeregisterCommands(program, storeOptions, out, err);
  return program;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(
  argv: readonly string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const program = makeProgram(out, err);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof KrrError) {
      err.write(`krr: ${printable(e.message)}\n`);
      return e.code === 'CONFIG' ? 2 : 1;
    }
    throw e;
  }
}

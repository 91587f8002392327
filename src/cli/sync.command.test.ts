// `krr sync` as a command (docs/change-feed.md#krr-sync): in-process through main() for the options, the
// summary, the exit codes and Maskinporten; and as real processes for what only a process shows:
// SIGTERM stops after the page in hand, and a sync killed halfway (SIGKILL) and started again ends
// with the source's export. The source is a change feed over loopback (test/support/fake-feed.ts).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, exportJWK, exportPKCS8, generateKeyPair, jwtVerify } from 'jose';
import { main } from './main.js';
import type { StoreKind } from '../store/database.js';
import { FakeFeed, FIRST_ID, persons, SOURCE_TOKEN } from '../../test/support/fake-feed.js';
import { krrArgv, ROOT } from '../../test/support/processes.js';
import { copyEmptyEmbeddedStore, freshDatabase, skipReason, STORE_KINDS } from '../../test/support/stores.js';
import { DEFAULT_SYNC_SCOPES } from '../sync/maskinporten.client.js';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

async function krr(args: readonly string[]): Promise<Run> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  err.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const code = await main(['node', 'krr', ...args], out, err);
  return { code, stdout, stderr };
}

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, KRR_LOG_LEVEL: 'silent' };
  for (const name of ['KRR_DATABASE_URL', 'KRR_DATA_DIR', 'KRR_CONFIG', 'KRR_SYNC_TOKEN']) delete env[name];
  return env;
}

/** `krr ARGS` as a process; `onStderr` sees its standard error as it comes. */
function krrProcess(args: readonly string[]) {
  const child = spawn(process.execPath, krrArgv(args), {
    cwd: ROOT,
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const done = new Promise<Run & { signal: NodeJS.Signals | null }>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`krr ${args.join(' ')} did not finish; stderr: ${stderr}`));
    }, 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
  return { child, done };
}

async function until(what: string, condition: () => boolean, timeoutMs = 90_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A fresh store as command-line arguments: a data directory (holding an empty store: what the
 * first command on a new directory makes, copied), or a PostgreSQL database of its own.
 */
async function freshCliStore(
  kind: StoreKind,
  scratch: string,
): Promise<{ args: string[]; cleanup: () => Promise<void> }> {
  if (kind === 'embedded') {
    const dataDir = await mkdtemp(join(scratch, 'data-'));
    await copyEmptyEmbeddedStore(dataDir);
    return { args: ['--data-dir', dataDir], cleanup: () => rm(dataDir, { recursive: true, force: true }) };
  }
  const database = await freshDatabase('krr_sync');
  return { args: ['--database', database.url], cleanup: database.cleanup };
}

describe('krr sync (the command, in-process)', () => {
  const feed = new FakeFeed();
  let scratch: string;
  let n = 0;
  /** A new data directory with an empty store in it (copied; see copyEmptyEmbeddedStore). */
  const dataDir = async () => {
    const dir = join(scratch, `data-${++n}`);
    await copyEmptyEmbeddedStore(dir);
    return dir;
  };

  before(async () => {
    await feed.start();
    scratch = await mkdtemp(join(tmpdir(), 'krr-sync-cli-'));
  });
  after(async () => {
    await feed.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it('--once copies the source, prints a one-line summary, and the export equals the source', async () => {
    feed.restartWith(persons(7, 1));
    const dir = await dataDir();
    const run = await krr(['sync', '--from', feed.url, '--token', SOURCE_TOKEN, '--once', '--data-dir', dir]);
    assert.equal(run.code, 0, run.stderr);
    const siste = FIRST_ID + 6;
    assert.match(
      run.stdout,
      new RegExp(
        `^synced 7 persons in 3 pages from ${feed.url.replace(/\./g, '\\.')} in [0-9.]+ s \\([0-9]+ persons/s\\): change id 0 → ${siste} of ${siste}, up to date\\n$`,
      ),
    );
    assert.equal(run.stderr, '', 'no progress when standard error is not a terminal');
    const exported = await krr(['export', '--data-dir', dir]);
    assert.equal(exported.stdout, feed.expectedExport());

    // Again: nothing new, resumed from the stored id.
    feed.put(persons(8, 2).slice(7));
    const again = await krr([
      'sync',
      '--from',
      `${feed.url}/`,
      '--token',
      SOURCE_TOKEN,
      '--once',
      '--data-dir',
      dir,
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stdout,
      new RegExp(`^synced 1 person in 1 page from .*: change id ${siste} → ${siste + 1} of`),
    );
    assert.equal((await krr(['export', '--data-dir', dir])).stdout, feed.expectedExport());
  });

  it('a 4xx from the source is a clear error and exit code 1; nothing is written', async () => {
    feed.restartWith(persons(3, 1));
    feed.refuse = { status: 403, detail: 'the token has none of the scopes this endpoint needs' };
    const dir = await dataDir();
    try {
      const run = await krr([
        'sync',
        '--from',
        feed.url,
        '--token',
        SOURCE_TOKEN,
        '--once',
        '--data-dir',
        dir,
      ]);
      assert.equal(run.code, 1);
      assert.equal(run.stdout, '');
      assert.match(
        run.stderr,
        /^krr: the source refused the change feed request: HTTP 403: the token has none of the scopes this endpoint needs \(the token lacks a scope/,
      );
      assert.ok(!run.stderr.includes(SOURCE_TOKEN));
    } finally {
      feed.refuse = undefined;
    }
    assert.equal((await krr(['export', '--data-dir', dir])).stdout, '');

    const unauthorized = await krr([
      'sync',
      '--from',
      feed.url,
      '--token',
      'nope',
      '--once',
      '--data-dir',
      dir,
    ]);
    assert.equal(unauthorized.code, 1);
    assert.match(unauthorized.stderr, /HTTP 401/);
  });

  it('bad use is a configuration error (exit code 2)', async () => {
    const dir = await dataDir();
    const cases: [string[], RegExp][] = [
      [[], /the source needs a token: give --token TOKEN, or a Maskinporten client/],
      [
        ['--token', 't', '--maskinporten-issuer', 'https://maskinporten.no/'],
        /either --token or a Maskinporten client/,
      ],
      [['--token', 't', '--client-id', 'x'], /--client-id is for a Maskinporten client/],
      [['--maskinporten-issuer', 'https://maskinporten.no/', '--key', 'k.json'], /needs --client-id/],
      [['--maskinporten-issuer', 'https://maskinporten.no/', '--client-id', 'c'], /needs --key/],
      [
        [
          '--maskinporten-issuer',
          'https://maskinporten.no/',
          '--client-id',
          'c',
          '--key',
          join(scratch, 'none.json'),
        ],
        /cannot read the key file/,
      ],
    ];
    for (const [args, message] of cases) {
      const run = await krr(['sync', '--from', feed.url, '--once', '--data-dir', dir, ...args]);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
    const badUrl = await krr(['sync', '--from', 'krr.example.no', '--token', 't', '--data-dir', dir]);
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.stderr, /--from must be a URL/);
    const missing = await krr(['sync', '--token', 't', '--data-dir', dir]);
    assert.equal(missing.code, 1); // commander's own error for a missing required option
    assert.match(missing.stderr, /required option '--from <url>' not specified/);
  });

  it('with a Maskinporten client: gets a token with the JWT-bearer grant and syncs with it', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = 'sync-client-key';
    const pemPath = join(scratch, 'client.pem');
    await writeFile(pemPath, await exportPKCS8(privateKey));
    const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256' }] });
    const scopes: string[] = [];
    let issuer = '';
    const answerToken = async (req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      res.setHeader('content-type', 'application/json');
      if (req.url === '/.well-known/oauth-authorization-server') {
        return res.end(JSON.stringify({ issuer, token_endpoint: `${issuer}token` }));
      }
      try {
        const form = new URLSearchParams(body);
        const { payload } = await jwtVerify(form.get('assertion') ?? '', jwks, {
          audience: issuer,
          issuer: 'krr-sync',
        });
        scopes.push(String(payload.scope));
        res.end(
          JSON.stringify({
            access_token: 'mp-token',
            token_type: 'Bearer',
            expires_in: 120,
            scope: payload.scope,
          }),
        );
      } catch {
        res.statusCode = 400;
        res.end(JSON.stringify({ error: 'invalid_grant', error_description: 'bad assertion' }));
      }
    };
    const maskinporten: Server = createServer((req, res) => void answerToken(req, res));
    await new Promise<void>((r) => maskinporten.listen(0, '127.0.0.1', r));
    issuer = `http://127.0.0.1:${(maskinporten.address() as AddressInfo).port}/`;
    const source = new FakeFeed('mp-token');
    await source.start();
    try {
      source.put(persons(4, 1));
      const dir = await dataDir();
      const run = await krr([
        'sync',
        '--from',
        source.url,
        '--maskinporten-issuer',
        issuer,
        '--client-id',
        'krr-sync',
        '--key',
        pemPath,
        '--kid',
        kid,
        '--once',
        '--data-dir',
        dir,
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(
        scopes,
        [DEFAULT_SYNC_SCOPES.join(' ')],
        'one token, with the default scopes, for all pages',
      );
      assert.equal((await krr(['export', '--data-dir', dir])).stdout, source.expectedExport());

      const wrongKid = await krr([
        'sync',
        '--from',
        source.url,
        '--maskinporten-issuer',
        issuer,
        '--client-id',
        'krr-sync',
        '--key',
        pemPath,
        '--kid',
        'not-registered',
        '--once',
        '--data-dir',
        dir,
      ]);
      assert.equal(wrongKid.code, 1);
      assert.match(
        wrongKid.stderr,
        /^krr: Maskinporten refused the token request \(HTTP 400\): invalid_grant: bad assertion\n$/,
      );
    } finally {
      await source.stop();
      maskinporten.closeAllConnections();
      await new Promise<void>((r) => maskinporten.close(() => r()));
    }
  });
});

for (const kind of STORE_KINDS) {
  describe(`krr sync as a process (${kind})`, { skip: await skipReason(kind) }, () => {
    const feed = new FakeFeed();
    let scratch: string;
    const cleanups: (() => Promise<void>)[] = [];
    const fresh = async () => {
      const store = await freshCliStore(kind, scratch);
      cleanups.push(store.cleanup);
      return store.args;
    };

    before(async () => {
      await feed.start();
      scratch = await mkdtemp(join(tmpdir(), 'krr-sync-proc-'));
    });
    after(async () => {
      await feed.stop();
      for (const cleanup of cleanups) await cleanup();
      await rm(scratch, { recursive: true, force: true });
    });

    it('SIGTERM while following stops after the page in hand; the next run resumes and ends equal', async () => {
      feed.restartWith(persons(30, 1));
      feed.requests = [];
      feed.delayMs = 150;
      const store = await fresh();
      try {
        const { child, done } = krrProcess(['sync', '--from', feed.url, '--token', SOURCE_TOKEN, ...store]);
        await until('two page requests', () => feed.requests.length >= 2);
        child.kill('SIGTERM');
        const run = await done;
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stderr, /stopping after the current page/);
        const asked = feed.requests.length;
        assert.match(
          run.stdout,
          new RegExp(`^synced ${asked * 3} persons in ${asked} pages .*, not caught up\\n$`),
        );
      } finally {
        feed.delayMs = 0;
      }
      const asked = feed.requests.length;
      const resumed = await krr(['sync', '--from', feed.url, '--token', SOURCE_TOKEN, '--once', ...store]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.equal(feed.requests[asked], FIRST_ID + asked * 3 - 1, 'resumed after the last committed page');
      assert.equal((await krr(['export', ...store])).stdout, feed.expectedExport());
    });

    it('killed halfway (SIGKILL) and started again, it ends with the source export', async () => {
      feed.restartWith(persons(60, 2));
      feed.requests = [];
      feed.delayMs = 40;
      const store = await fresh();
      try {
        const { child, done } = krrProcess([
          'sync',
          '--from',
          feed.url,
          '--token',
          SOURCE_TOKEN,
          '--once',
          ...store,
        ]);
        await until('six page requests', () => feed.requests.length >= 6);
        child.kill('SIGKILL');
        const run = await done;
        assert.equal(run.signal, 'SIGKILL');
      } finally {
        feed.delayMs = 0;
      }
      const resumed = await krr(['sync', '--from', feed.url, '--token', SOURCE_TOKEN, '--once', ...store]);
      assert.equal(resumed.code, 0, resumed.stderr);
      const [, startedAt] = /change id (\d+) →/.exec(resumed.stdout) ?? [];
      assert.ok(
        Number(startedAt) >= FIRST_ID + 2,
        `resumed from a committed page, not from 0: ${resumed.stdout}`,
      );
      assert.equal((await krr(['export', ...store])).stdout, feed.expectedExport());
    });
  });
}

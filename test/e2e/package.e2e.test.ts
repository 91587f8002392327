// krr as an agency's CI gets it (README.md#krr-in-your-ci), without a clone: `npm pack` here, then
// in an empty folder `npm install ./krr-*.tgz` (nothing is built there: no TypeScript, no dev
// dependencies), `npx krr serve --dev --port 0 --ready-file F`, the URL read from F, a lookup with a
// dev token, and SIGTERM. Then the installed bin started directly, as the README's CI example may,
// exits 0 on SIGTERM. The slowest test there is: it builds the package and installs it (from the
// machine's npm cache where it can).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { makeIdentifier } from '../../src/identifier/identifier.generate.js';
import {
  closed,
  plainEnv,
  portIsFree,
  PROCESS_TIMEOUT_MS,
  readyFileUrl,
  ROOT,
} from '../support/processes.js';

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'krr-package-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A command to its end, as a shell in CI runs it (no npm around it). */
function run(command: string, args: readonly string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: plainEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish in ${PROCESS_TIMEOUT_MS} ms: ${stderr}`));
    }, PROCESS_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function assertRan(r: Run, what: string): void {
  assert.equal(r.code, 0, `${what} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
}

function collect(child: ChildProcess): () => string {
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (out += s));
  return () => out;
}

/** Every file below `dir`, relative to it, except its own node_modules. */
async function filesBelow(dir: string, top = dir): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (dir === top && entry.name === 'node_modules') continue;
      found.push(...(await filesBelow(path, top)));
    } else found.push(relative(top, path));
  }
  return found;
}

/**
 * Whether dist/ is what `npm run build` would write now: every compiled file newer than its source
 * and no source without one. Then `npm pack` can skip its build (half of this test's CPU on a
 * 2-core machine); on a fresh clone `npm ci` has just built it.
 */
function distIsCurrent(): boolean {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
    );
  return walk(join(ROOT, 'src'))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .every((source) => {
      const compiled = join(ROOT, 'dist', relative(join(ROOT, 'src'), source)).replace(/\.ts$/, '.js');
      return existsSync(compiled) && statSync(compiled).mtimeMs >= statSync(source).mtimeMs;
    });
}

const SHIPPED = /^(?:package\.json|README\.md|LICENSE|bin\/krr\.js|dist\/.+\.js|docs\/.+\.md)$/;

describe('the packed tarball', () => {
  it('installs into an empty folder and serves with npx krr serve --dev --port 0 --ready-file', async () => {
    const tarballs = join(scratch, 'tarballs');
    await mkdir(tarballs);
    const current = distIsCurrent();
    const pack = ['pack', '--pack-destination', tarballs, ...(current ? ['--ignore-scripts'] : [])];
    assertRan(await run('npm', pack, ROOT), `npm ${pack.join(' ')}`);
    const [tarball, ...others] = (await readdir(tarballs)).filter((f) => /^krr-.+\.tgz$/.test(f));
    assert.ok(tarball, 'npm pack left no krr-*.tgz');
    assert.deepEqual(others, []);

    // An agency's project: its own package.json, so that npm installs here and nowhere above.
    const agency = join(scratch, 'agency');
    await mkdir(agency);
    await writeFile(
      join(agency, 'package.json'),
      JSON.stringify({ name: 'agency-tests', version: '1.0.0', private: true }),
    );
    assertRan(
      await run(
        'npm',
        ['install', join(tarballs, tarball), '--prefer-offline', '--no-audit', '--no-fund'],
        agency,
      ),
      'npm install of the tarball',
    );

    // The package holds what runs and what documents it, nothing else: no tests, no sources.
    const installed = join(agency, 'node_modules', 'krr');
    const files = await filesBelow(installed);
    assert.deepEqual(
      files.filter((f) => !SHIPPED.test(f) || f.endsWith('.test.js')),
      [],
      'files that do not belong in the package',
    );
    for (const f of ['dist/cli/bin.js', 'dist/transfer/import.worker.js', 'LICENSE', 'docs/operations.md'])
      assert.ok(files.includes(f), `the package lacks ${f}`);
    // Nothing was built at install time: nothing to build with was installed.
    assert.equal(existsSync(join(agency, 'node_modules', 'typescript')), false);

    const readyFile = join(agency, 'krr.url');
    const server = spawn('npx', ['krr', 'serve', '--dev', '--port', '0', '--ready-file', readyFile], {
      cwd: agency,
      env: plainEnv({ KRR_LOG_LEVEL: 'silent' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const serverDone = closed(server);
    const output = collect(server);
    let url: string;
    try {
      url = await readyFileUrl(readyFile, server, output);
      assert.equal((await fetch(`${url}/health/ready`)).status, 200);

      const token = await run(
        'npx',
        ['krr', 'token', '--scope', 'krr:global/kontaktinformasjon.read'],
        agency,
      );
      assertRan(token, 'npx krr token');
      const id = makeIdentifier({ day: 9, month: 10, year: 91, synthetic: 'tenor' });
      const answer = await fetch(`${url}/rest/v2/personer`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token.stdout.trimEnd().split('\n').at(-1)}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ personidentifikatorer: [id], inkluderIkkeRegistrerte: true }),
      });
      assert.equal(answer.status, 200, await answer.clone().text());
      const body = (await answer.json()) as { personer: { personidentifikator: string; status: string }[] };
      assert.deepEqual(
        body.personer.map((p) => [p.personidentifikator, p.status]),
        [[id, 'IKKE_REGISTRERT']],
      );
    } finally {
      // `kill $!` after `npx krr serve ... &`: the signal reaches npx; krr stops by itself.
      server.kill('SIGTERM');
    }
    await serverDone;
    assert.match(output(), /krr stopped \(/, output());
    assert.equal(existsSync(readyFile), false, 'the ready file is still there');
    assert.equal(await portIsFree(Number(new URL(url).port)), true, `${url} is still held`);

    // The bin itself (no npx between): SIGTERM, exit 0. It opens the same store: the lock was released.
    const direct = spawn(
      join(agency, 'node_modules', '.bin', 'krr'),
      ['serve', '--dev', '--port', '0', '--ready-file', readyFile],
      { cwd: agency, env: plainEnv({ KRR_LOG_LEVEL: 'silent' }), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const directDone = closed(direct);
    const directOutput = collect(direct);
    await readyFileUrl(readyFile, direct, directOutput);
    direct.kill('SIGTERM');
    const { code, signal } = await directDone;
    assert.equal(code, 0, `krr exited ${code} (${signal}): ${directOutput()}`);
    assert.equal(existsSync(readyFile), false);
  });
});

// The package as it is published: a copy of packages/krr-client (without its tests) builds with its
// own tsconfig into dist/ (JavaScript and type declarations), its packed files are dist/, the README
// and package.json and nothing else, its only dependency is jose, and the built entry point loads.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../../../test/support/processes.js';

const PACKAGE = join(ROOT, 'packages', 'krr-client');

describe('the krr-client package', () => {
  let scratch = '';

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'krr-client-package-'));
    for (const file of ['package.json', 'README.md', 'tsconfig.json', 'tsconfig.build.json']) {
      await cp(join(PACKAGE, file), join(scratch, file));
    }
    await mkdir(join(scratch, 'src'));
    for (const file of await readdir(join(PACKAGE, 'src'))) {
      if (file.endsWith('.ts') && !file.endsWith('.test.ts'))
        await cp(join(PACKAGE, 'src', file), join(scratch, 'src', file));
    }
    // typescript, @types/node and jose as an install would give them.
    await symlink(join(ROOT, 'node_modules'), join(scratch, 'node_modules'), 'dir');
  });

  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('builds with its own tsc, packs only dist/, README and package.json, and loads', async () => {
    const built = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: scratch,
        encoding: 'utf8',
      },
    );
    assert.equal(built.status, 0, `tsc: ${built.stdout}${built.stderr}`);
    const dist = await readdir(join(scratch, 'dist'));
    assert.ok(dist.includes('index.js') && dist.includes('index.d.ts'), dist.join(' '));
    const types = await readFile(join(scratch, 'dist', 'krr.client.d.ts'), 'utf8');
    assert.match(types, /export declare function createKrrClient\(options: KrrClientOptions\): KrrClient;/);
    for (const file of dist) assert.ok(!file.includes('.test.'), `no test in dist/: ${file}`);

    const packed = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: scratch,
      encoding: 'utf8',
    });
    assert.equal(packed.status, 0, packed.stderr);
    const [info] = JSON.parse(packed.stdout) as { name: string; files: { path: string }[] }[];
    assert.equal(info!.name, 'krr-client');
    const paths = info!.files.map((f) => f.path).sort();
    assert.ok(
      paths.includes('README.md') && paths.includes('package.json') && paths.includes('dist/index.d.ts'),
    );
    assert.deepEqual(
      paths.filter(
        (p) => !/^dist\/[\w.-]+\.(js|d\.ts)$/.test(p) && p !== 'README.md' && p !== 'package.json',
      ),
      [],
      'nothing but dist/, the README and package.json',
    );

    const manifest = JSON.parse(await readFile(join(scratch, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      type: string;
    };
    assert.deepEqual(Object.keys(manifest.dependencies), ['jose']);
    assert.equal(manifest.type, 'module');

    const loaded = (await import(pathToFileURL(join(scratch, 'dist', 'index.js')).href)) as Record<
      string,
      unknown
    >;
    assert.equal(typeof loaded.createKrrClient, 'function');
    assert.equal(typeof loaded.KrrHttpError, 'function');
    assert.equal(loaded.BATCH_SIZE, 1000);
  });
});

// `krr clients add` reads the key file it is given with a bound on its size: `--jwk /dev/zero` or a
// path to something huge is an error in a moment, not memory running out. In-process through
// main(), on the embedded store (the clients' file; no database is opened).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { exportJWK } from 'jose';
import { main } from './main.js';

async function krr(args: readonly string[]) {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  err.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const code = await main(['node', 'krr', ...args], out, err);
  return { code, stdout, stderr };
}

describe('krr clients add: the key file', () => {
  let dir: string;
  let jwk: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'krr-clients-'));
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    jwk = JSON.stringify({ ...(await exportJWK(publicKey)), kid: 'k1' });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const add = (clientId: string, file: string) =>
    krr([
      'clients',
      'add',
      '--data-dir',
      join(dir, 'data'),
      '--client-id',
      clientId,
      '--orgno',
      '991825827',
      '--scopes',
      'krr:global/kontaktinformasjon.read',
      '--jwk',
      file,
    ]);

  it('takes a key file of kilobytes', async () => {
    const file = join(dir, 'key.json');
    await writeFile(file, jwk);
    const res = await add('small-file', file);
    assert.equal(res.code, 0, res.stderr);
  });

  it('refuses a key file larger than 1 MiB, without reading it all or quoting it', async () => {
    // A valid JWK followed by 2 MiB of white space: JSON.parse would take it.
    const file = join(dir, 'huge.json');
    await writeFile(file, jwk + ' '.repeat(2 * 1024 * 1024));
    const res = await add('huge-file', file);
    assert.notEqual(res.code, 0, 'a 2 MiB key file is refused');
    assert.match(res.stderr, /larger than 1048576 bytes/);
    assert.ok(!res.stderr.includes('"kty"'), 'the content is not quoted');
  });

  it('refuses /dev/zero at once', { skip: !existsSync('/dev/zero') && 'no /dev/zero' }, async () => {
    const started = Date.now();
    const res = await add('dev-zero', '/dev/zero');
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /larger than/);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  });
});

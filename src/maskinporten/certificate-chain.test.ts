// The operator's trusted client CA files (trustedClientCas, docs/tokens.md#business-certificates)
// are read as every file the operator names is (docs/operations.md#configuration): up to 1 MiB, so
// a path to `/dev/zero` or to something huge stops the start with a message, instead of memory
// running out.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors/errors.js';
import { makeCa } from '../../test/support/test-certificates.js';
import { loadTrustedCas } from './certificate-chain.js';

describe('loadTrustedCas', () => {
  let dir: string;
  let pem: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'krr-cas-'));
    pem = (await makeCa('Trusted CA')).pem;
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the CA certificates of a PEM file', async () => {
    const file = join(dir, 'ca.pem');
    await writeFile(file, `${pem}${pem}`);
    assert.equal(loadTrustedCas([file]).length, 2);
  });

  it('refuses a CA file larger than 1 MiB, without quoting it', async () => {
    const file = join(dir, 'huge.pem');
    await writeFile(file, pem + '\n'.repeat(2 * 1024 * 1024));
    assert.throws(
      () => loadTrustedCas([file]),
      (err: unknown) =>
        err instanceof ConfigError &&
        /larger than 1048576 bytes/.test(err.message) &&
        !err.message.includes('BEGIN'),
    );
  });

  it('refuses /dev/zero at once', { skip: !existsSync('/dev/zero') && 'no /dev/zero' }, () => {
    assert.throws(() => loadTrustedCas(['/dev/zero']), /larger than/);
  });

  it('says which file cannot be read', () => {
    assert.throws(() => loadTrustedCas([join(dir, 'missing.pem')]), /missing\.pem: ENOENT/);
  });
});

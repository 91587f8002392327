// `krr token --pid`: an ID-porten-shaped token from the dev key, accepted by the verifier a
// `krr serve --dev` on the same store and port builds.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { devKeyFromDataDir, publicJwk } from '../../src/auth/dev-issuer.js';
import { TokenVerifier } from '../../src/auth/token-verifier.js';
import { main } from '../../src/cli/main.js';
import { makeIdentifier } from '../../src/identifier/identifier.generate.js';

const PID = makeIdentifier({ day: 24, month: 12, year: 80 });
const SCOPE = 'krr:user/kontaktinformasjon.read krr:user/spraak.write';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let outText = '';
  let errText = '';
  out.on('data', (c: Buffer) => (outText += c.toString()));
  err.on('data', (c: Buffer) => (errText += c.toString()));
  const code = await main(['node', 'krr', ...args], out, err);
  return { code, out: outText, err: errText };
}

describe('krr token --pid', () => {
  let dir: string;
  const env = { ...process.env };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'krr-token-'));
    for (const name of ['KRR_HOST', 'KRR_PORT', 'KRR_CONFIG', 'KRR_DATABASE_URL']) delete process.env[name];
  });
  after(async () => {
    Object.assign(process.env, env);
    await rm(dir, { recursive: true, force: true });
  });

  it('prints an ID-porten-shaped token: iss <publicUrl>/idporten, pid, acr, scope', async () => {
    const { code, out, err } = await run(['token', '--data-dir', dir, '--pid', PID, '--scope', SCOPE]);
    assert.equal(code, 0, err);
    const token = out.trimEnd().split('\n').at(-1)!;
    const claims = decodeJwt(token);
    assert.equal(claims.iss, 'http://127.0.0.1:8080/idporten');
    assert.equal(claims.pid, PID);
    assert.equal(claims.acr, 'idporten-loa-high');
    assert.equal(claims.scope, SCOPE);
    assert.equal(claims.token_type, 'Bearer');
    assert.equal(typeof claims.jti, 'string');
    assert.equal(claims.consumer, undefined);
    const key = await devKeyFromDataDir(dir);
    assert.equal(decodeProtectedHeader(token).kid, key.kid);

    const verifier = new TokenVerifier({
      trustedIssuers: [],
      clockSkewSeconds: 30,
      dev: {
        issuer: 'http://127.0.0.1:8080/',
        idportenIssuer: 'http://127.0.0.1:8080/idporten',
        publicJwk: publicJwk(key),
      },
    });
    const verified = await verifier.verify(token);
    assert.equal(verified.pid, PID);
    assert.equal(verified.issuerKind, 'idporten');
    assert.deepEqual(verified.scopes, SCOPE.split(' '));
  });

  it('names the issuer of a server on another port', async () => {
    const { code, out } = await run([
      'token',
      '--data-dir',
      dir,
      '--port',
      '9191',
      '--pid',
      PID,
      '--scope',
      SCOPE,
    ]);
    assert.equal(code, 0);
    assert.equal(decodeJwt(out.trim()).iss, 'http://127.0.0.1:9191/idporten');
  });

  it('refuses an invalid identifier', async () => {
    const { code, out, err } = await run([
      'token',
      '--data-dir',
      dir,
      '--pid',
      '12345678901',
      '--scope',
      SCOPE,
    ]);
    assert.equal(code, 2);
    assert.equal(out, '');
    assert.match(err, /--pid/);
    assert.ok(!err.includes('12345678901'), 'the identifier is not echoed');
  });
});

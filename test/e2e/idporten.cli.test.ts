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
import { startServer } from '../../src/cli/serve.command.js';
import type { RunningServer } from '../../src/cli/serve.command.js';
import { loadConfig } from '../../src/config/config.js';
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

// Both shapes against a real `krr serve --dev` over HTTP (docs/tokens.md#issuer-kinds): each is
// taken by its own endpoints and refused (403) by the other's.
describe('krr token and krr token --pid against a dev server', () => {
  let dir: string;
  let server: RunningServer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'krr-token-serve-'));
    const config = loadConfig(
      { dev: true, dataDir: dir, host: '127.0.0.1', port: 0, logLevel: 'silent' },
      {},
    );
    server = await startServer(config, { demo: false });
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function token(extra: string[], scope: string): Promise<string> {
    const port = String(server.config.http.port);
    const { code, out, err } = await run([
      'token',
      '--data-dir',
      dir,
      '--port',
      port,
      ...extra,
      '--scope',
      scope,
    ]);
    assert.equal(code, 0, err);
    return out.trimEnd().split('\n').at(-1)!;
  }
  const call = (method: 'GET' | 'POST', path: string, bearer: string, body?: unknown) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('each token works on its endpoints and is refused on the other kind', async () => {
    const system = await token([], 'krr:global/kontaktinformasjon.read krr:global/hentendring.read');
    const person = await token(['--pid', PID], 'krr:user/kontaktinformasjon.read');
    // Global scopes in an ID-porten token give it nothing on the Maskinporten endpoints.
    const personWithGlobal = await token(['--pid', PID], 'krr:global/kontaktinformasjon.read');
    const lookup = { personidentifikatorer: [PID] };

    assert.equal((await call('POST', '/rest/v2/personer', system, lookup)).status, 200);
    assert.equal(
      (await call('POST', '/rest/v2/krr/hentEndringer', system, { fraEndringsId: 0 })).status,
      200,
    );
    const me = await call('GET', '/rest/v1/person', person);
    assert.equal(me.status, 200);
    assert.equal(((await me.json()) as { personidentifikator: string }).personidentifikator, PID);

    assert.equal((await call('GET', '/rest/v1/person', system)).status, 403);
    assert.equal((await call('POST', '/rest/v2/personer', personWithGlobal, lookup)).status, 403);
    assert.equal((await call('POST', '/rest/v1/personer', personWithGlobal, lookup)).status, 403);
    assert.equal(
      (await call('POST', '/rest/v2/krr/hentEndringer', personWithGlobal, { fraEndringsId: 0 })).status,
      403,
    );
  });
});

// The Maskinporten client (docs/tokens.md#the-assertion, JWT-bearer grant) against a real token server on
// loopback, built here with node:http: it publishes its metadata, verifies every assertion with jose
// (signature by the registered key under its kid, aud = its issuer, iss = the client id, exp - iat
// at most 120 s, a jti never seen before) and hands out tokens. Discovery, caching, renewal,
// invalidate(), keys as JWK and PEM, and errors that never carry the assertion.

import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, exportJWK, exportPKCS8, generateKeyPair, jwtVerify } from 'jose';
import type { JWK } from 'jose';
import { ConfigError } from '../errors/errors.js';
import {
  DEFAULT_SYNC_SCOPES,
  loadSigningKey,
  MaskinportenClient,
  parseSigningKey,
} from './maskinporten.client.js';
import type { MaskinportenOptions, SigningKey } from './maskinporten.client.js';
import { MaskinportenError } from './sync.errors.js';

const CLIENT_ID = 'b5e5f0b1-3c7a-4f2e-9f55-krr-sync-test';
const KID = 'krr-sync-test-key';

interface TokenRequest {
  readonly assertion: string;
  readonly claims: Record<string, unknown>;
}

/** A small Maskinporten: metadata, /token with the JWT-bearer grant, configurable answers. */
class TokenServer {
  server!: Server;
  base = '';
  /** The issuer as it names itself: with a trailing slash, like Digdir's. */
  issuer = '';
  jwks: JWK[] = [];
  expiresIn = 120;
  /** When set, /token answers this instead of a token (the assertion is still checked first). */
  failWith: { status: number; body: unknown } | undefined;
  /** Publish only /.well-known/openid-configuration. */
  openIdOnly = false;
  /** When set, every answer is a 307 to this base URL (path kept). */
  redirectTo: string | undefined;
  metadataRequests: string[] = [];
  tokenRequests: TokenRequest[] = [];
  private seenJti = new Set<string>();
  private issued = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'server_error', error_description: String(err) }));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.issuer = `${this.base}/`;
  }

  reset(): void {
    this.expiresIn = 120;
    this.failWith = undefined;
    this.openIdOnly = false;
    this.redirectTo = undefined;
    this.metadataRequests = [];
    this.tokenRequests = [];
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '';
    if (this.redirectTo !== undefined) {
      res.writeHead(307, { location: `${this.redirectTo}${path}` });
      return void res.end();
    }
    if (req.method === 'GET' && path.startsWith('/.well-known/')) {
      this.metadataRequests.push(path);
      const oauth = path === '/.well-known/oauth-authorization-server';
      const oidc = path === '/.well-known/openid-configuration';
      if ((oauth && !this.openIdOnly) || oidc) {
        return this.json(res, 200, {
          issuer: this.issuer,
          token_endpoint: `${this.base}/token`,
          jwks_uri: `${this.base}/jwk`,
          grant_types_supported: ['urn:ietf:params:oauth:grant-type:jwt-bearer'],
        });
      }
      return this.json(res, 404, { error: 'not_found' });
    }
    if (req.method === 'POST' && (path === '/token' || path === '/token/')) {
      let body = '';
      for await (const chunk of req) body += chunk;
      if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
        return this.json(res, 400, { error: 'invalid_request', error_description: 'form body expected' });
      }
      const form = new URLSearchParams(body);
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
        return this.json(res, 400, { error: 'unsupported_grant_type' });
      }
      const assertion = form.get('assertion') ?? '';
      let claims: Record<string, unknown>;
      try {
        const verified = await jwtVerify(assertion, createLocalJWKSet({ keys: this.jwks }), {
          audience: this.issuer,
          issuer: CLIENT_ID,
          algorithms: ['RS256', 'RS384', 'RS512'],
          requiredClaims: ['iat', 'exp', 'jti', 'scope'],
        });
        claims = verified.payload;
        if (!verified.protectedHeader.kid) throw new Error('no kid');
        const lifetime = (claims.exp as number) - (claims.iat as number);
        if (lifetime <= 0 || lifetime > 120) throw new Error(`exp - iat is ${lifetime}`);
        if (this.seenJti.has(claims.jti as string)) throw new Error('jti reused');
        this.seenJti.add(claims.jti as string);
      } catch (err) {
        // Like a careless server, echo what it got: the client must not pass it on.
        return this.json(res, 400, {
          error: 'invalid_grant',
          error_description: `Invalid assertion (${(err as Error).message}): ${assertion}`,
        });
      }
      this.tokenRequests.push({ assertion, claims });
      if (this.failWith) return this.json(res, this.failWith.status, this.failWith.body);
      this.issued++;
      return this.json(res, 200, {
        access_token: `access-token-${this.issued}`,
        token_type: 'Bearer',
        expires_in: this.expiresIn,
        scope: claims.scope,
      });
    }
    this.json(res, 404, { error: 'not_found' });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('MaskinportenClient (JWT-bearer grant against a real token server)', () => {
  const mp = new TokenServer();
  let dir: string;
  let jwkPath: string;
  let pemPath: string;
  let signingKey: SigningKey;
  let unregisteredKey: SigningKey;

  before(async () => {
    await mp.start();
    const registered = await generateKeyPair('RS256', { extractable: true });
    const other = await generateKeyPair('RS256', { extractable: true });
    const privateJwk = { ...(await exportJWK(registered.privateKey)), kid: KID, alg: 'RS256' };
    mp.jwks = [{ ...(await exportJWK(registered.publicKey)), kid: KID, alg: 'RS256', use: 'sig' }];
    dir = await mkdtemp(join(tmpdir(), 'krr-maskinporten-'));
    jwkPath = join(dir, 'client.jwk.json');
    pemPath = join(dir, 'client.pem');
    await writeFile(jwkPath, JSON.stringify(privateJwk));
    await writeFile(pemPath, await exportPKCS8(registered.privateKey));
    signingKey = await loadSigningKey(jwkPath);
    unregisteredKey = parseSigningKey(
      JSON.stringify({ ...(await exportJWK(other.privateKey)), kid: 'not-registered' }),
      'other',
    );
  });
  after(async () => {
    await mp.stop();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => mp.reset());

  const client = (extra: Partial<MaskinportenOptions> = {}) =>
    new MaskinportenClient({
      issuer: mp.issuer,
      clientId: CLIENT_ID,
      signingKey,
      scopes: DEFAULT_SYNC_SCOPES,
      ...extra,
    });

  it('finds the token endpoint through the metadata and gets a token with a valid assertion', async () => {
    const c = client();
    assert.equal(await c.token(), 'access-token-1');
    // The issuer's trailing slash is not doubled before .well-known.
    assert.deepEqual(mp.metadataRequests, ['/.well-known/oauth-authorization-server']);
    assert.equal(mp.tokenRequests.length, 1);
    const { claims, assertion } = mp.tokenRequests[0]!;
    assert.equal(claims.aud, mp.issuer, 'aud is the issuer as configured, trailing slash included');
    assert.equal(claims.iss, CLIENT_ID);
    assert.equal(claims.scope, DEFAULT_SYNC_SCOPES.join(' '));
    assert.equal((claims.exp as number) - (claims.iat as number), 120);
    assert.match(claims.jti as string, /^[0-9a-f-]{36}$/);
    assert.equal(claims.resource, undefined);
    const header = JSON.parse(Buffer.from(assertion.split('.')[0]!, 'base64url').toString()) as {
      kid?: string;
    };
    assert.equal(header.kid, KID);
    assert.deepEqual(c.lastToken, { scope: DEFAULT_SYNC_SCOPES.join(' '), expiresIn: 120 });
  });

  it('also takes an issuer written without its trailing slash, and sends resource when given', async () => {
    const c = client({ issuer: mp.base, audience: mp.issuer, resource: 'https://krr.example.test/' });
    await c.token();
    assert.deepEqual(mp.metadataRequests, ['/.well-known/oauth-authorization-server']);
    assert.equal(mp.tokenRequests[0]!.claims.resource, 'https://krr.example.test/');
  });

  it('takes a metadata URL instead of the issuer (aud from the metadata), and falls back to openid-configuration', async () => {
    const byMetadata = new MaskinportenClient({
      metadataUrl: `${mp.base}/.well-known/oauth-authorization-server`,
      clientId: CLIENT_ID,
      signingKey,
      scopes: ['krr:global/hentendring.read'],
    });
    assert.match(await byMetadata.token(), /^access-token-/);
    assert.equal(mp.tokenRequests[0]!.claims.aud, mp.issuer);

    mp.openIdOnly = true;
    mp.metadataRequests = [];
    await client().token();
    assert.deepEqual(mp.metadataRequests, [
      '/.well-known/oauth-authorization-server',
      '/.well-known/openid-configuration',
    ]);
  });

  it('keeps the token: repeated and simultaneous calls make one request, and discovery happens once', async () => {
    const c = client();
    const [a, b, d] = await Promise.all([c.token(), c.token(), c.token()]);
    assert.equal(a, b);
    assert.equal(a, d);
    assert.equal(await c.token(), a);
    assert.equal(mp.tokenRequests.length, 1);
    assert.equal(c.tokensFetched, 1);
    c.invalidate();
    await c.token();
    assert.equal(mp.metadataRequests.length, 1);
  });

  it('renews the token 30 s before it expires (clock moved)', async () => {
    let now = Date.now(); // the server checks exp against its own clock
    const c = client({ now: () => now });
    const first = await c.token();
    now += 89_000;
    assert.equal(await c.token(), first, 'still more than 30 s left');
    now += 2_000;
    const second = await c.token();
    assert.notEqual(second, first, 'less than 30 s left: renewed');
    assert.equal(mp.tokenRequests.length, 2);
    // The new assertion is made at the new "now".
    assert.equal(mp.tokenRequests[1]!.claims.iat, Math.floor(now / 1000));
  });

  it('renews a short-lived token once it runs out (real time)', async () => {
    mp.expiresIn = 1; // renewed at half its life
    const c = client();
    const first = await c.token();
    assert.equal(await c.token(), first);
    await new Promise((r) => setTimeout(r, 600));
    const second = await c.token();
    assert.notEqual(second, first);
    assert.equal(mp.tokenRequests.length, 2);
    assert.notEqual(mp.tokenRequests[0]!.claims.jti, mp.tokenRequests[1]!.claims.jti);
  });

  it('invalidate() forces a new token on the next call', async () => {
    const c = client();
    const first = await c.token();
    c.invalidate();
    const second = await c.token();
    assert.notEqual(second, first);
    assert.equal(mp.tokenRequests.length, 2);
  });

  it('signs with a PEM (PKCS#8) key and --kid', async () => {
    const c = client({ signingKey: await loadSigningKey(pemPath, KID) });
    assert.match(await c.token(), /^access-token-/);
    assert.equal(mp.tokenRequests.length, 1);
  });

  it('an OAuth error answer becomes a clear error that holds neither the assertion nor any JWT', async () => {
    const c = client({ signingKey: unregisteredKey });
    const err = await c.token().then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof MaskinportenError);
    assert.equal(err.retryable, false);
    assert.match(
      err.message,
      /Maskinporten refused the token request \(HTTP 400\): invalid_grant: Invalid assertion/,
    );
    assert.doesNotMatch(err.message, /eyJ/, 'no part of the assertion');

    // A refusal after a valid assertion: the description is passed on, the assertion is not.
    mp.failWith = {
      status: 400,
      body: { error: 'invalid_scope', error_description: 'Scope krr:global/hentendring.read is not allowed' },
    };
    const refused = await client()
      .token()
      .catch((e: unknown) => e as MaskinportenError);
    assert.ok(refused instanceof MaskinportenError);
    assert.equal(
      refused.message,
      'Maskinporten refused the token request (HTTP 400): invalid_scope: Scope krr:global/hentendring.read is not allowed',
    );
    assert.ok(!refused.message.includes(mp.tokenRequests.at(-1)!.assertion));
  });

  it('Maskinporten unavailable (5xx, or not listening) is retryable; a token answer without access_token is not', async () => {
    mp.failWith = { status: 503, body: { message: 'maintenance' } };
    const unavailable = await client()
      .token()
      .catch((e: unknown) => e as MaskinportenError);
    assert.ok(unavailable instanceof MaskinportenError);
    assert.equal(unavailable.retryable, true);
    assert.match(unavailable.message, /HTTP 503/);

    mp.failWith = { status: 200, body: { token_type: 'Bearer', expires_in: 120 } };
    const empty = await client()
      .token()
      .catch((e: unknown) => e as MaskinportenError);
    assert.ok(empty instanceof MaskinportenError);
    assert.equal(empty.retryable, false);
    assert.match(empty.message, /no access_token/);

    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const down = await client({ issuer: `http://127.0.0.1:${port}/` })
      .token()
      .catch((e: unknown) => e as MaskinportenError);
    assert.ok(down instanceof MaskinportenError);
    assert.equal(down.retryable, true);
    assert.match(down.message, /cannot fetch Maskinporten's metadata/);
  });

  it(
    'a metadata or token endpoint that takes the request and never answers fails, retryable, after the timeout',
    { timeout: 30_000 },
    async () => {
      // Answers the metadata (pointing at its own token endpoint) when asked to, never the token.
      let answerMetadata = false;
      const silent = createServer((req, res) => {
        if (answerMetadata && req.url?.startsWith('/.well-known/')) {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ issuer: `${base}/`, token_endpoint: `${base}/token` }));
        }
      });
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      const base = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      try {
        for (const [metadata, reason] of [
          [false, /^cannot fetch Maskinporten's metadata from .*: no answer within 500 ms$/],
          [true, /^cannot reach Maskinporten's token endpoint .*: no answer within 500 ms$/],
        ] as const) {
          answerMetadata = metadata;
          const err = await client({ issuer: `${base}/`, timeoutMs: 500 })
            .token()
            .catch((e: unknown) => e as MaskinportenError);
          assert.ok(err instanceof MaskinportenError, String(err));
          assert.equal(err.retryable, true);
          assert.match(err.message, reason);
        }
      } finally {
        silent.closeAllConnections();
        await new Promise<void>((r) => silent.close(() => r()));
      }
    },
  );

  it('follows no redirect: neither the metadata nor the assertion reaches another server', async () => {
    const elsewhere = new TokenServer();
    await elsewhere.start();
    elsewhere.jwks = mp.jwks;
    try {
      // The metadata redirects.
      mp.redirectTo = elsewhere.base;
      await assert.rejects(client().token(), (e: unknown) => e instanceof MaskinportenError);
      assert.deepEqual(elsewhere.metadataRequests, []);
      // The metadata is genuine, the token endpoint redirects (307 would resend the form).
      const c = client();
      mp.redirectTo = undefined;
      await c.token();
      c.invalidate();
      mp.redirectTo = elsewhere.base;
      await assert.rejects(c.token(), (e: unknown) => e instanceof MaskinportenError);
      assert.deepEqual(elsewhere.tokenRequests, []);
    } finally {
      await elsewhere.stop();
    }
  });

  it('a failed discovery is tried again on the next call', async () => {
    mp.openIdOnly = true;
    const c = new MaskinportenClient({
      metadataUrl: `${mp.base}/.well-known/oauth-authorization-server`,
      clientId: CLIENT_ID,
      signingKey,
      scopes: DEFAULT_SYNC_SCOPES,
    });
    await assert.rejects(c.token(), MaskinportenError);
    mp.openIdOnly = false;
    assert.match(await c.token(), /^access-token-/);
  });

  it('key files: a JWK without kid needs --kid, a PEM needs --kid, other content is refused', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = await exportJWK(privateKey);
    assert.throws(
      () => parseSigningKey(JSON.stringify(jwk), 'k.json'),
      /has no kid: give the key's id with --kid/,
    );
    assert.equal(parseSigningKey(JSON.stringify(jwk), 'k.json', 'given').kid, 'given');
    assert.equal(parseSigningKey(JSON.stringify({ ...jwk, kid: 'a', alg: 'RS512' }), 'k.json').alg, 'RS512');
    assert.equal(
      parseSigningKey(JSON.stringify({ keys: [{ ...jwk, kid: 'in-set' }] }), 'set.json').kid,
      'in-set',
    );
    const pem = await exportPKCS8(privateKey);
    assert.throws(() => parseSigningKey(pem, 'k.pem'), ConfigError);
    const publicJwk = JSON.stringify(await exportJWK(publicKey));
    assert.throws(() => parseSigningKey(publicJwk, 'pub.json'), /private RSA JWK/);
    assert.throws(() => parseSigningKey('hello', 'x'), /neither a JWK nor a PEM/);
    await assert.rejects(loadSigningKey(join(dir, 'missing.json')), /cannot read the key file/);
  });
});

// Tokens from the resource server's side (docs/tokens.md#resource-server, docs/tokens.md#key-fetching):
// TokenVerifier against a real issuer served over loopback with node:http (metadata + JWKS), with tokens
// built here with jose. Every refusal is an InvalidTokenError (401) whose message holds no part of the token;
// an issuer that cannot be reached is an IssuerUnavailableError (503), quickly.

import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactSign, exportJWK, exportSPKI, generateKeyPair, importJWK, SignJWT, UnsecuredJWT } from 'jose';
import type { CryptoKey, JWK, JWTPayload } from 'jose';
import { ConfigError, InvalidTokenError, IssuerUnavailableError, KrrError } from '../errors/errors.js';
import { MAX_CLOCK_SKEW_SECONDS } from '../config/config.js';
import {
  JWKS_PATH,
  maskinportenClaims,
  METADATA_PATH,
  startFakeIssuer,
} from '../../test/support/fake-issuer.js';
import type { FakeIssuer as Idp } from '../../test/support/fake-issuer.js';
import type { TrustedIssuer } from '../config/config.js';
import { devKeyFromDataDir, mintDevToken, publicJwk } from './dev-issuer.js';
import { MAX_TOKEN_BYTES, TokenVerifier } from './token-verifier.js';
import type { TokenVerifierOptions } from './token-verifier.js';
import type { AccessToken } from '../access/access-token.js';

const SKEW = 30;
const DATA_SCOPE = 'krr:global/kontaktinformasjon.read';
const AUDIENCE = 'https://krr.example.test/';
const now = () => Math.floor(Date.now() / 1000);

// ---------------------------------------------------------------------------------------------
// Keys, generated once for the file. One RSA key pair is published under three kids (one per
// RS algorithm, as Maskinporten's JWKS names an `alg` per key) and one kid without `alg`; a second
// key pair is never published.

interface Keys {
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
  readonly spkiPem: string;
  readonly sign: Record<'RS256' | 'RS384' | 'RS512', CryptoKey>;
  readonly untrusted: CryptoKey;
}

async function makeKeys(): Promise<Keys> {
  const [trusted, other] = await Promise.all([
    generateKeyPair('RS256', { extractable: true }),
    generateKeyPair('RS256', { extractable: true }),
  ]);
  const privateJwk = await exportJWK(trusted.privateKey);
  const pub = await exportJWK(trusted.publicKey);
  const sign = {
    RS256: (await importJWK(privateJwk, 'RS256')) as CryptoKey,
    RS384: (await importJWK(privateJwk, 'RS384')) as CryptoKey,
    RS512: (await importJWK(privateJwk, 'RS512')) as CryptoKey,
  };
  return {
    privateJwk,
    publicJwk: pub,
    spkiPem: await exportSPKI(trusted.publicKey),
    sign,
    untrusted: other.privateKey,
  };
}

let keys: Keys;

function jwks(): { keys: JWK[] } {
  const pub = keys.publicJwk;
  return {
    keys: [
      { ...pub, kid: 'rs256', alg: 'RS256', use: 'sig' },
      { ...pub, kid: 'rs384', alg: 'RS384', use: 'sig' },
      { ...pub, kid: 'rs512', alg: 'RS512', use: 'sig' },
      { ...pub, kid: 'no-alg', use: 'sig' },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// A real issuer over loopback.

interface FakeIssuer {
  readonly server: Server;
  readonly base: string;
  /** The `iss` it writes, with Digdir's trailing slash. */
  readonly issuer: string;
  readonly jwksUri: string;
  /** Status answered for the oauth-authorization-server document (200 serves it). */
  metadataStatus: number;
  /** Also serve /.well-known/openid-configuration. */
  openidConfiguration: boolean;
  jwksStatus: number;
  jwksBody: string | undefined;
  readonly hits: string[];
  close(): Promise<void>;
}

async function startIssuer(): Promise<FakeIssuer> {
  const state = {
    metadataStatus: 200,
    openidConfiguration: false,
    jwksStatus: 200,
    jwksBody: undefined as string | undefined,
    hits: [] as string[],
  };
  let base = '';
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    state.hits.push(path);
    const metadata = { issuer: `${base}/`, jwks_uri: `${base}/jwks`, token_endpoint: `${base}/token` };
    if (path === '/.well-known/oauth-authorization-server') {
      return state.metadataStatus === 200
        ? send(res, 200, metadata)
        : send(res, state.metadataStatus, { error: 'no' });
    }
    if (path === '/.well-known/openid-configuration' && state.openidConfiguration)
      return send(res, 200, metadata);
    if (path === '/jwks') {
      return send(
        res,
        state.jwksStatus,
        state.jwksStatus === 200 ? (state.jwksBody ?? jwks()) : { error: 'down' },
      );
    }
    return send(res, 404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, {
    server,
    base,
    issuer: `${base}/`,
    jwksUri: `${base}/jwks`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ---------------------------------------------------------------------------------------------
// Tokens.

function claims(issuer: string, extra: JWTPayload = {}): JWTPayload {
  return {
    iss: issuer,
    iat: now(),
    exp: now() + 120,
    jti: 'b3b5e1b4-6f0a-4f4e-9c1a-2f7d2a1c9e01',
    scope: `openid ${DATA_SCOPE}`,
    client_id: '3f5a2c1e-client',
    client_amr: 'private_key_jwt',
    token_type: 'Bearer',
    consumer: { authority: 'iso6523-actorid-upis', ID: '0192:991825827' },
    supplier: { authority: 'iso6523-actorid-upis', ID: '0192:889640782' },
    ...extra,
  };
}

/** A token signed with the trusted key; `undefined` in `payload` removes a claim. */
async function signed(
  payload: JWTPayload,
  options: { alg?: 'RS256' | 'RS384' | 'RS512'; kid?: string | null; key?: CryptoKey } = {},
): Promise<string> {
  const alg = options.alg ?? 'RS256';
  const kid = options.kid === undefined ? alg.toLowerCase() : options.kid;
  const body = Object.fromEntries(Object.entries(payload).filter(([, v]) => v !== undefined));
  return new CompactSign(new TextEncoder().encode(JSON.stringify(body)))
    .setProtectedHeader({ alg, typ: 'at+jwt', ...(kid === null ? {} : { kid }) })
    .sign(options.key ?? keys.sign[alg]);
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const decodePart = (part: string) =>
  JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as JWTPayload;

/** The token with its payload replaced by `edit(payload)`, signature kept. */
function withPayload(token: string, edit: (p: JWTPayload) => JWTPayload): string {
  const [header, payload, signature] = token.split('.');
  return `${header}.${b64url(edit(decodePart(payload!)))}.${signature}`;
}

/** No run of more than 10 characters of the token appears in the text. */
function assertNoTokenPart(text: string, token: string): void {
  for (let i = 0; i + 11 <= token.length; i++) {
    const part = token.slice(i, i + 11);
    assert.ok(!text.includes(part), `the error text contains part of the token: ${JSON.stringify(part)}`);
  }
}

function assertErrorClean(err: KrrError, token: string): void {
  assertNoTokenPart(err.message, token);
  for (const item of err.items) assertNoTokenPart(item.detail, token);
}

async function assertInvalid(
  verifier: TokenVerifier,
  token: string,
  messageLike?: RegExp,
): Promise<InvalidTokenError> {
  let caught: unknown;
  try {
    await verifier.verify(token);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof InvalidTokenError, `expected InvalidTokenError, got ${String(caught)}`);
  assert.equal(caught.status, 401);
  assert.equal(caught.code, 'INVALID_TOKEN');
  assertErrorClean(caught, token);
  if (messageLike) assert.match(caught.message, messageLike);
  return caught;
}

async function assertUnavailable(verifier: TokenVerifier, token: string): Promise<IssuerUnavailableError> {
  let caught: unknown;
  try {
    await verifier.verify(token);
  } catch (err) {
    caught = err;
  }
  assert.ok(
    caught instanceof IssuerUnavailableError,
    `expected IssuerUnavailableError, got ${String(caught)}`,
  );
  assert.equal(caught.status, 503);
  assertErrorClean(caught, token);
  return caught;
}

function expected(issuer: string, extra: Partial<AccessToken> = {}): AccessToken {
  return {
    issuer,
    issuerKind: 'maskinporten',
    clientId: '3f5a2c1e-client',
    scopes: ['openid', DATA_SCOPE],
    consumer: '991825827',
    supplier: '889640782',
    pid: null,
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------

let idp: FakeIssuer;
/** Keys found through the metadata, no audience. */
let viaMetadata: TokenVerifier;
/** Explicit jwksUri and an audience. */
let withAudience: TokenVerifier;

before(async () => {
  keys = await makeKeys();
  idp = await startIssuer();
  viaMetadata = new TokenVerifier({
    allowHttpLoopback: true,
    trustedIssuers: [{ issuer: idp.issuer }],
    clockSkewSeconds: SKEW,
  });
  withAudience = new TokenVerifier({
    allowHttpLoopback: true,
    trustedIssuers: [{ issuer: idp.issuer, jwksUri: idp.jwksUri, audience: AUDIENCE }],
    clockSkewSeconds: SKEW,
  });
});

after(async () => {
  await idp.close();
});

describe('TokenVerifier: accepted tokens', () => {
  for (const alg of ['RS256', 'RS384', 'RS512'] as const) {
    it(`accepts ${alg} from the trusted issuer, keys found through its metadata`, async () => {
      const token = await signed(claims(idp.issuer), { alg });
      assert.deepEqual(await viaMetadata.verify(token), expected(idp.issuer));
    });
  }

  it('finds the metadata under the issuer with its trailing slash stripped', async () => {
    const token = await signed(claims(idp.issuer));
    await viaMetadata.verify(token);
    assert.ok(idp.hits.includes('/.well-known/oauth-authorization-server'));
    assert.ok(
      !idp.hits.some((h) => h.startsWith('//')),
      `a double slash was requested: ${idp.hits.join(', ')}`,
    );
    assert.ok(idp.hits.includes('/jwks'));
  });

  it('accepts a key published without "alg"', async () => {
    const token = await signed(claims(idp.issuer), { kid: 'no-alg' });
    assert.deepEqual(await viaMetadata.verify(token), expected(idp.issuer));
  });

  it('parses the claims: scopes split on spaces, organisation numbers without their 0192 prefix, pid', async () => {
    const token = await signed(
      claims(idp.issuer, {
        scope: ' krr:global/digitalpost.read  global/spraak.read openid ',
        client_id: 'another-client',
        consumer: { authority: 'iso6523-actorid-upis', ID: '0192:974760673' },
        supplier: undefined,
        pid: '11117900000',
        acr: 'idporten-loa-high',
      }),
    );
    assert.deepEqual(await viaMetadata.verify(token), {
      issuer: idp.issuer,
      issuerKind: 'maskinporten',
      clientId: 'another-client',
      scopes: ['krr:global/digitalpost.read', 'global/spraak.read', 'openid'],
      consumer: '974760673',
      supplier: null,
      pid: '11117900000',
    });
  });

  it('gives null for absent client_id/consumer and no scopes for an absent scope', async () => {
    const token = await signed(
      claims(idp.issuer, {
        client_id: undefined,
        consumer: undefined,
        supplier: undefined,
        scope: undefined,
      }),
    );
    assert.deepEqual(await viaMetadata.verify(token), {
      issuer: idp.issuer,
      issuerKind: 'maskinporten',
      clientId: null,
      scopes: [],
      consumer: null,
      supplier: null,
      pid: null,
    });
  });

  it('accepts any aud when no audience is configured', async () => {
    const token = await signed(claims(idp.issuer, { aud: 'https://somewhere-else.example/' }));
    assert.deepEqual(await viaMetadata.verify(token), expected(idp.issuer));
  });

  it('accepts the configured audience (as a string or in an array), with an explicit jwksUri', async () => {
    for (const aud of [AUDIENCE, ['https://other.example/', AUDIENCE]]) {
      const token = await signed(claims(idp.issuer, { aud }));
      assert.deepEqual(await withAudience.verify(token), expected(idp.issuer));
    }
  });

  it('accepts nbf in the future within the clock skew, and exp just past within it', async () => {
    const early = await signed(claims(idp.issuer, { nbf: now() + 10 }));
    assert.deepEqual(await viaMetadata.verify(early), expected(idp.issuer));
    const late = await signed(claims(idp.issuer, { iat: now() - 200, exp: now() - 10 }));
    assert.deepEqual(await viaMetadata.verify(late), expected(idp.issuer));
  });

  it('accepts a token just under the size limit', async () => {
    const base = await signed(claims(idp.issuer, { padding: '' }));
    const padding = 'x'.repeat(Math.floor(((MAX_TOKEN_BYTES - base.length) * 3) / 4) - 64);
    const token = await signed(claims(idp.issuer, { padding }));
    assert.ok(
      token.length <= MAX_TOKEN_BYTES && token.length > MAX_TOKEN_BYTES - 200,
      `length ${token.length}`,
    );
    assert.deepEqual(await viaMetadata.verify(token), expected(idp.issuer));
  });
});

describe('TokenVerifier: refused tokens (401, never echoing the token)', () => {
  it('refuses alg "none"', async () => {
    const token = new UnsecuredJWT(claims(idp.issuer)).encode();
    await assertInvalid(viaMetadata, token);
    // Also with a (meaningless) signature part and a kid the issuer publishes.
    const [, payload] = token.split('.');
    await assertInvalid(viaMetadata, `${b64url({ alg: 'none', kid: 'rs256' })}.${payload}.c2ln`);
  });

  it('refuses HS256 signed with the public key as the HMAC secret', async () => {
    for (const secret of [keys.spkiPem, JSON.stringify(jwks().keys[0]), keys.publicJwk.n!]) {
      const token = await new SignJWT(claims(idp.issuer))
        .setProtectedHeader({ alg: 'HS256', kid: 'rs256' })
        .sign(new TextEncoder().encode(secret));
      await assertInvalid(viaMetadata, token);
    }
  });

  it('refuses a good signature from a key the issuer does not publish, under a kid it does', async () => {
    const token = await signed(claims(idp.issuer), { kid: 'rs256', key: keys.untrusted });
    await assertInvalid(viaMetadata, token, /signature/);
    await assertInvalid(
      withAudience,
      await signed(claims(idp.issuer, { aud: AUDIENCE }), { kid: 'rs256', key: keys.untrusted }),
    );
  });

  it('refuses an algorithm other than the one the key is published for', async () => {
    const token = await signed(claims(idp.issuer), { alg: 'RS384', kid: 'rs256' });
    await assertInvalid(viaMetadata, token);
  });

  it('refuses an unknown kid', async () => {
    const token = await signed(claims(idp.issuer), { kid: 'not-published' });
    await assertInvalid(viaMetadata, token);
  });

  it('refuses a wrong, differently written or missing iss', async () => {
    for (const iss of [
      'https://maskinporten.no/',
      idp.base,
      `${idp.issuer}/`,
      idp.issuer.toUpperCase(),
      undefined,
    ]) {
      const token = await signed(claims(idp.issuer, { iss }));
      await assertInvalid(viaMetadata, token, /issuer/);
    }
    for (const iss of [123, ['x'], null]) {
      const token = await signed(claims(idp.issuer, { iss: iss as unknown as string }));
      await assertInvalid(viaMetadata, token);
    }
  });

  it('refuses an expired token (beyond the skew)', async () => {
    const token = await signed(claims(idp.issuer, { iat: now() - 600, exp: now() - SKEW - 30 }));
    await assertInvalid(viaMetadata, token, /expired/);
  });

  it('refuses a token without exp, or with a non-numeric exp', async () => {
    await assertInvalid(viaMetadata, await signed(claims(idp.issuer, { exp: undefined })));
    await assertInvalid(
      viaMetadata,
      await signed(claims(idp.issuer, { exp: String(now() + 60) as unknown as number })),
    );
  });

  it('refuses nbf in the future beyond the skew', async () => {
    const token = await signed(claims(idp.issuer, { nbf: now() + SKEW + 60 }));
    await assertInvalid(viaMetadata, token);
  });

  it('refuses a tampered payload (the signature kept)', async () => {
    const token = await signed(claims(idp.issuer));
    const tampered = withPayload(token, (p) => ({
      ...p,
      consumer: { authority: 'iso6523-actorid-upis', ID: '0192:123456785' },
    }));
    await assertInvalid(viaMetadata, tampered, /signature/);
    assertNoTokenPart('', tampered);
  });

  it('refuses a scope widened after signing', async () => {
    const token = await signed(claims(idp.issuer, { scope: 'openid' }));
    const widened = withPayload(token, (p) => ({
      ...p,
      scope: `openid ${DATA_SCOPE} krr:global/digitalpost.read`,
    }));
    await assertInvalid(viaMetadata, widened, /signature/);
  });

  it('refuses a token moved to another issuer after signing', async () => {
    const token = await signed(claims('https://maskinporten.no/'));
    const moved = withPayload(token, (p) => ({ ...p, iss: idp.issuer }));
    await assertInvalid(viaMetadata, moved, /signature/);
  });

  it('refuses a wrong or missing aud when an audience is configured', async () => {
    for (const aud of ['https://other.example/', AUDIENCE.slice(0, -1), ['https://a.example/'], undefined]) {
      const token = await signed(claims(idp.issuer, { aud }));
      await assertInvalid(withAudience, token, /aud/);
    }
  });

  it('refuses a token over MAX_TOKEN_BYTES before parsing it', async () => {
    const token = await signed(claims(idp.issuer, { padding: 'x'.repeat(MAX_TOKEN_BYTES) }));
    assert.ok(token.length > MAX_TOKEN_BYTES);
    await assertInvalid(viaMetadata, token, /too large/);
    await assertInvalid(viaMetadata, `${'a'.repeat(MAX_TOKEN_BYTES)}.b.c`, /too large/);
  });

  it('refuses garbage', async () => {
    const valid = await signed(claims(idp.issuer));
    const [h, p, s] = valid.split('.') as [string, string, string];
    const garbage = [
      '',
      ' ',
      'abcdefghijklmnopqrstuvwxyz',
      'a.b.c',
      '..',
      '...',
      `${h}.${p}`,
      `${h}.${p}.`,
      `${h}..${s}`,
      `.${p}.${s}`,
      `${h}.${p}.${s}.${s}`,
      `${h}.${p}.${s}.${s}.${s}`,
      `${h}.${p}.${s}!`,
      `${h}.${p}.${s.slice(0, -8)}`,
      `${b64url('just a string')}.${p}.${s}`,
      `${h}.${b64url([1, 2, 3])}.${s}`,
      `${h}.${Buffer.from('not json at all').toString('base64url')}.${s}`,
      `${b64url({ alg: 'RS256', kid: 'rs256', b64: false, crit: ['b64'] })}.${p}.${s}`,
      `${b64url({ alg: 'RS256', kid: 'rs256', crit: ['x-unknown'], 'x-unknown': 1 })}.${p}.${s}`,
      `${b64url({ kid: 'rs256' })}.${p}.${s}`,
      `${b64url({ alg: 'RS256', kid: { $ne: 1 } })}.${p}.${s}`,
      `${b64url({ alg: 'RS256', kid: 'rs256', jwk: keys.publicJwk })}.${p}.${s}`,
      'Bearer ' + valid,
      valid + ' ',
      `${valid}\u0000`,
      `${h}.${p}.${s}`.replace(/[a-z]/, 'é'),
      '{"iss":"x"}',
      Buffer.from(JSON.stringify(claims(idp.issuer))).toString('base64url'),
    ];
    const accepted: string[] = [];
    for (const [i, token] of garbage.entries()) {
      await assertInvalid(viaMetadata, token).catch((err: Error) => accepted.push(`#${i}: ${err.message}`));
    }
    assert.deepEqual(accepted, []);
  });

  it('refuses a token signed for one issuer but claiming the dev issuer (no cross-issuer key use)', async () => {
    const dev = new TokenVerifier({
      allowHttpLoopback: true,
      trustedIssuers: [{ issuer: idp.issuer }],
      clockSkewSeconds: SKEW,
      dev: {
        issuer: 'https://krr-dev.invalid/',
        publicJwk: { ...keys.publicJwk, kid: 'rs256', alg: 'RS256' },
      },
    });
    // Signed by the untrusted key but claiming the dev issuer: the dev key rejects it.
    const forged = await signed(claims('https://krr-dev.invalid/'), { key: keys.untrusted });
    await assertInvalid(dev, forged, /signature/);
  });
});

describe('TokenVerifier: issuer availability', () => {
  it('gives IssuerUnavailableError (503) quickly when the metadata is on a closed port', async () => {
    const port = await closedPort();
    const issuer = `http://127.0.0.1:${port}/`;
    const verifier = new TokenVerifier({
      allowHttpLoopback: true,
      trustedIssuers: [{ issuer }],
      clockSkewSeconds: SKEW,
    });
    const token = await signed(claims(issuer));
    const started = Date.now();
    await assertUnavailable(verifier, token);
    await assertUnavailable(verifier, token); // a failed discovery is not cached
    assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
  });

  it('gives IssuerUnavailableError quickly when an explicit jwksUri is on a closed port', async () => {
    const port = await closedPort();
    const config: TrustedIssuer = { issuer: idp.issuer, jwksUri: `http://127.0.0.1:${port}/jwks` };
    const verifier = new TokenVerifier({
      allowHttpLoopback: true,
      trustedIssuers: [config],
      clockSkewSeconds: SKEW,
    });
    const token = await signed(claims(idp.issuer));
    const started = Date.now();
    await assertUnavailable(verifier, token);
    assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
  });

  it('checks the issuer before fetching anything: a token from an unknown issuer is 401 even when all issuers are down', async () => {
    const port = await closedPort();
    const verifier = new TokenVerifier({
      allowHttpLoopback: true,
      trustedIssuers: [{ issuer: `http://127.0.0.1:${port}/` }],
      clockSkewSeconds: SKEW,
    });
    await assertInvalid(verifier, await signed(claims('https://maskinporten.no/')), /issuer/);
  });

  it('gives 503 (not 401) when the issuer answers with errors, and recovers when it is back', async () => {
    const other = await startIssuer();
    try {
      // No cooldown: every token here may make a refetch, so that each failure is seen.
      const verifier = new TokenVerifier({
        allowHttpLoopback: true,
        trustedIssuers: [{ issuer: other.issuer }],
        clockSkewSeconds: SKEW,
        refreshCooldownMs: 0,
      });
      const token = await signed(claims(other.issuer));
      other.metadataStatus = 503;
      await assertUnavailable(verifier, token);
      other.metadataStatus = 200;
      other.jwksStatus = 500;
      await assertUnavailable(verifier, token);
      other.jwksStatus = 200;
      other.jwksBody = 'this is not JSON';
      await assertUnavailable(verifier, token);
      other.jwksBody = JSON.stringify({ keys: 'none' });
      await assertUnavailable(verifier, token);
      other.jwksBody = undefined;
      assert.deepEqual(await verifier.verify(token), expected(other.issuer));
    } finally {
      await other.close();
    }
  });

  it('gives 503 when the metadata has no jwks_uri', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: 'x' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const verifier = new TokenVerifier({
        allowHttpLoopback: true,
        trustedIssuers: [{ issuer }],
        clockSkewSeconds: SKEW,
      });
      await assertUnavailable(verifier, await signed(claims(issuer)));
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('falls back to /.well-known/openid-configuration when the issuer has no oauth-authorization-server document', async () => {
    const oidc = await startIssuer();
    try {
      oidc.metadataStatus = 404;
      oidc.openidConfiguration = true;
      const verifier = new TokenVerifier({
        allowHttpLoopback: true,
        trustedIssuers: [{ issuer: oidc.issuer }],
        clockSkewSeconds: SKEW,
      });
      const token = await signed(claims(oidc.issuer));
      assert.deepEqual(await verifier.verify(token), expected(oidc.issuer));
      assert.ok(oidc.hits.includes('/.well-known/openid-configuration'));
    } finally {
      await oidc.close();
    }
  });

  it('uses a configured metadataUrl as given', async () => {
    const oidc = await startIssuer();
    try {
      oidc.metadataStatus = 404;
      oidc.openidConfiguration = true;
      const verifier = new TokenVerifier({
        allowHttpLoopback: true,
        trustedIssuers: [
          { issuer: oidc.issuer, metadataUrl: `${oidc.base}/.well-known/openid-configuration` },
        ],
        clockSkewSeconds: SKEW,
      });
      assert.deepEqual(await verifier.verify(await signed(claims(oidc.issuer))), expected(oidc.issuer));
      assert.ok(!oidc.hits.includes('/.well-known/oauth-authorization-server'));
    } finally {
      await oidc.close();
    }
  });

  it('fetches the metadata once for concurrent first requests', async () => {
    const fresh = await startIssuer();
    try {
      const verifier = new TokenVerifier({
        allowHttpLoopback: true,
        trustedIssuers: [{ issuer: fresh.issuer }],
        clockSkewSeconds: SKEW,
      });
      const token = await signed(claims(fresh.issuer));
      await Promise.all(Array.from({ length: 10 }, () => verifier.verify(token)));
      await verifier.verify(token);
      assert.equal(fresh.hits.filter((h) => h === '/.well-known/oauth-authorization-server').length, 1);
      assert.equal(fresh.hits.filter((h) => h === '/jwks').length, 1);
    } finally {
      await fresh.close();
    }
  });
});

describe('dev issuer', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'krr-dev-issuer-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps one private key in the data directory, readable only by its owner, even when created concurrently', async () => {
    const created = await Promise.all(Array.from({ length: 3 }, () => devKeyFromDataDir(dir)));
    const again = await devKeyFromDataDir(dir);
    for (const key of created) assert.deepEqual(key, again);
    assert.ok(again.d, 'the stored key is private');
    assert.equal(again.alg, 'RS256');
    assert.match(again.kid ?? '', /^krr-dev-/);
    if (process.platform !== 'win32')
      assert.equal((await stat(join(dir, 'dev-issuer-key.json'))).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dir), ['dev-issuer-key.json'], 'no temporary files are left behind');
  });

  it('publishes only the public members of the key', async () => {
    const pub = publicJwk(await devKeyFromDataDir(dir));
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(member in pub, false, member);
    assert.deepEqual(Object.keys(pub).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
  });

  it('mints Maskinporten-shaped tokens the verifier accepts, and nothing signed with another key', async () => {
    const key = await devKeyFromDataDir(dir);
    const issuer = 'http://localhost:8080/dev-issuer/';
    const verifier = new TokenVerifier({
      allowHttpLoopback: true,
      trustedIssuers: [],
      clockSkewSeconds: SKEW,
      dev: { issuer, publicJwk: publicJwk(key) },
    });
    const token = await mintDevToken(key, {
      issuer,
      scopes: ['openid', DATA_SCOPE],
      consumer: '991825827',
      supplier: '0192:889640782',
      pid: '11117900000',
      audience: AUDIENCE,
    });
    const [header, payload] = token.split('.').slice(0, 2).map(decodePart) as [
      Record<string, unknown>,
      JWTPayload,
    ];
    assert.deepEqual(header, { alg: 'RS256', kid: key.kid, typ: 'at+jwt' });
    assert.deepEqual(payload.consumer, { authority: 'iso6523-actorid-upis', ID: '0192:991825827' });
    assert.equal(payload.token_type, 'Bearer');
    assert.equal(typeof payload.jti, 'string');
    assert.equal(payload.exp! - payload.iat!, 3600);
    assert.equal(payload.aud, AUDIENCE);
    assert.deepEqual(await verifier.verify(token), {
      issuer,
      issuerKind: 'maskinporten',
      clientId: 'krr-dev-client',
      scopes: ['openid', DATA_SCOPE],
      consumer: '991825827',
      supplier: '889640782',
      pid: '11117900000',
    });

    const expired = await mintDevToken(key, {
      issuer,
      scopes: [DATA_SCOPE],
      consumer: '991825827',
      expiresInSeconds: -120,
    });
    await assertInvalid(verifier, expired, /expired/);

    const otherKey = { ...(await exportJWK(keys.untrusted)), kid: key.kid, alg: 'RS256' };
    const forged = await mintDevToken(otherKey, { issuer, scopes: [DATA_SCOPE], consumer: '991825827' });
    await assertInvalid(verifier, forged, /signature/);
  });
});

describe('TokenVerifier: production trust (keys cached, refreshed with a cooldown, kept while the issuer is down)', () => {
  const COOLDOWN = 30_000;
  const MAX_AGE = 600_000;
  let issuer: Idp;
  let clock: number;
  const make = (extra: Partial<TokenVerifierOptions> = {}) =>
    new TokenVerifier({
      allowHttpLoopback: true,
      trustedIssuers: [{ issuer: issuer.issuer }],
      clockSkewSeconds: SKEW,
      fetchTimeoutMs: 500,
      refreshCooldownMs: COOLDOWN,
      keysMaxAgeMs: MAX_AGE,
      now: () => clock,
      ...extra,
    });
  /** Signed on the test's clock, valid for an hour of it. */
  const token = (extra: JWTPayload = {}, options?: Parameters<Idp['sign']>[1]) => {
    const iat = Math.floor(clock / 1000);
    return issuer.sign(
      maskinportenClaims(DATA_SCOPE, '991825827', { iat, exp: iat + 3600, ...extra }),
      options,
    );
  };

  before(async () => {
    issuer = await startFakeIssuer();
  });
  after(async () => issuer.close());
  beforeEach(async () => {
    clock = Date.now();
    issuer.mode = 'up';
    issuer.metadataIssuer = undefined;
    issuer.hits.clear();
    await issuer.start().catch(() => {}); // listening again after a test that stopped it
    await issuer.rotate();
  });

  for (const outage of ['stopped', 'error', 'hang'] as const) {
    it(`keeps verifying with the cached keys while the issuer is ${outage}, also past the keys' max age`, async () => {
      const verifier = make();
      const t = await token();
      assert.equal((await verifier.verify(t)).consumer, '991825827');
      if (outage === 'stopped') await issuer.stop();
      else issuer.mode = outage;
      clock += MAX_AGE + COOLDOWN; // stale: a refresh is tried (and fails) beside the answer
      for (let i = 0; i < 3; i++) assert.equal((await verifier.verify(t)).consumer, '991825827');
      assert.equal((await verifier.verify(await token())).clientId, 'client-991825827');
    });

    it(`answers 503 (not 500, not a hang) when the issuer is ${outage} and no keys are cached`, async () => {
      const verifier = make();
      if (outage === 'stopped') await issuer.stop();
      else issuer.mode = outage;
      const t = await token();
      await assertUnavailable(verifier, t);
      // Within the cooldown the issuer is not asked again; still 503.
      const before = issuer.hitsOf(METADATA_PATH);
      await assertUnavailable(verifier, t);
      assert.equal(issuer.hitsOf(METADATA_PATH), before);
    });
  }

  it('answers 503 to a kid not in the cached set while the issuer is down, and 401 when it is up and lacks it', async () => {
    const verifier = make();
    await verifier.verify(await token());
    await issuer.stop();
    clock += COOLDOWN;
    await assertUnavailable(verifier, await token({}, { kid: 'not-published' }));
    await issuer.start();
    clock += COOLDOWN;
    await assertInvalid(verifier, await token({}, { kid: 'not-published' }), /does not publish/);
  });

  it('picks up a rotated key on its first token (one refetch), and keeps the old one while it is published', async () => {
    const verifier = make();
    const old = await token();
    await verifier.verify(old);
    assert.equal(issuer.hitsOf(JWKS_PATH), 1);
    await issuer.rotate(true);
    clock += COOLDOWN; // the first fetch was just now
    const fresh = await token();
    assert.equal((await verifier.verify(fresh)).consumer, '991825827');
    assert.equal((await verifier.verify(old)).consumer, '991825827');
    assert.equal(issuer.hitsOf(JWKS_PATH), 2);
    assert.equal(issuer.hitsOf(METADATA_PATH), 1, 'the metadata is cached');
  });

  it('honours the cooldown: a flood of tokens with random kids makes one refetch, then none until it has passed', async () => {
    const verifier = make();
    await verifier.verify(await token());
    const flood = await Promise.all(
      Array.from({ length: 20 }, () => token({}, { kid: `random-${Math.random()}` })),
    );
    // Right after the first fetch: no refetch at all.
    await Promise.all(flood.map((t: string) => assertInvalid(verifier, t)));
    assert.equal(issuer.hitsOf(JWKS_PATH), 1);
    clock += COOLDOWN;
    await Promise.all(flood.map((t: string) => assertInvalid(verifier, t)));
    for (const t of flood.slice(0, 5)) await assertInvalid(verifier, t);
    assert.equal(issuer.hitsOf(JWKS_PATH), 2, 'one fetch, one refetch');
    clock += COOLDOWN;
    for (const t of flood.slice(0, 5)) await assertInvalid(verifier, t);
    assert.equal(issuer.hitsOf(JWKS_PATH), 3, 'one more refetch after the cooldown');
    // A rotated key within the cooldown waits for it (401 meanwhile), then is accepted.
    await issuer.rotate(true);
    const rotated = await token();
    await assertInvalid(verifier, rotated);
    clock += COOLDOWN;
    assert.equal((await verifier.verify(rotated)).consumer, '991825827');
  });

  it('refreshes a set past its max age in the background: a key the issuer stopped publishing is then refused', async () => {
    const verifier = make();
    const old = await token();
    await verifier.verify(old);
    await issuer.rotate(false);
    clock += MAX_AGE;
    await verifier.verify(old); // served from the stale set; the refresh starts beside it
    await verifier.verify(await token()); // waits for that refresh, finds the new kid
    assert.equal(issuer.hitsOf(JWKS_PATH), 2);
    await assertInvalid(verifier, old, /does not publish/);
  });

  it('refuses metadata that names another issuer (RFC 8414 § 3.3): 503, and its JWKS is never fetched', async () => {
    issuer.metadataIssuer = 'https://maskinporten.no/';
    const verifier = make({ refreshCooldownMs: 0 });
    await assertUnavailable(verifier, await token());
    issuer.metadataIssuer = issuer.base; // without the trailing slash: also another issuer
    await assertUnavailable(verifier, await token());
    assert.equal(issuer.hitsOf(JWKS_PATH), 0);
    issuer.metadataIssuer = undefined;
    assert.equal((await verifier.verify(await token())).consumer, '991825827');
  });

  it('refuses alg none and HS256 without asking the issuer for keys', async () => {
    const verifier = make();
    const none = new UnsecuredJWT(maskinportenClaims(DATA_SCOPE)).setIssuer(issuer.issuer).encode();
    await assertInvalid(verifier, none);
    const hs = await new SignJWT({ ...maskinportenClaims(DATA_SCOPE), iss: issuer.issuer })
      .setProtectedHeader({ alg: 'HS256', kid: issuer.keys[0]!.kid })
      .setExpirationTime('2m')
      .sign(new TextEncoder().encode(issuer.keys[0]!.spkiPem));
    await assertInvalid(verifier, hs, /algorithm/);
    assert.equal(issuer.hits.size, 0);
  });

  it('refuses iat in the future beyond the skew, accepts it within', async () => {
    const verifier = make();
    const now = Math.floor(clock / 1000);
    await assertInvalid(verifier, await token({ iat: now + SKEW + 60, exp: now + 600 }), /iat/);
    assert.equal((await verifier.verify(await token({ iat: now + 10 }))).consumer, '991825827');
  });

  it('checks the audience when one is configured', async () => {
    const verifier = make({ trustedIssuers: [{ issuer: issuer.issuer, audience: AUDIENCE }] });
    await assertInvalid(verifier, await token({ aud: 'https://other.example/' }), /aud/);
    assert.equal((await verifier.verify(await token({ aud: AUDIENCE }))).consumer, '991825827');
  });

  it("tells the operator when an issuer's keys are fetched and when they cannot be, without any token", async () => {
    const verifier = make();
    const lines: Array<[string, Record<string, unknown>, string]> = [];
    verifier.setLog({
      info: (obj, msg) => lines.push(['info', obj as Record<string, unknown>, msg]),
      warn: (obj, msg) => lines.push(['warn', obj as Record<string, unknown>, msg]),
    });
    const t = await token();
    await verifier.verify(t);
    await issuer.stop();
    clock += COOLDOWN;
    const unknown = await token({}, { kid: 'not-published' });
    await assertUnavailable(verifier, unknown);
    assert.deepEqual(
      lines.map(([level, obj]) => [level, obj.issuer, obj.keys ?? obj.cachedKeys]),
      [
        ['info', issuer.issuer, 1],
        ['warn', issuer.issuer, 1],
      ],
    );
    assert.equal(typeof lines[1]![1].reason, 'string');
    const text = JSON.stringify(lines);
    for (const segment of [...t.split('.'), ...unknown.split('.')]) assert.ok(!text.includes(segment));
  });

  it('bounds the clock skew', () => {
    assert.throws(() => make({ clockSkewSeconds: MAX_CLOCK_SKEW_SECONDS + 1 }), ConfigError);
    assert.throws(() => make({ clockSkewSeconds: -1 }), ConfigError);
    assert.ok(make({ clockSkewSeconds: MAX_CLOCK_SKEW_SECONDS }));
  });
});

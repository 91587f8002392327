// The dev ID-porten's token endpoint with `private_key_jwt` client authentication (OpenID Connect
// Core § 9, RFC 7523) through HTTP (inject): a client registered with its keys (a JWKS in the
// config, or a jwksUri served by a real HTTP server) proves itself with a signed assertion; wrong
// keys, audiences, lifetimes, replays and missing assertions are refused. The service holds no
// store, so one store.

import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import { startTestApp } from '../../test/support/test-app.js';
import type { TestApp } from '../../test/support/test-app.js';
import { JWT_BEARER_ASSERTION } from './idporten.service.js';

const ISSUER = 'http://127.0.0.1:8080/idporten';
const RP = 'minprofil-rp';
const REMOTE_RP = 'remote-keys-rp';
const REDIRECT = 'https://rp.example/callback';
const PID = makeIdentifier({ day: 9, month: 9, year: 79 });
const FORM = 'application/x-www-form-urlencoded';

const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

describe('private_key_jwt at the dev ID-porten token endpoint', () => {
  let t: TestApp;
  let key: CryptoKey;
  let remoteKey: CryptoKey;
  let otherKey: CryptoKey;
  let jwksServer: Server;
  let jwksFetches = 0;

  before(async () => {
    const pair = async (alg: string, kid: string): Promise<{ privateKey: CryptoKey; jwk: JWK }> => {
      const { privateKey, publicKey } = await generateKeyPair(alg);
      return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg } };
    };
    const own = await pair('ES256', 'rp-1');
    const remote = await pair('RS256', 'remote-1');
    key = own.privateKey;
    remoteKey = remote.privateKey;
    otherKey = (await pair('ES256', 'rp-1')).privateKey;
    jwksServer = createServer((_request, response) => {
      jwksFetches++;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys: [remote.jwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const port = (jwksServer.address() as AddressInfo).port;
    t = await startTestApp('embedded', {
      env: {
        KRR_IDPORTEN_CONFIRM_PROMPT: 'false',
        KRR_IDPORTEN_CLIENTS: JSON.stringify([
          { clientId: RP, redirectUris: [REDIRECT], jwks: { keys: [own.jwk] } },
          { clientId: REMOTE_RP, redirectUris: [REDIRECT], jwksUri: `http://127.0.0.1:${port}/jwks` },
        ]),
      },
    });
  });
  after(async () => {
    await t?.close();
    await new Promise<void>((resolve) => jwksServer?.close(() => resolve()));
  });

  const postForm = (url: string, body: Record<string, string>) =>
    t.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': FORM },
      payload: new URLSearchParams(body).toString(),
    });

  /** A code for `clientId` and its verifier. */
  async function code(clientId = RP): Promise<{ code: string; verifier: string }> {
    const verifier = randomBytes(32).toString('base64url');
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      scope: 'openid',
      code_challenge: s256(verifier),
      code_challenge_method: 'S256',
    });
    const page = await t.app.inject({ method: 'GET', url: `/idporten/authorize?${query.toString()}` });
    assert.equal(page.statusCode, 200, page.body);
    const requestId = /name="request_id" value="([^"]+)"/.exec(page.body)![1]!;
    const picked = await postForm('/idporten/authorize', { request_id: requestId, pid: PID });
    assert.equal(picked.statusCode, 303, picked.body);
    return { code: new URL(String(picked.headers.location)).searchParams.get('code')!, verifier };
  }

  interface AssertionOptions {
    readonly signWith?: CryptoKey;
    readonly alg?: string;
    readonly iss?: string;
    readonly sub?: string;
    readonly aud?: string;
    readonly lifetime?: string;
    readonly jti?: string;
  }

  function assertion(o: AssertionOptions = {}): Promise<string> {
    const client = o.iss ?? RP;
    return new SignJWT({})
      .setProtectedHeader({ alg: o.alg ?? 'ES256', kid: o.alg === 'RS256' ? 'remote-1' : 'rp-1' })
      .setIssuer(client)
      .setSubject(o.sub ?? client)
      .setAudience(o.aud ?? ISSUER)
      .setIssuedAt()
      .setJti(o.jti ?? randomUUID())
      .setExpirationTime(o.lifetime ?? '60s')
      .sign(o.signWith ?? key);
  }

  async function exchange(clientAssertion: string, extra: Record<string, string> = {}, clientId = RP) {
    const issued = await code(clientId);
    return postForm('/idporten/token', {
      grant_type: 'authorization_code',
      code: issued.code,
      redirect_uri: REDIRECT,
      code_verifier: issued.verifier,
      client_assertion_type: JWT_BEARER_ASSERTION,
      client_assertion: clientAssertion,
      ...extra,
    });
  }

  function refused(res: { statusCode: number; body: string }, error = 'invalid_client'): string {
    assert.equal(res.statusCode, error === 'invalid_client' ? 401 : 400, res.body);
    const body = JSON.parse(res.body) as { error: string; error_description: string };
    assert.equal(body.error, error);
    return body.error_description;
  }

  it('lists private_key_jwt in the metadata', async () => {
    const meta = JSON.parse(
      (await t.app.inject({ method: 'GET', url: '/idporten/.well-known/openid-configuration' })).body,
    ) as {
      token_endpoint_auth_methods_supported: string[];
      token_endpoint_auth_signing_alg_values_supported: string[];
    };
    assert.ok(meta.token_endpoint_auth_methods_supported.includes('private_key_jwt'));
    assert.ok(meta.token_endpoint_auth_signing_alg_values_supported.includes('ES256'));
  });

  it('issues tokens to a client that signs its assertion with its key (aud: the issuer or the token endpoint)', async () => {
    for (const aud of [ISSUER, `${ISSUER}/token`]) {
      const res = await exchange(await assertion({ aud }), { client_id: RP });
      assert.equal(res.statusCode, 200, res.body);
      const { access_token, id_token } = JSON.parse(res.body) as { access_token: string; id_token: string };
      assert.equal(decodeJwt(access_token).client_amr, 'private_key_jwt');
      assert.equal(decodeJwt(access_token).client_id, RP);
      assert.equal(decodeJwt(id_token).aud, RP);
      assert.equal(decodeJwt(id_token).pid, PID);
    }
  });

  it('takes the keys from a jwksUri, fetched over HTTP', async () => {
    const res = await exchange(
      await assertion({ iss: REMOTE_RP, alg: 'RS256', signWith: remoteKey }),
      {},
      REMOTE_RP,
    );
    assert.equal(res.statusCode, 200, res.body);
    assert.ok(jwksFetches >= 1);
  });

  it('refuses another key, another audience, a wrong sub, a long life, an expired one, a replay', async () => {
    assert.match(refused(await exchange(await assertion({ signWith: otherKey }))), /not valid/);
    refused(await exchange(await assertion({ aud: 'https://elsewhere.example' })));
    refused(await exchange(await assertion({ sub: 'someone-else' })));
    assert.match(refused(await exchange(await assertion({ lifetime: '1h' }))), /longer than/);
    refused(await exchange(await assertion({ lifetime: '-5m' })));
    const once = await assertion();
    assert.equal((await exchange(once)).statusCode, 200);
    assert.match(refused(await exchange(once)), /used before/);
  });

  it('refuses an assertion for a client without keys, or for another client than client_id', async () => {
    assert.match(refused(await exchange(await assertion({ iss: 'unregistered-client' }))), /without keys/);
    assert.match(refused(await exchange(await assertion(), { client_id: REMOTE_RP })), /another client/);
    refused(await exchange('not-a-jwt'));
  });

  it('refuses a client registered with keys that sends none, or a secret instead', async () => {
    const issued = await code();
    const base = {
      grant_type: 'authorization_code',
      code: issued.code,
      redirect_uri: REDIRECT,
      code_verifier: issued.verifier,
    };
    assert.match(refused(await postForm('/idporten/token', { ...base, client_id: RP })), /private_key_jwt/);
    refused(await postForm('/idporten/token', { ...base, client_id: RP, client_secret: 'guess' }));
    refused(
      await postForm('/idporten/token', {
        ...base,
        client_assertion_type: 'urn:other',
        client_assertion: await assertion(),
      }),
      'invalid_request',
    );
    refused(await exchange(await assertion(), { client_secret: 'x' }), 'invalid_request');
  });
});

// Min profil's client authentication at the token endpoint (docs/minprofil.md#sign-in): a
// private_key_jwt assertion from a JWK or a PEM key file, signed so the issuer can check it; a
// client secret in the body.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportJWK, exportPKCS8, generateKeyPair, jwtVerify } from 'jose';
import type { CryptoKey } from 'jose';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientAuthentication, OidcSignIn, SignInUnavailableError } from './sign-in.js';

const ISSUER = 'https://idporten.example';
const TOKEN_ENDPOINT = `${ISSUER}/token`;

async function authenticate(auth: Awaited<ReturnType<typeof clientAuthentication>>) {
  const body = new URLSearchParams();
  const headers = new Headers();
  // Typed void, but private_key_jwt signs asynchronously and returns a promise; wait for it.
  await (auth(
    { issuer: ISSUER, token_endpoint: TOKEN_ENDPOINT },
    { client_id: 'krr-client' },
    body,
    headers,
  ) as unknown as Promise<void> | undefined);
  return { body, headers };
}

describe('Min profil client authentication', () => {
  let dir: string;
  let publicKey: CryptoKey;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'krr-minprofil-key-'));
    const pair = await generateKeyPair('RS256', { extractable: true });
    publicKey = pair.publicKey;
    await writeFile(
      join(dir, 'key.jwk'),
      JSON.stringify({ ...(await exportJWK(pair.privateKey)), kid: 'jwk-kid', alg: 'RS256' }),
    );
    await writeFile(join(dir, 'key.pem'), await exportPKCS8(pair.privateKey));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const [file, keyId, kid] of [
    ['key.jwk', undefined, 'jwk-kid'],
    ['key.pem', 'pem-kid', 'pem-kid'],
  ] as const) {
    it(`private_key_jwt from ${file}: an assertion the issuer can verify, with kid ${kid}`, async () => {
      const auth = await clientAuthentication({ kind: 'private_key_jwt', keyFile: join(dir, file), keyId });
      const { body } = await authenticate(auth);
      assert.equal(
        body.get('client_assertion_type'),
        'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      );
      assert.equal(body.get('client_secret'), null);
      const { payload, protectedHeader } = await jwtVerify(body.get('client_assertion')!, publicKey, {
        issuer: 'krr-client',
        subject: 'krr-client',
      });
      assert.equal(protectedHeader.kid, kid);
      assert.equal(protectedHeader.alg, 'RS256');
      const aud = [payload.aud].flat();
      assert.ok(aud.includes(ISSUER) || aud.includes(TOKEN_ENDPOINT), String(payload.aud));
      assert.ok(typeof payload.jti === 'string' && payload.exp! > payload.iat!);
    });
  }

  it('client_secret_post: the secret in the body', async () => {
    const { body, headers } = await authenticate(
      await clientAuthentication({ kind: 'client_secret_post', secret: 's3' }),
    );
    assert.equal(body.get('client_id'), 'krr-client');
    assert.equal(body.get('client_secret'), 's3');
    assert.equal(headers.get('authorization'), null);
  });

  it('refuses a key file that is no private key', async () => {
    await writeFile(join(dir, 'public.jwk'), JSON.stringify(await exportJWK(publicKey)));
    await assert.rejects(
      clientAuthentication({ kind: 'private_key_jwt', keyFile: join(dir, 'public.jwk'), keyId: 'x' }),
    );
  });
});

describe('Min profil sign-in: an issuer that never answers', () => {
  // A loopback server that takes every request and never answers it.
  let silent: Server;
  let issuer: string;
  before(async () => {
    silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  });
  after(async () => {
    silent.closeAllConnections();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it(
    'discovery fails with SignInUnavailableError (503) after the timeout, instead of hanging',
    { timeout: 30_000 },
    async () => {
      const signIn = new OidcSignIn({
        issuer,
        clientId: 'krr-client',
        clientAuth: { kind: 'none' },
        redirectUri: `${issuer}/callback`,
        allowHttp: true,
        timeoutSeconds: 1,
      });
      const err = await signIn.start('nb').then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof SignInUnavailableError, String(err));
      assert.equal(err.status, 503);
      assert.equal(err.message, 'the sign-in issuer did not answer within 1 s');
    },
  );
});

// Where the verifier fetches an issuer's metadata and keys from (docs/tokens.md#key-fetching):
// https only, except an issuer on a loopback address in dev mode, and never a redirect. The
// attack: an issuer's metadata (or JWKS) answered 302 to another server, whose keys were then
// trusted. Real HTTP servers over loopback (node:http): the issuer, and the other server.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, IssuerUnavailableError } from '../errors/errors.js';
import {
  JWKS_PATH,
  maskinportenClaims,
  METADATA_PATH,
  startFakeIssuer,
} from '../../test/support/fake-issuer.js';
import type { FakeIssuer } from '../../test/support/fake-issuer.js';
import { TokenVerifier } from './token-verifier.js';
import type { TokenVerifierOptions } from './token-verifier.js';

const SCOPE = 'krr:global/kontaktinformasjon.read';

/** A server that answers every request with `status` and `Location: <target><path>`. */
async function startRedirector(
  target: () => string,
  status = 302,
): Promise<{ base: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? '/');
    res.writeHead(status, { location: `${target()}${req.url ?? '/'}`, 'content-type': 'text/plain' });
    res.end('moved');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const verifier = (options: Partial<TokenVerifierOptions> & Pick<TokenVerifierOptions, 'trustedIssuers'>) =>
  new TokenVerifier({ clockSkewSeconds: 30, fetchTimeoutMs: 1000, refreshCooldownMs: 0, ...options });

describe('key fetching: no redirects, https only (loopback http in dev mode)', () => {
  let attacker: FakeIssuer;
  let victim: FakeIssuer;

  before(async () => {
    attacker = await startFakeIssuer();
    victim = await startFakeIssuer();
  });
  after(async () => {
    await attacker?.close();
    await victim?.close();
  });

  it("does not follow a redirect of the issuer's metadata to another server's keys", async () => {
    // The victim's issuer name, served by a redirector; the attacker's server names that issuer
    // in its metadata and publishes its own keys.
    const redirector = await startRedirector(() => attacker.base);
    try {
      const issuer = `${redirector.base}/`;
      attacker.metadataIssuer = issuer;
      const v = verifier({ trustedIssuers: [{ issuer }], allowHttpLoopback: true });
      const forged = await attacker.sign(maskinportenClaims(SCOPE, '991825827', { iss: issuer }));
      await assert.rejects(v.verify(forged), IssuerUnavailableError);
      assert.ok(redirector.hits.length > 0, 'the metadata was asked for');
      assert.equal(attacker.hitsOf(METADATA_PATH), 0, 'the redirect was not followed to the metadata');
      assert.equal(attacker.hitsOf(JWKS_PATH), 0, 'nor to the keys');
    } finally {
      attacker.metadataIssuer = undefined;
      await redirector.close();
    }
  });

  it('does not follow a redirect of a configured jwksUri, with any redirect status', async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      const redirector = await startRedirector(() => attacker.base, status);
      try {
        const before = attacker.hitsOf(JWKS_PATH);
        const v = verifier({
          trustedIssuers: [{ issuer: victim.issuer, jwksUri: `${redirector.base}${JWKS_PATH}` }],
          allowHttpLoopback: true,
        });
        const forged = await attacker.sign(maskinportenClaims(SCOPE, '991825827', { iss: victim.issuer }));
        await assert.rejects(v.verify(forged), IssuerUnavailableError, `status ${status}`);
        assert.equal(attacker.hitsOf(JWKS_PATH), before, `${status}: the redirect was not followed`);
      } finally {
        await redirector.close();
      }
    }
  });

  it('fetches from a loopback issuer over http in dev mode, as the tests and a local issuer need', async () => {
    const v = verifier({ trustedIssuers: [{ issuer: victim.issuer }], allowHttpLoopback: true });
    const token = await victim.sign(maskinportenClaims(SCOPE));
    assert.equal((await v.verify(token)).clientId, 'client-991825827');
  });

  it('refuses plain http outside dev mode: a trusted issuer, metadataUrl or jwksUri over http stops the start', () => {
    for (const trusted of [
      { issuer: victim.issuer },
      { issuer: 'https://issuer.example/', metadataUrl: `${victim.base}${METADATA_PATH}` },
      { issuer: 'https://issuer.example/', jwksUri: `${victim.base}${JWKS_PATH}` },
      { issuer: 'http://issuer.example/' },
    ]) {
      assert.throws(() => verifier({ trustedIssuers: [trusted] }), ConfigError, JSON.stringify(trusted));
      assert.throws(() => verifier({ trustedIssuers: [trusted], allowHttpLoopback: false }), ConfigError);
    }
    // https is taken (not fetched here).
    verifier({ trustedIssuers: [{ issuer: 'https://maskinporten.no/' }] });
  });

  it('refuses plain http to a host that is not loopback also in dev mode, at the start and in metadata', async () => {
    assert.throws(
      () => verifier({ trustedIssuers: [{ issuer: 'http://issuer.example/' }], allowHttpLoopback: true }),
      ConfigError,
    );
    assert.throws(
      () =>
        verifier({
          trustedIssuers: [{ issuer: victim.issuer, jwksUri: 'http://192.0.2.1/jwks' }],
          allowHttpLoopback: true,
        }),
      ConfigError,
    );
    // Metadata that names a jwks_uri over http to another host: not fetched, 503.
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: `${base}/`, jwks_uri: 'http://192.0.2.1/jwks' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const v = verifier({
        trustedIssuers: [{ issuer: `${base}/` }],
        allowHttpLoopback: true,
        fetchTimeoutMs: 4000,
      });
      const token = await victim.sign(maskinportenClaims(SCOPE, '991825827', { iss: `${base}/` }));
      const started = Date.now();
      await assert.rejects(v.verify(token), IssuerUnavailableError);
      assert.ok(Date.now() - started < 1000, 'refused without trying 192.0.2.1');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

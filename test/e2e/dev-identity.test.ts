// A dev server on `--port 0` picks its port before it starts, so its issuer and metadata name the
// port it listens on; it records its URL and issuer with the store, where `krr token` finds them.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../src/cli/serve.command.js';
import { loadConfig } from '../../src/config/config.js';
import { copyEmptyEmbeddedStore, freshDatabase, skipReason, STORE_KINDS } from '../support/stores.js';
import { devIdentityForToken, recordedDevIdentity } from '../../src/maskinporten/dev-identity.js';

for (const kind of STORE_KINDS) {
  describe(`a dev server on port 0 (${kind})`, { skip: await skipReason(kind) }, () => {
    it('names the port it listens on in its issuer and metadata, and records them for krr token', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'krr-port0-'));
      const database = kind === 'postgres' ? await freshDatabase('krr_port0') : undefined;
      const store = database ? { database: database.url } : { dataDir: join(dir, 'data') };
      // An empty store, copied rather than made by the server (see copyEmptyEmbeddedStore).
      if (!database) await copyEmptyEmbeddedStore(join(dir, 'data'));
      try {
        const config = loadConfig({ dev: true, port: 0, logLevel: 'silent', ...store }, {});
        const server = await startServer(config, { demo: false });
        try {
          const port = server.config.http.port;
          assert.notEqual(port, 0);
          assert.equal(server.url, `http://127.0.0.1:${port}`);
          const metadata = (await (
            await fetch(`${server.url}/.well-known/oauth-authorization-server`)
          ).json()) as {
            issuer: string;
            token_endpoint: string;
            jwks_uri: string;
          };
          assert.equal(metadata.issuer, `http://127.0.0.1:${port}/`);
          assert.equal(metadata.token_endpoint, `http://127.0.0.1:${port}/token`);
          assert.equal(metadata.jwks_uri, `http://127.0.0.1:${port}/jwk`);
          assert.deepEqual(await recordedDevIdentity(config.store, server.db), {
            publicUrl: `http://127.0.0.1:${port}`,
            issuer: `http://127.0.0.1:${port}/`,
          });
          // A bare `krr token` (nothing decides the issuer) takes the recorded one; a configured one wins.
          assert.equal(
            (await devIdentityForToken(loadConfig(store, {}), server.db)).issuer,
            `http://127.0.0.1:${port}/`,
          );
          assert.equal(
            (await devIdentityForToken(loadConfig({ ...store, port: '9999' }, {}), server.db)).issuer,
            'http://127.0.0.1:9999/',
          );
        } finally {
          await server.close();
        }
      } finally {
        await database?.cleanup();
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
}

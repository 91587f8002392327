// A token issuer over loopback (node:http), standing in for Maskinporten: metadata, a JWKS and
// tokens signed with its keys. Tests stop it, make it answer 500 or hang, rotate its keys, and
// count what is asked of it.

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey, JWK, JWTPayload } from 'jose';

export const METADATA_PATH = '/.well-known/oauth-authorization-server';
export const JWKS_PATH = '/jwk';

export interface IssuerKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly spkiPem: string;
}

export async function newIssuerKey(kid = `kid-${randomUUID()}`): Promise<IssuerKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return {
    kid,
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
    spkiPem: await exportSPKI(publicKey),
  };
}

export type IssuerMode = 'up' | 'error' | 'hang';

export interface FakeIssuer {
  readonly base: string;
  /** Its `iss`, with Digdir's trailing slash. */
  readonly issuer: string;
  /** The keys it publishes; the first signs by default. */
  keys: IssuerKey[];
  mode: IssuerMode;
  /** What its metadata names as the issuer (default: `issuer`). */
  metadataIssuer: string | undefined;
  /** Requests received, by path. */
  readonly hits: Map<string, number>;
  hitsOf(path: string): number;
  /** Publishes a new key first (signing from now on); `keepOld` keeps the others published. */
  rotate(keepOld?: boolean): Promise<IssuerKey>;
  /** Signs `claims` (`iss`, `iat`, `exp` added unless given) with a published key or `options.key`. */
  sign(
    claims: JWTPayload,
    options?: { key?: IssuerKey; kid?: string; header?: Record<string, unknown> },
  ): Promise<string>;
  /** Closes the listening socket: connections are refused. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeIssuer(): Promise<FakeIssuer> {
  let server: Server | undefined;
  let port = 0;
  const hits = new Map<string, number>();
  const hanging = new Set<ServerResponse>();

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (issuer.mode === 'hang') {
      hanging.add(res);
      return;
    }
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (issuer.mode === 'error') return send(500, { error: 'server_error' });
    if (path === METADATA_PATH) {
      return send(200, {
        issuer: issuer.metadataIssuer ?? issuer.issuer,
        token_endpoint: `${issuer.base}/token`,
        jwks_uri: `${issuer.base}${JWKS_PATH}`,
      });
    }
    if (path === JWKS_PATH) return send(200, { keys: issuer.keys.map((k) => k.publicJwk) });
    return send(404, { error: 'not_found' });
  };

  const listen = async () => {
    const s = createServer(handler);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    port = (s.address() as AddressInfo).port;
    server = s;
  };
  const shut = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    for (const res of hanging) res.destroy();
    hanging.clear();
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  await listen();
  const base = `http://127.0.0.1:${port}`;
  const issuer: FakeIssuer = {
    base,
    issuer: `${base}/`,
    keys: [await newIssuerKey()],
    mode: 'up',
    metadataIssuer: undefined,
    hits,
    hitsOf: (path) => hits.get(path) ?? 0,
    async rotate(keepOld = false) {
      const key = await newIssuerKey();
      issuer.keys = keepOld ? [key, ...issuer.keys] : [key];
      return key;
    },
    async sign(claims, options = {}) {
      const key = options.key ?? issuer.keys[0]!;
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: issuer.issuer, iat: now, exp: now + 120, ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? key.kid, ...options.header })
        .sign(key.privateKey);
    },
    stop: shut,
    start: listen,
    close: shut,
  };
  return issuer;
}

/** Maskinporten-shaped claims for a client of organisation `orgno`. */
export function maskinportenClaims(scope: string, orgno = '991825827', extra: JWTPayload = {}): JWTPayload {
  return {
    scope,
    client_id: `client-${orgno}`,
    client_amr: 'private_key_jwt',
    token_type: 'Bearer',
    jti: randomUUID(),
    consumer: { authority: 'iso6523-actorid-upis', ID: `0192:${orgno}` },
    ...extra,
  };
}

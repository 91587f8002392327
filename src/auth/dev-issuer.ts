// The dev-mode token issuer (`krr serve --dev`, `krr token`): an RSA key kept with the store, so
// that a token printed by one process is accepted by a server running in another.
//
// The embedded store's database can be open in only one process, so there the key is a file in the
// data directory beside it; on PostgreSQL it is a row in register_setting.

import { randomUUID } from 'node:crypto';
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import type { JWK } from 'jose';
import type { Database, StoreConfig } from '../store/database.js';

const KEY_FILE = 'dev-issuer-key.json';
const SETTING = 'dev_issuer_jwk';
export const DEV_ALGORITHM = 'RS256';

async function newPrivateJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(DEV_ALGORITHM, { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: `krr-dev-${randomUUID()}`, alg: DEV_ALGORITHM, use: 'sig' };
}

function readKeyFile(path: string): JWK | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as JWK;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The dev issuer's private JWK for an embedded store, created on first use. Does not open the database. */
export async function devKeyFromDataDir(dataDir: string): Promise<JWK> {
  const path = join(dataDir, KEY_FILE);
  const existing = readKeyFile(path);
  if (existing) return existing;
  const jwk = await newPrivateJwk();
  // Written whole to a file of its own, then linked into place: link() fails with EEXIST when
  // another process got there first (both then use its key), and a reader never sees a key file
  // that is still being written (as with writing KEY_FILE itself with 'wx', which creates it empty).
  const tmp = `${path}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(tmp, JSON.stringify(jwk), { flag: 'wx', mode: 0o600 });
  try {
    linkSync(tmp, path);
    return jwk;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return readKeyFile(path)!;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
  // A file system without hard links: create it directly ('wx': the first process wins).
  try {
    writeFileSync(path, JSON.stringify(jwk), { flag: 'wx', mode: 0o600 });
    return jwk;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readKeyFile(path)!;
    throw err;
  }
}

/** The dev issuer's private JWK kept in a PostgreSQL store, created on first use. */
export async function devKeyFromDatabase(db: Database): Promise<JWK> {
  const candidate = await newPrivateJwk();
  await db.query('insert into register_setting (name, value) values ($1, $2) on conflict (name) do nothing', [
    SETTING,
    JSON.stringify(candidate),
  ]);
  const [row] = await db.query<{ value: string }>('select value from register_setting where name = $1', [
    SETTING,
  ]);
  return JSON.parse(row!.value) as JWK;
}

export async function devKeyFor(store: StoreConfig, db: Database | undefined): Promise<JWK> {
  if (store.kind === 'embedded') return devKeyFromDataDir(store.dataDir);
  if (!db) throw new Error('a PostgreSQL store keeps the dev key in the database: open it first');
  return devKeyFromDatabase(db);
}

export function publicJwk(privateJwk: JWK): JWK {
  const { kty, n, e, kid, alg } = privateJwk;
  return { kty, n, e, kid, alg, use: 'sig' };
}

export interface DevTokenRequest {
  readonly issuer: string;
  readonly scopes: readonly string[];
  /** "0192:<orgno>" or a bare organisation number. */
  readonly consumer: string;
  readonly supplier?: string;
  readonly clientId?: string;
  readonly audience?: string;
  readonly pid?: string;
  readonly expiresInSeconds?: number;
}

function orgClaim(value: string) {
  return { authority: 'iso6523-actorid-upis', ID: value.includes(':') ? value : `0192:${value}` };
}

/** A Maskinporten-shaped access token (docs/tokens.md#maskinporten-tokens), signed by the dev issuer. */
export async function mintDevToken(privateJwk: JWK, req: DevTokenRequest): Promise<string> {
  const key = await importJWK(privateJwk, DEV_ALGORITHM);
  const claims: Record<string, unknown> = {
    scope: req.scopes.join(' '),
    client_id: req.clientId ?? 'krr-dev-client',
    consumer: orgClaim(req.consumer),
    client_amr: 'private_key_jwt',
    token_type: 'Bearer',
  };
  if (req.supplier) claims.supplier = orgClaim(req.supplier);
  if (req.pid) {
    claims.pid = req.pid;
    claims.acr = 'idporten-loa-high';
  }
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: DEV_ALGORITHM, kid: privateJwk.kid!, typ: 'at+jwt' })
    .setIssuer(req.issuer)
    .setIssuedAt()
    .setJti(randomUUID())
    .setExpirationTime(`${req.expiresInSeconds ?? 3600}s`);
  if (req.audience) jwt.setAudience(req.audience);
  return jwt.sign(key);
}

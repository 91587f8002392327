// Signed answers (docs/signed-answers.md#the-jws): a compact JWS (RS256) over the exact JSON answer bytes,
// with the signing certificate (chain) in `x5c` and a `kid`. The key and certificate come from the
// operator's files, checked at start, or in dev mode are generated once and kept in the store.

import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, CompactSign, exportJWK } from 'jose';
import { generateSelfSignedCertificate } from '../certificate/certificate-generator.js';
import { ConfigError } from '../errors/errors.js';
import type { Database } from '../store/database.js';
import { readFileBounded } from '../files/bounded-file.js';
import type { FileReadError } from '../files/bounded-file.js';

export const ANSWER_SIGNING_ALGORITHM = 'RS256';
const SETTING = 'dev_answer_signing';
const TEN_YEARS_MS = 10 * 365 * 24 * 60 * 60 * 1000;

export interface AnswerSigner {
  readonly kid: string;
  /** base64 DER, the signing certificate first. */
  readonly x5c: readonly string[];
  /** The compact JWS whose payload is exactly `payload`. */
  sign(payload: Uint8Array): Promise<string>;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** A signer from PEM texts; `source` names them in errors. Throws ConfigError when they do not fit. */
export async function answerSignerFromPem(
  keyPem: string,
  chainPem: string,
  source = 'the answer signing key and certificate',
): Promise<AnswerSigner> {
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new ConfigError(`${source}: the private key cannot be read (PEM, PKCS#8 or PKCS#1)`);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new ConfigError(`${source}: the private key must be RSA (answers are signed RS256)`);
  }
  const pems = chainPem.match(PEM_CERTIFICATE) ?? [];
  if (pems.length === 0) throw new ConfigError(`${source}: no PEM certificate found`);
  let chain: X509Certificate[];
  try {
    chain = pems.map((pem) => new X509Certificate(pem));
  } catch {
    throw new ConfigError(`${source}: a certificate cannot be read`);
  }
  if (!chain[0]!.checkPrivateKey(key)) {
    throw new ConfigError(`${source}: the first certificate is not the private key's`);
  }
  const kid = await calculateJwkThumbprint(await exportJWK(createPublicKey(key)), 'sha256');
  const x5c = chain.map((c) => c.raw.toString('base64'));
  return {
    kid,
    x5c,
    sign: (payload) =>
      new CompactSign(payload)
        .setProtectedHeader({ alg: ANSWER_SIGNING_ALGORITHM, kid, x5c: [...x5c] })
        .sign(key),
  };
}

export interface AnswerSigningFiles {
  readonly keyFile: string;
  readonly certificateFile: string;
}

export async function answerSignerFromFiles(files: AnswerSigningFiles): Promise<AnswerSigner> {
  const read = (path: string, what: string) => {
    try {
      return readFileBounded(path).toString('utf8');
    } catch (err) {
      throw new ConfigError(
        `cannot read the answer signing ${what} ${path}: ${(err as FileReadError).reason}`,
      );
    }
  };
  return answerSignerFromPem(
    read(files.keyFile, 'key'),
    read(files.certificateFile, 'certificate'),
    `answer signing (${files.keyFile}, ${files.certificateFile})`,
  );
}

/**
 * Dev mode's signer: a self-signed certificate made on first use and kept in the store's
 * register_setting (both stores have it; only the server needs it), so it stays the same across
 * restarts and clients can pin it.
 */
export async function devAnswerSigner(db: Database): Promise<AnswerSigner> {
  const [existing] = await db.query<{ value: string }>('select value from register_setting where name = $1', [
    SETTING,
  ]);
  if (!existing) {
    const generated = await generateSelfSignedCertificate({
      commonName: 'krr dev mode answer signing',
      organisation: 'krr (dev mode, not trusted)',
      keyUsage: 'signing',
      validTo: new Date(Date.now() + TEN_YEARS_MS),
    });
    const value = JSON.stringify({
      keyPem: generated.privateKeyPem,
      certificatePem: generated.certificatePem,
    });
    // Two starting processes: the first one's row wins and both use it.
    await db.query(
      'insert into register_setting (name, value) values ($1, $2) on conflict (name) do nothing',
      [SETTING, value],
    );
  }
  const [row] = await db.query<{ value: string }>('select value from register_setting where name = $1', [
    SETTING,
  ]);
  const { keyPem, certificatePem } = JSON.parse(row!.value) as { keyPem: string; certificatePem: string };
  return answerSignerFromPem(keyPem, certificatePem, 'the dev answer signing key');
}

/** Dev mode's signer, made or read on first use; a failure is not kept, so the next use tries again. */
export function lazyDevAnswerSigner(db: Database): () => Promise<AnswerSigner> {
  let pending: Promise<AnswerSigner> | undefined;
  return () => {
    pending ??= devAnswerSigner(db).catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}

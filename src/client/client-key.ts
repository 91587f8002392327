// Reading a client's public key from what an operator has at hand: a JWK or JWK Set (public or
// private: only the public part is kept), a PEM public key, a PEM private key, or a PEM certificate.
// Parsing is node:crypto's; nothing here is hand-rolled.

import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { InvalidValueError } from '../errors/errors.js';

export interface ClientKey {
  readonly kid: string;
  /** Public members only: kty, n, e, kid (and alg / use where given). */
  readonly publicJwk: JWK;
  /** base64 DER, when the key came from a certificate. */
  readonly certificate?: string;
}

/** Maskinporten takes RSA keys of at least 2048 bits. */
const MIN_MODULUS_BITS = 2048;
const KID = /^[\x21-\x7e]{1,200}$/;

function checkKid(kid: string): string {
  if (!KID.test(kid)) throw new InvalidValueError('a kid is 1 to 200 visible ASCII characters');
  return kid;
}

function rsaPublicJwk(key: KeyObject, kid: string, name: string, extra: Partial<JWK> = {}): JWK {
  if (key.asymmetricKeyType !== 'rsa') {
    throw new InvalidValueError(`the key in ${name} must be an RSA key (assertions are RS256/384/512)`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_MODULUS_BITS) {
    throw new InvalidValueError(
      `the RSA key in ${name} has ${bits} bits; at least ${MIN_MODULUS_BITS} are needed`,
    );
  }
  const { n, e } = key.export({ format: 'jwk' });
  const jwk: JWK = { kty: 'RSA', n: n!, e: e!, kid: checkKid(kid) };
  if (typeof extra.alg === 'string' && /^RS(256|384|512)$/.test(extra.alg)) jwk.alg = extra.alg;
  jwk.use = 'sig';
  return jwk;
}

function fromJwk(member: Record<string, unknown>, name: string, kid: string | undefined): ClientKey {
  const useKid = kid ?? (typeof member.kid === 'string' ? member.kid : undefined);
  if (!useKid) throw new InvalidValueError(`the JWK in ${name} has no kid: give one with --kid`);
  if (member.kty !== 'RSA') throw new InvalidValueError(`the JWK in ${name} must be an RSA key (kty RSA)`);
  if (member.use !== undefined && member.use !== 'sig') {
    const use = typeof member.use === 'string' ? member.use : JSON.stringify(member.use);
    throw new InvalidValueError(`the JWK in ${name} is not a signing key (use ${use})`);
  }
  let key: KeyObject;
  try {
    // A private JWK gives its public half; the private members are never kept.
    key =
      typeof member.d === 'string'
        ? createPublicKey(createPrivateKey({ key: member as JsonWebKey, format: 'jwk' }))
        : createPublicKey({ key: member as JsonWebKey, format: 'jwk' });
  } catch {
    throw new InvalidValueError(`the JWK in ${name} is not a usable RSA key`);
  }
  return { kid: useKid, publicJwk: rsaPublicJwk(key, useKid, name, member) };
}

/**
 * The public key(s) in a key file's `text`: a JWK or a JWK Set (each key with its own kid, or the
 * one key with `kid`), or PEM (a certificate, a public key or a private key) with `kid`.
 */
export function parseClientKeys(text: string, name: string, kid?: string): ClientKey[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      throw new InvalidValueError(`${name} is not valid JSON`);
    }
    const obj = json as Record<string, unknown>;
    if (Array.isArray(obj.keys)) {
      const members = obj.keys.filter(
        (k): k is Record<string, unknown> => typeof k === 'object' && k !== null,
      );
      if (members.length === 0) throw new InvalidValueError(`the JWK Set in ${name} holds no keys`);
      if (kid !== undefined && members.length > 1) {
        throw new InvalidValueError(
          `--kid names one key, but the JWK Set in ${name} holds ${members.length}`,
        );
      }
      return members.map((m) => fromJwk(m, name, kid));
    }
    return [fromJwk(obj, name, kid)];
  }
  if (!trimmed.includes('-----BEGIN')) {
    throw new InvalidValueError(`${name} holds neither a JWK nor a PEM key or certificate`);
  }
  if (!kid) throw new InvalidValueError(`a PEM key or certificate has no key id: give it with --kid`);
  if (trimmed.includes('-----BEGIN CERTIFICATE-----')) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(trimmed);
    } catch {
      throw new InvalidValueError(`the certificate in ${name} cannot be read`);
    }
    return [
      { kid, publicJwk: rsaPublicJwk(cert.publicKey, kid, name), certificate: cert.raw.toString('base64') },
    ];
  }
  if (trimmed.includes('ENCRYPTED')) throw new InvalidValueError(`the PEM key in ${name} is encrypted`);
  let key: KeyObject;
  try {
    key = trimmed.includes('PRIVATE KEY-----')
      ? createPublicKey(createPrivateKey({ key: trimmed, format: 'pem' }))
      : createPublicKey({ key: trimmed, format: 'pem' });
  } catch {
    throw new InvalidValueError(`the PEM key in ${name} cannot be read`);
  }
  return [{ kid, publicJwk: rsaPublicJwk(key, kid, name) }];
}

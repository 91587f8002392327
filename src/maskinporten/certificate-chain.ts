// A business certificate chain (`x5c` of an assertion, RFC 7515 section 4.1.6), checked with
// node:crypto's X509Certificate: every link signed by the next certificate (a CA), each within its
// validity period, and either the leaf's key registered for the client or the last one issued by
// (or being) a CA the operator trusts (docs/tokens.md#business-certificates). Nothing else anchors
// a chain, in dev mode neither: a self-signed certificate names whatever organisation its maker
// wants.

import { X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { ConfigError, OAuthError } from '../errors/errors.js';
import { readFileBounded } from '../files/bounded-file.js';
import type { FileReadError } from '../files/bounded-file.js';

/** Real chains are 1 to 3 certificates; a longer one is refused before anything is parsed. */
const MAX_CHAIN = 5;
const PEM_CERTIFICATES = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g;

/**
 * The CA certificates in the operator's PEM files (`trustedClientCas`), each read up to 1 MiB (a
 * system bundle is about 200 KiB; docs/operations.md#configuration); bad files stop the start.
 */
export function loadTrustedCas(paths: readonly string[]): X509Certificate[] {
  const cas: X509Certificate[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = readFileBounded(path).toString('latin1');
    } catch (err) {
      throw new ConfigError(
        `cannot read the trusted client CA file ${path}: ${(err as FileReadError).reason}`,
      );
    }
    const pems = text.match(PEM_CERTIFICATES) ?? [];
    if (pems.length === 0)
      throw new ConfigError(`the trusted client CA file ${path} holds no PEM certificate`);
    for (const pem of pems) {
      try {
        cas.push(new X509Certificate(pem));
      } catch {
        throw new ConfigError(`the trusted client CA file ${path} holds a certificate that cannot be read`);
      }
    }
  }
  return cas;
}

export interface ChainOptions {
  readonly trustedCas: readonly X509Certificate[];
  readonly now: Date;
  /** The public keys registered for the client: a leaf holding one of them needs no trusted CA. */
  readonly registeredKeys: readonly KeyObject[];
}

export interface VerifiedChain {
  /** The leaf certificate's public key: the assertion must be signed with it. */
  readonly key: KeyObject;
  /** The organisation number in the leaf's subject, if any. */
  readonly orgno: string | undefined;
  /** The leaf holds a key registered for the client. */
  readonly pinned: boolean;
}

const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'der' });

function refuse(description: string): OAuthError {
  return new OAuthError('invalid_grant', description);
}

/**
 * The organisation number of a Norwegian business certificate: the subject's serialNumber
 * (2.5.4.5; Buypass and Commfides), or organizationIdentifier (2.5.4.97) `NTRNO-<orgno>` (eIDAS).
 */
export function organisationNumberOf(cert: X509Certificate): string | undefined {
  for (const line of cert.subject.split('\n')) {
    const m = /^(?:serialNumber=|organizationIdentifier=NTRNO-)([0-9]{9})$/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

function withinValidity(cert: X509Certificate, now: Date): boolean {
  // Node 20 has no validFromDate/validToDate; its strings ("Nov 23 15:44:05 2026 GMT") parse as UTC.
  const from = new Date(cert.validFrom).getTime();
  const to = new Date(cert.validTo).getTime();
  return !Number.isNaN(from) && !Number.isNaN(to) && from <= now.getTime() && now.getTime() <= to;
}

function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

export function verifyChain(x5c: unknown, options: ChainOptions): VerifiedChain {
  if (
    !Array.isArray(x5c) ||
    x5c.length === 0 ||
    x5c.length > MAX_CHAIN ||
    !x5c.every((c) => typeof c === 'string')
  ) {
    throw refuse(`the assertion's x5c must be an array of 1 to ${MAX_CHAIN} base64 certificates`);
  }
  const chain: X509Certificate[] = [];
  for (const item of x5c) {
    // x5c is standard base64 of DER (not base64url); whitespace is tolerated.
    const b64 = item.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64))
      throw refuse("the assertion's x5c holds a value that is not base64");
    try {
      chain.push(new X509Certificate(Buffer.from(b64, 'base64')));
    } catch {
      throw refuse("the assertion's x5c holds a value that is not an X.509 certificate");
    }
  }
  for (const cert of chain) {
    if (!withinValidity(cert, options.now)) throw refuse('a certificate in x5c is expired or not yet valid');
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i + 1]!.ca || !signedBy(chain[i]!, chain[i + 1]!)) {
      throw refuse('the x5c chain is broken: a certificate is not signed by the CA that follows it');
    }
  }
  const leaf = chain[0]!;
  if (leaf.publicKey.asymmetricKeyType !== 'rsa') throw refuse('the client certificate must hold an RSA key');
  // The operator registered this key for the client (krr clients add --pem CERT, or as a JWK): the
  // certificate around it proves nothing more, and needs no CA.
  const leafKey = spki(leaf.publicKey);
  if (options.registeredKeys.some((k) => spki(k).equals(leafKey))) {
    return { key: leaf.publicKey, orgno: organisationNumberOf(leaf), pinned: true };
  }
  const last = chain[chain.length - 1]!;
  const anchored =
    options.trustedCas.some(
      (ca) => ca.fingerprint256 === last.fingerprint256 && withinValidity(ca, options.now),
    ) || options.trustedCas.some((ca) => ca.ca && withinValidity(ca, options.now) && signedBy(last, ca));
  if (!anchored) {
    throw refuse(
      "the client certificate's key is not registered for the client, and it is not issued by a CA this service trusts",
    );
  }
  return { key: leaf.publicKey, orgno: organisationNumberOf(leaf), pinned: false };
}

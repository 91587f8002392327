// Verifying a signed answer (`Accept: application/jose`, the repository's docs/signed-answers.md): a
// compact JWS whose payload is the JSON answer, with the signing certificate (and its chain) in
// `x5c`. Digdir's own client only checks the signature against the first `x5c` certificate, which
// proves nothing: anyone can sign with a certificate of their own. Here the signer must also be
// trusted by the caller: the first `x5c` certificate is one of the trusted certificates (pinned), or
// the chain in `x5c` leads, each certificate issued and signed by the next (a CA), to a certificate
// that is trusted or issued and signed by a trusted CA. Every certificate on the way must be within
// its validity period. An answer without `x5c` must verify with a trusted certificate's key.

import { X509Certificate } from 'node:crypto';
import { compactVerify, decodeProtectedHeader } from 'jose';
import { isValidAt, parseCertificates } from './certificate.parse.js';
import type { CertificateInput } from './certificate.parse.js';
import { KrrSignatureError } from './krr.errors.js';

/** RSA (Digdir and krr sign RS256), RSA-PSS and ECDSA; never `none` or HMAC. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
const MAX_CHAIN = 10;

export interface VerifiedAnswer {
  /** The answer's bytes, exactly as signed. */
  readonly payload: Uint8Array;
  /** The certificate whose key signed it. */
  readonly signer: X509Certificate;
}

const sameCertificate = (a: X509Certificate, b: X509Certificate) => a.raw.equals(b.raw);
const issuedBy = (cert: X509Certificate, issuer: X509Certificate) =>
  cert.checkIssued(issuer) && cert.verify(issuer.publicKey);

export class AnswerVerifier {
  private readonly trusted: readonly X509Certificate[];

  constructor(
    trust: CertificateInput | readonly CertificateInput[],
    private readonly now: () => number = () => Date.now(),
  ) {
    this.trusted = parseCertificates(trust, 'signedAnswers.trust');
  }

  /** Whether the chain (signer first) is trusted now; undefined when it is, else why not. */
  private untrusted(chain: readonly X509Certificate[]): string | undefined {
    const now = this.now();
    for (let i = 0; i < chain.length; i++) {
      const cert = chain[i]!;
      if (!isValidAt(cert, now)) {
        return i === 0
          ? 'is signed by a certificate outside its validity period'
          : 'carries a chain with a certificate outside its validity period';
      }
      if (this.trusted.some((t) => sameCertificate(t, cert))) return undefined;
      if (this.trusted.some((t) => t.ca && isValidAt(t, now) && issuedBy(cert, t))) return undefined;
      const next = chain[i + 1];
      if (!next || !next.ca || !issuedBy(cert, next)) break;
    }
    return 'is signed by a certificate that is not trusted (signedAnswers.trust)';
  }

  /** The answer's payload when `jws` is a compact JWS by a trusted signer; else KrrSignatureError. */
  async verify(jws: string, operation: string): Promise<VerifiedAnswer> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(jws.trim());
    } catch {
      throw new KrrSignatureError('is not a compact JWS', operation);
    }
    let candidates: readonly X509Certificate[];
    if (header.x5c !== undefined) {
      if (!Array.isArray(header.x5c) || header.x5c.length === 0 || header.x5c.length > MAX_CHAIN) {
        throw new KrrSignatureError(`carries an x5c that is not 1 to ${MAX_CHAIN} certificates`, operation);
      }
      let chain: X509Certificate[];
      try {
        // Each member is base64 DER (RFC 7515 § 4.1.6), nothing else.
        chain = header.x5c.map((member) => {
          if (typeof member !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(member))
            throw new Error('not base64');
          return new X509Certificate(Buffer.from(member, 'base64'));
        });
      } catch {
        throw new KrrSignatureError('carries an x5c certificate that cannot be read', operation);
      }
      const why = this.untrusted(chain);
      if (why) throw new KrrSignatureError(why, operation);
      candidates = [chain[0]!];
    } else {
      candidates = this.trusted.filter((t) => isValidAt(t, this.now()));
    }
    for (const signer of candidates) {
      try {
        const { payload } = await compactVerify(jws.trim(), signer.publicKey, { algorithms: ALGORITHMS });
        return { payload, signer };
      } catch {
        // the next candidate
      }
    }
    throw new KrrSignatureError(
      header.x5c !== undefined
        ? "does not verify with its x5c certificate's key"
        : 'carries no x5c and verifies with no trusted certificate',
      operation,
    );
  }
}

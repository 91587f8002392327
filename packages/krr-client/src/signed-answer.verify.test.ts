// Which signers the client trusts (the rule in signed-answer.verify.ts): a pinned certificate, or a
// chain in x5c up to a trusted certificate or to one a trusted CA issued; never a signer the answer
// alone vouches for. JWSs made here with certificates of the test's own CA.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CompactSign } from 'jose';
import { AnswerVerifier } from './signed-answer.verify.js';
import { KrrConfigError, KrrSignatureError } from './krr.errors.js';
import { makeBusinessCertificate, makeCa } from '../../../test/support/test-certificates.js';
import type { TestCertificate } from '../../../test/support/test-certificates.js';

const DAY = 86_400_000;
const ANSWER = '{"personer":[]}';

const sign = (signer: TestCertificate, header: Record<string, unknown>, payload = ANSWER) =>
  new CompactSign(new TextEncoder().encode(payload))
    .setProtectedHeader({ alg: 'RS256', ...header })
    .sign(signer.key);

describe('signed answers: whom the client trusts', () => {
  let root: TestCertificate;
  let intermediate: TestCertificate;
  let leaf: TestCertificate;
  let otherRoot: TestCertificate;
  let foreignLeaf: TestCertificate;
  let expired: TestCertificate;

  before(async () => {
    root = await makeCa('Answer Root CA');
    intermediate = await makeCa('Answer Issuing CA', root);
    leaf = await makeBusinessCertificate({ commonName: 'KRR answer signing' }, intermediate);
    otherRoot = await makeCa('Another Root CA');
    foreignLeaf = await makeBusinessCertificate({ commonName: 'KRR answer signing' }, otherRoot);
    expired = await makeBusinessCertificate(
      {
        commonName: 'old signing',
        validFrom: new Date(Date.now() - 30 * DAY),
        validTo: new Date(Date.now() - DAY),
      },
      intermediate,
    );
  });

  const accepted = async (trust: TestCertificate[], jws: string) => {
    const { payload, signer } = await new AnswerVerifier(trust.map((t) => t.pem)).verify(
      jws,
      'POST /rest/v2/personer',
    );
    assert.equal(new TextDecoder().decode(payload), ANSWER);
    return signer;
  };
  const refused = async (trust: TestCertificate[], jws: string, why: RegExp) => {
    await assert.rejects(
      new AnswerVerifier(trust.map((t) => t.der)).verify(jws, 'POST /rest/v2/personer'),
      (e: unknown) => {
        assert.ok(e instanceof KrrSignatureError, String(e));
        assert.match(e.message, why);
        return true;
      },
    );
  };

  it('takes a chain up to a trusted root, a trusted intermediate, or the pinned signer itself', async () => {
    const jws = await sign(leaf, { x5c: [leaf.der, intermediate.der, root.der] });
    const signer = await accepted([root], jws);
    assert.equal(signer.raw.toString('base64'), leaf.der);
    await accepted([intermediate], jws);
    await accepted([leaf], jws);
    // The chain need not carry the trusted CA itself.
    await accepted([root], await sign(leaf, { x5c: [leaf.der, intermediate.der] }));
    await accepted([intermediate], await sign(leaf, { x5c: [leaf.der] }));
  });

  it('refuses a signer the caller does not trust, whatever the answer carries', async () => {
    await refused([root], await sign(foreignLeaf, { x5c: [foreignLeaf.der, otherRoot.der] }), /not trusted/);
    // A chain that names the trusted root but was not issued by it.
    await refused([root], await sign(foreignLeaf, { x5c: [foreignLeaf.der, root.der] }), /not trusted/);
    // Missing the intermediate: the leaf alone does not reach the root.
    await refused([root], await sign(leaf, { x5c: [leaf.der] }), /not trusted/);
    // A leaf cannot issue: a chain through a certificate that is not a CA stops there.
    const underLeaf = await makeBusinessCertificate({ commonName: 'issued by a leaf' }, leaf);
    await refused(
      [root],
      await sign(underLeaf, { x5c: [underLeaf.der, leaf.der, intermediate.der, root.der] }),
      /not trusted/,
    );
    await refused([root], await sign(expired, { x5c: [expired.der, intermediate.der] }), /validity period/);
  });

  it('refuses a signature that does not verify with the x5c key, or a JWS without a trusted key', async () => {
    // Signed by another key than the x5c certificate's.
    await refused([leaf], await sign(foreignLeaf, { x5c: [leaf.der] }), /does not verify/);
    // A changed payload.
    const jws = await sign(leaf, { x5c: [leaf.der] });
    const [h, , s] = jws.split('.');
    const changed = `${h}.${Buffer.from('{"personer":[{"x":1}]}').toString('base64url')}.${s}`;
    await refused([leaf], changed, /does not verify/);
    // Without x5c: only a trusted certificate's key verifies it.
    await accepted([root, leaf], await sign(leaf, { kid: 'k' }));
    await refused([root], await sign(leaf, { kid: 'k' }), /no trusted certificate/);
    await refused([leaf], 'not a jws', /not a compact JWS/);
    await refused([leaf], await sign(leaf, { x5c: ['bm90IGEgY2VydA=='] }), /cannot be read/);
  });

  it('needs at least one readable certificate to trust', () => {
    assert.throws(() => new AnswerVerifier([]), KrrConfigError);
    assert.throws(
      () => new AnswerVerifier('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'),
      KrrConfigError,
    );
  });
});

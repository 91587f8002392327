// An x5c assertion (docs/tokens.md#business-certificates) is accepted only when the leaf
// certificate's key is one registered for the client, or the chain ends in a CA the operator
// trusts (trustedClientCas). The attack: a self-signed certificate whose serialNumber is a
// client's organisation number, signing as that client, also one registered with a key; it got a
// token in dev mode. Over a real socket, on both stores, with a dev server (where it worked).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseClientKeys } from '../../src/client/client-key.js';
import { DIGIPOST_ORGNO } from '../../src/demo/demo-data.js';
import { skipReason, STORE_KINDS } from '../support/stores.js';
import { makeBusinessCertificate, makeCa } from '../support/test-certificates.js';
import type { TestCertificate } from '../support/test-certificates.js';
import { jwkText, newRsaKey, signAssertion, startTokenServiceApp, x5c } from '../support/token-service.js';
import type { AssertionOptions, TokenServiceApp } from '../support/token-service.js';

const MAILBOX = 'krr:global/postkasse.write';
const LOOKUP = 'krr:global/kontaktinformasjon.read';
const ORGNO = '991825827';

for (const kind of STORE_KINDS) {
  describe(`x5c certificates and impersonation (${kind})`, { skip: await skipReason(kind) }, () => {
    const digipostKey = newRsaKey();
    let t: TokenServiceApp;
    let ca: TestCertificate;
    let untrustedCa: TestCertificate;
    let registered: TestCertificate;
    let registeredByUntrusted: TestCertificate;
    let keyAsJwk: TestCertificate;
    let caIssued: TestCertificate;
    let untrustedIssued: TestCertificate;
    let forgedDigipost: TestCertificate;
    let forgedOrg: TestCertificate;

    before(async () => {
      ca = await makeCa('Trusted Business CA');
      untrustedCa = await makeCa('Someone Else CA');
      registered = await makeBusinessCertificate({ commonName: 'Registrert AS', orgno: ORGNO });
      registeredByUntrusted = await makeBusinessCertificate({ commonName: 'Uten orgnr' }, untrustedCa);
      keyAsJwk = await makeBusinessCertificate({ commonName: 'Nøkkel AS' });
      caIssued = await makeBusinessCertificate({ commonName: 'Virksomhet AS', orgno: ORGNO }, ca);
      untrustedIssued = await makeBusinessCertificate(
        { commonName: 'Virksomhet AS', orgno: ORGNO },
        untrustedCa,
      );
      // The attacker's: self-signed, naming the victim's organisation number in serialNumber.
      forgedDigipost = await makeBusinessCertificate({ commonName: 'Digipost AS', orgno: DIGIPOST_ORGNO });
      forgedOrg = await makeBusinessCertificate({ commonName: 'Registrert AS', orgno: ORGNO });
      t = await startTokenServiceApp(kind, ca, async (_store, clients) => {
        await clients.add({
          clientId: 'digipost-client',
          orgno: DIGIPOST_ORGNO,
          scopes: `${MAILBOX} ${LOOKUP}`,
          keys: parseClientKeys(await jwkText(digipostKey, 'digipost-kid'), 'digipost.json'),
        });
        // krr clients add --pem CERT --kid: the certificate's key is the client's.
        await clients.add({
          clientId: 'cert-client',
          orgno: ORGNO,
          scopes: LOOKUP,
          keys: [
            ...parseClientKeys(registered.pem, 'cert.pem', 'cert-kid'),
            ...parseClientKeys(registeredByUntrusted.pem, 'other.pem', 'other-kid'),
          ],
        });
        // krr clients add --jwk: the key a certificate holds, registered as a JWK.
        await clients.add({
          clientId: 'jwk-client',
          orgno: ORGNO,
          scopes: LOOKUP,
          keys: parseClientKeys(await jwkText(keyAsJwk.key, 'jwk-kid'), 'jwk.json'),
        });
        // Without a key: only certificates from a trusted CA.
        await clients.add({ clientId: 'x5c-client', orgno: ORGNO, scopes: LOOKUP, keys: [] });
      });
    });
    after(async () => {
      await t?.close();
    });

    const sign = (o: Omit<AssertionOptions, 'scope'> & { scope?: string }) =>
      signAssertion({ scope: LOOKUP, ...o });

    it("refuses a self-signed certificate that names a client's organisation: for a client with a key, and an x5c-only one", async () => {
      await t.refused(
        await sign({
          iss: 'digipost-client',
          key: forgedDigipost.key,
          header: x5c(forgedDigipost),
          scope: MAILBOX,
        }),
        /certificate/,
      );
      // With the client's kid beside it: the x5c is what the assertion is checked with, and it is refused.
      await t.refused(
        await sign({
          iss: 'digipost-client',
          key: forgedDigipost.key,
          header: { kid: 'digipost-kid', ...x5c(forgedDigipost) },
        }),
        /certificate/,
      );
      await t.refused(
        await sign({ iss: 'x5c-client', key: forgedOrg.key, header: x5c(forgedOrg) }),
        /certificate/,
      );
      await t.refused(
        await sign({ iss: 'cert-client', key: forgedOrg.key, header: x5c(forgedOrg) }),
        /certificate/,
      );
      // A forged chain: the attacker's certificate "issued" by a trusted CA's copy it cannot sign with.
      await t.refused(
        await sign({ iss: 'x5c-client', key: forgedOrg.key, header: x5c(forgedOrg, ca) }),
        /broken/,
      );
    });

    it('takes x5c with a certificate whose key is registered for the client: --pem CERT --kid, or the key as a JWK', async () => {
      for (const [cert, header, amr] of [
        [registered, x5c(registered), 'virksomhetssertifikat'],
        [registered, { kid: 'cert-kid' }, 'private_key_jwt'],
        [registeredByUntrusted, x5c(registeredByUntrusted), 'virksomhetssertifikat'],
        [registeredByUntrusted, x5c(registeredByUntrusted, untrustedCa), 'virksomhetssertifikat'],
      ] as const) {
        const { claims } = await t.tokenFor(await sign({ iss: 'cert-client', key: cert.key, header }));
        assert.equal(claims.client_id, 'cert-client');
        assert.equal(claims.client_amr, amr);
      }
      const { claims } = await t.tokenFor(
        await sign({ iss: 'jwk-client', key: keyAsJwk.key, header: x5c(keyAsJwk) }),
      );
      assert.equal(claims.client_amr, 'virksomhetssertifikat');
      // Registered for that client only.
      await t.refused(
        await sign({ iss: 'x5c-client', key: registered.key, header: x5c(registered) }),
        /certificate/,
      );
      await t.refused(
        await sign({ iss: 'jwk-client', key: registered.key, header: x5c(registered) }),
        /certificate/,
      );
    });

    it("takes a certificate of the client's organisation from a CA the operator trusts (trustedClientCas)", async () => {
      for (const chain of [[caIssued], [caIssued, ca]]) {
        for (const iss of ['x5c-client', 'cert-client']) {
          const { claims } = await t.tokenFor(await sign({ iss, key: caIssued.key, header: x5c(...chain) }));
          assert.equal(claims.client_amr, 'virksomhetssertifikat');
        }
      }
      await t.refused(
        await sign({
          iss: 'x5c-client',
          key: untrustedIssued.key,
          header: x5c(untrustedIssued, untrustedCa),
        }),
        /trust/,
      );
    });
  });
}

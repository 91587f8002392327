// The operator's side of mailbox providers (docs/mailbox.md#provider-administration): add, list, update,
// remove, and the print certificate, on both stores.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateSelfSignedCertificate } from '../certificate/certificate-generator.js';
import { ConflictError, InvalidValueError, NotFoundError } from '../errors/errors.js';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import type { Person } from '../person/person.js';
import { PersonWriter } from '../register/person.writer.js';
import { skipReason, STORE_KINDS } from '../../test/support/stores.js';
import { openTestStore } from '../../test/support/stores.js';
import type { TestStore } from '../../test/support/stores.js';
import { ProviderRepository } from './provider.repository.js';
import { ProviderService } from './provider.service.js';

const DIGIPOST = '984661185';
const EBOKS = '996460320';
const BAD_ORGNOS = ['984661186', '98466118', '9846611850', 'abcdefghi', ''];
const DAY_MS = 24 * 60 * 60 * 1000;

const [CERT_A, CERT_B, EXPIRED, SIGNING_ONLY, EC] = await Promise.all([
  generateSelfSignedCertificate({ commonName: 'provider a' }),
  generateSelfSignedCertificate({ commonName: 'provider b' }),
  generateSelfSignedCertificate({
    commonName: 'expired',
    validFrom: new Date(Date.now() - 400 * DAY_MS),
    validTo: new Date(Date.now() - DAY_MS),
  }),
  generateSelfSignedCertificate({ commonName: 'signing only', keyUsage: 'signing' }),
  generateSelfSignedCertificate({ commonName: 'ec key', keyType: 'ec' }),
]).then((certs) => certs.map((c) => c.certificateDerBase64));
const NOT_YET_VALID = (
  await generateSelfSignedCertificate({
    commonName: 'not yet',
    keyType: 'ec',
    validFrom: new Date(Date.now() + DAY_MS),
  })
).certificateDerBase64;

const BAD_CERTIFICATES: ReadonlyArray<readonly [string, string]> = [
  ['expired', EXPIRED!],
  ['signing only', SIGNING_ONLY!],
  ['an EC key (not for encryption)', EC!],
  ['not yet valid', NOT_YET_VALID],
  ['not a certificate', 'garbage'],
  ['PEM armour', `-----BEGIN CERTIFICATE-----\n${CERT_A}\n-----END CERTIFICATE-----`],
];

const withMailbox = (personidentifikator: string, provider: string): Person => ({
  personidentifikator,
  status: 'AKTIV',
  reservasjon: 'NEI',
  digital_post: {
    postkasseadresse: `person.${personidentifikator}#X`,
    postkasseleverandoeradresse: provider,
  },
});

for (const kind of STORE_KINDS) {
  describe(`mailbox providers, the operator's side (${kind})`, { skip: await skipReason(kind) }, () => {
    let store: TestStore;
    let service: ProviderService;
    let writer: PersonWriter;

    // Plain arrays: PostgreSQL's driver answers with an array subclass.
    const list = async () => [...(await service.list())];

    before(async () => {
      store = await openTestStore(kind);
      service = new ProviderService(store.db);
      writer = new PersonWriter(store.db);
    });
    after(async () => store?.dispose());

    it('adds, lists (by orgno), updates the certificate and the name', async () => {
      assert.deepEqual(await list(), []);
      await service.add({ orgno: EBOKS, name: 'e-Boks', certificate: CERT_B! });
      await service.add({ orgno: DIGIPOST, name: 'Digipost', certificate: CERT_A! });
      assert.deepEqual(await list(), [
        { orgno: DIGIPOST, name: 'Digipost', certificate: CERT_A },
        { orgno: EBOKS, name: 'e-Boks', certificate: CERT_B },
      ]);

      await service.updateCertificate(DIGIPOST, CERT_B!);
      assert.deepEqual(await new ProviderRepository(store.db).find(DIGIPOST), {
        orgno: DIGIPOST,
        name: 'Digipost',
        certificate: CERT_B,
      });
      await service.updateCertificate(DIGIPOST, CERT_A!, 'Digipost AS');
      assert.deepEqual(await list(), [
        { orgno: DIGIPOST, name: 'Digipost AS', certificate: CERT_A },
        { orgno: EBOKS, name: 'e-Boks', certificate: CERT_B },
      ]);
    });

    it('refuses a second add of the same provider (ConflictError) and keeps the first', async () => {
      await assert.rejects(
        service.add({ orgno: DIGIPOST, name: 'Another', certificate: CERT_B! }),
        ConflictError,
      );
      const digipost = (await list()).find((p) => p.orgno === DIGIPOST);
      assert.deepEqual(digipost, { orgno: DIGIPOST, name: 'Digipost AS', certificate: CERT_A });
    });

    it('refuses an organisation number with a bad check digit (mod 11): InvalidValueError', async () => {
      const valid = '974761076';
      for (const orgno of BAD_ORGNOS) {
        await assert.rejects(
          service.add({ orgno, name: 'Bad', certificate: CERT_A! }),
          InvalidValueError,
          orgno,
        );
        await assert.rejects(service.updateCertificate(orgno, CERT_A!), InvalidValueError, orgno);
        await assert.rejects(service.remove(orgno), InvalidValueError, orgno);
        await assert.rejects(service.setPrintCertificate(orgno, CERT_A!), InvalidValueError, orgno);
      }
      // A valid one with no provider behind it is fine to add.
      await service.add({ orgno: valid, name: 'Valid', certificate: CERT_A! });
      await service.remove(valid);
      assert.deepEqual(
        (await list()).map((p) => p.orgno),
        [DIGIPOST, EBOKS],
      );
    });

    it('refuses an empty name: InvalidValueError', async () => {
      await assert.rejects(
        service.add({ orgno: '974761076', name: '  ', certificate: CERT_A! }),
        InvalidValueError,
      );
    });

    for (const [what, certificate] of BAD_CERTIFICATES) {
      it(`refuses a certificate that is ${what}: InvalidValueError, nothing changed`, async () => {
        const before = await list();
        await assert.rejects(
          service.add({ orgno: '974761076', name: 'New', certificate }),
          InvalidValueError,
        );
        await assert.rejects(service.updateCertificate(DIGIPOST, certificate), InvalidValueError);
        await assert.rejects(service.setPrintCertificate(DIGIPOST, certificate), InvalidValueError);
        assert.deepEqual(await list(), before);
        assert.equal(await new ProviderRepository(store.db).printCertificate(), undefined);
      });
    }

    it('updating or removing an unknown provider: NotFoundError', async () => {
      await assert.rejects(service.updateCertificate('974761076', CERT_A!), NotFoundError);
      await assert.rejects(service.remove('974761076'), NotFoundError);
    });

    it('refuses to remove a provider while a person uses it (ConflictError); allows it after', async () => {
      const first = makeIdentifier({ day: 1, month: 1, year: 80 });
      const second = makeIdentifier({ day: 2, month: 2, year: 81 });
      await writer.write([withMailbox(first, EBOKS), withMailbox(second, EBOKS)]);
      await assert.rejects(service.remove(EBOKS), ConflictError);
      assert.ok((await list()).some((p) => p.orgno === EBOKS));

      // One left: still refused.
      await writer.write([{ personidentifikator: first, status: 'AKTIV', reservasjon: 'NEI' }]);
      await assert.rejects(service.remove(EBOKS), ConflictError);

      // A SLETTET person keeps no mailbox.
      await writer.write([{ personidentifikator: second, status: 'SLETTET', reservasjon: 'NEI' }]);
      await service.remove(EBOKS);
      assert.deepEqual(
        (await list()).map((p) => p.orgno),
        [DIGIPOST],
      );
      await assert.rejects(service.remove(EBOKS), NotFoundError);
      // Digipost's persons do not hold e-Boks back, nor the other way round.
      await writer.write([withMailbox(first, DIGIPOST)]);
      await service.add({ orgno: EBOKS, name: 'e-Boks', certificate: CERT_B! });
      await service.remove(EBOKS);
      await assert.rejects(service.remove(DIGIPOST), ConflictError);
    });

    it('sets and replaces the print certificate', async () => {
      const providers = new ProviderRepository(store.db);
      assert.equal(await providers.printCertificate(), undefined);
      await service.setPrintCertificate(DIGIPOST, CERT_A!);
      assert.deepEqual(await providers.printCertificate(), { orgno: DIGIPOST, certificate: CERT_A });
      await service.setPrintCertificate(EBOKS, CERT_B!);
      assert.deepEqual(await providers.printCertificate(), { orgno: EBOKS, certificate: CERT_B });
    });
  });
}

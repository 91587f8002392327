// consumer_org only for delegations registered with the client (docs/tokens.md#delegations), over
// a real socket, on both stores. The attack: e-Boks' client asks for a token whose consumer is
// Digipost, and with it deletes a Digipost mailbox (the mailbox operations act for the token's
// consumer). The flow it must leave working: a supplier Digipost delegated to acts for Digipost,
// and the audit records the consumer, the supplier and the client.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditRepository } from '../../src/audit/audit.repository.js';
import { parseClientKeys } from '../../src/client/client-key.js';
import { demoPersons, DIGIPOST_ORGNO, EBOKS_ORGNO } from '../../src/demo/demo-data.js';
import { seedDemo } from '../../src/demo/demo-seed.js';
import { PersonRepository } from '../../src/register/person.repository.js';
import { skipReason, STORE_KINDS } from '../support/stores.js';
import { makeCa } from '../support/test-certificates.js';
import { jwkText, newRsaKey, signAssertion, startTokenServiceApp } from '../support/token-service.js';
import type { TokenServiceApp } from '../support/token-service.js';

const MAILBOX = 'krr:global/postkasse.write';
const LOOKUP = 'krr:global/kontaktinformasjon.read';
/** An organisation that runs Digipost's mailbox integration (a supplier), not a provider itself. */
const SUPPLIER = '974760673';
const org = (orgno: string) => ({ authority: 'iso6523-actorid-upis', ID: `0192:${orgno}` });

for (const kind of STORE_KINDS) {
  describe(`consumer_org and delegations (${kind})`, { skip: await skipReason(kind) }, () => {
    const eboksKey = newRsaKey();
    const supplierKey = newRsaKey();
    let t: TokenServiceApp;
    const person = demoPersons(Date.now())[0]!.person;

    before(async () => {
      t = await startTokenServiceApp(kind, await makeCa('Unused CA'), async (store, clients) => {
        await seedDemo(store.db, Date.now());
        await clients.add({
          clientId: 'eboks-client',
          orgno: EBOKS_ORGNO,
          scopes: `${MAILBOX} ${LOOKUP}`,
          keys: parseClientKeys(await jwkText(eboksKey, 'eboks-kid'), 'eboks.json'),
        });
        await clients.add({
          clientId: 'supplier-client',
          orgno: SUPPLIER,
          scopes: `${MAILBOX} ${LOOKUP}`,
          keys: parseClientKeys(await jwkText(supplierKey, 'supplier-kid'), 'supplier.json'),
          delegatedBy: [DIGIPOST_ORGNO],
        });
      });
    });
    after(async () => {
      await t?.close();
    });

    const eboks = (consumerOrg: string, scope = MAILBOX) =>
      signAssertion({
        iss: 'eboks-client',
        key: eboksKey,
        header: { kid: 'eboks-kid' },
        scope,
        claims: { consumer_org: consumerOrg },
      });
    const supplier = (consumerOrg: string, scope = MAILBOX) =>
      signAssertion({
        iss: 'supplier-client',
        key: supplierKey,
        header: { kid: 'supplier-kid' },
        scope,
        claims: { consumer_org: consumerOrg },
      });

    it("refuses e-Boks' client a token as Digipost, so it cannot delete Digipost's mailbox", async () => {
      assert.equal(person.digital_post?.postkasseleverandoeradresse, DIGIPOST_ORGNO);
      const res = await t.grant(await eboks(DIGIPOST_ORGNO));
      if (res.status === 200) {
        // What the token was good for before consumer_org was checked.
        const slett = await t.post('/rest/v1/postkasse/slett', String(res.body.access_token), {
          personidentifikator: person.personidentifikator,
          virksomhetsidentifikator: DIGIPOST_ORGNO,
        });
        assert.fail(`e-Boks' client got a token as Digipost, and slett answered ${JSON.stringify(slett)}`);
      }
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_grant');
      assert.match(String(res.body.error_description), /consumer_org/);
      const [stored] = await new PersonRepository(t.store.db).findMany([person.personidentifikator]);
      assert.equal(stored?.mailboxProvider, DIGIPOST_ORGNO, 'the Digipost mailbox is still there');
    });

    it('refuses consumer_org for any organisation that did not delegate to the client', async () => {
      await t.refused(await supplier(EBOKS_ORGNO, LOOKUP), /consumer_org/);
      await t.refused(await eboks('974760673', LOOKUP), /consumer_org/);
    });

    it("takes consumer_org naming the client's own organisation", async () => {
      const { claims } = await t.tokenFor(await eboks(EBOKS_ORGNO, LOOKUP));
      assert.deepEqual(claims.consumer, org(EBOKS_ORGNO));
    });

    it('takes consumer_org for a registered delegation: the mailbox operations act for the consumer, and the audit records consumer, supplier and client', async () => {
      const { token, claims } = await t.tokenFor(await supplier(DIGIPOST_ORGNO));
      assert.deepEqual(claims.consumer, org(DIGIPOST_ORGNO));
      assert.deepEqual(claims.supplier, org(SUPPLIER));
      assert.equal(claims.client_id, 'supplier-client');
      const res = await t.post('/rest/v1/postkasse/slett', token, {
        personidentifikator: person.personidentifikator,
        virksomhetsidentifikator: DIGIPOST_ORGNO,
      });
      assert.deepEqual(res, { status: 200, body: { status: 'OK' } });
      const [entry] = await new AuditRepository(t.store.db).latest(1);
      assert.equal(entry!.endpoint, '/rest/v1/postkasse/slett');
      assert.equal(entry!.clientId, 'supplier-client');
      assert.equal(entry!.consumer, DIGIPOST_ORGNO);
      assert.equal(entry!.supplier, SUPPLIER);
    });
  });
}

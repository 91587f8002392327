// A request's audit entry is bounded in bytes, whatever it sent (docs/errors.md#audit-trail): a
// refused lookup of 1000 long strings, and a mailbox question about a long "identifier", each keep
// at most 1000 values of at most 11 characters. Both stores, through HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO_DIGIPOST_CERTIFICATE } from '../demo/demo-certificates.js';
import { DIGIPOST_ORGNO } from '../demo/demo-data.js';
import { ProviderService } from '../provider/provider.service.js';
import { skipReason, STORE_KINDS } from '../../test/support/stores.js';
import { startTestApp } from '../../test/support/test-app.js';
import type { TestApp } from '../../test/support/test-app.js';
import { AUDIT_MAX_VALUES, AUDIT_VALUE_CHARS, auditedValues } from './audit.repository.js';

describe('auditedValues', () => {
  it('cuts each value to 11 characters and keeps at most 1000, leaving identifiers as they are', () => {
    assert.deepEqual(auditedValues(['12345678901', 'x'.repeat(5000), '']), [
      '12345678901',
      'x'.repeat(11),
      '',
    ]);
    assert.equal(auditedValues(Array.from({ length: 1500 }, () => 'y')).length, AUDIT_MAX_VALUES);
    // A cut through a surrogate pair leaves nothing unstorable behind.
    assert.deepEqual(auditedValues([`${'a'.repeat(10)}😀`]), [`${'a'.repeat(10)}\ufffd`]);
  });
});

for (const kind of STORE_KINDS) {
  describe(`the audit trail's entries are bounded (${kind})`, { skip: await skipReason(kind) }, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(kind);
      await new ProviderService(t.store.db).add({
        orgno: DIGIPOST_ORGNO,
        name: 'Digipost',
        certificate: DEMO_DIGIPOST_CERTIFICATE,
      });
    });
    after(async () => t?.close());

    async function newestEntry(): Promise<{ values: number; longest: number; bytes: number }> {
      const [row] = await t.store.db.query<{ values: number; longest: number | null; bytes: number }>(
        `select cardinality(identifiers) as values,
                (select max(length(v)) from unnest(identifiers) as v) as longest,
                octet_length(array_to_string(identifiers, ',')) as bytes
         from audit_log order by id desc limit 1`,
      );
      assert.ok(row, 'an audit entry');
      return { values: Number(row.values), longest: Number(row.longest ?? 0), bytes: Number(row.bytes) };
    }

    it('a refused lookup of 1000 long strings keeps 1000 values of at most 11 characters', async () => {
      const token = await t.token(['krr:global/kontaktinformasjon.read']);
      const body = { personidentifikatorer: Array.from({ length: 1000 }, (_, i) => `${i}`.padEnd(900, 'z')) };
      const res = await t.post('/rest/v2/personer', body, token);
      assert.equal(res.statusCode, 422);
      const entry = await newestEntry();
      assert.equal(entry.values, 1000);
      assert.equal(entry.longest, AUDIT_VALUE_CHARS);
      assert.ok(entry.bytes <= 12 * AUDIT_MAX_VALUES, `${entry.bytes} bytes`);
    });

    it('kanVelge with a 200 kB personidentifikator keeps 11 characters of it', async () => {
      const token = await t.token(['krr:global/postkasse.write'], { consumer: `0192:${DIGIPOST_ORGNO}` });
      const res = await t.post(
        '/rest/v1/postkasse/kanVelge',
        { personidentifikator: '1'.repeat(200_000) },
        token,
      );
      assert.equal(res.statusCode, 200, res.body);
      const entry = await newestEntry();
      assert.equal(entry.values, 1);
      assert.equal(entry.longest, AUDIT_VALUE_CHARS);
    });
  });
}

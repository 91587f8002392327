// An import holds certificates and text to the rules the mailbox operations hold them to
// (docs/register.md#certificates, docs/import-export.md#lines): an EC or signing-only certificate,
// DER followed by anything, and a line that is not UTF-8 each stop the import with the line's
// number and write nothing; an expired encryption certificate is stored as it came. Both stores,
// on this thread and on the import's worker threads.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { isEncryptionCertificate } from '../certificate/certificate-check.js';
import { generateSelfSignedCertificate } from '../certificate/certificate-generator.js';
import { ImportError } from '../errors/errors.js';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import { PersonRepository } from '../register/person.repository.js';
import { PersonWriter } from '../register/person.writer.js';
import { openTestStore, skipReason, STORE_KINDS } from '../../test/support/stores.js';
import type { TestStore } from '../../test/support/stores.js';
import { importPersonsFromBytes } from './import.service.js';

const RULES = { allowSynthetic: true, isCertificate: isEncryptionCertificate };
const P = [1, 2, 3].map((day) => makeIdentifier({ day, month: 3, year: 82 }));

let rsa = '';
let ec = '';
let signing = '';
let expired = '';
before(async () => {
  const base = {
    commonName: 'krr import test',
    organisation: 'Digipost AS',
    organisationNumber: '984661185',
  };
  const made = (
    await Promise.all([
      generateSelfSignedCertificate(base),
      generateSelfSignedCertificate({ ...base, keyType: 'ec' }),
      generateSelfSignedCertificate({ ...base, keyUsage: 'signing' }),
      generateSelfSignedCertificate({
        ...base,
        validFrom: new Date('2020-01-01T00:00:00Z'),
        validTo: new Date('2021-01-01T00:00:00Z'),
      }),
    ])
  ).map((c) => c.certificateDerBase64);
  [rsa, ec, signing, expired] = made as [string, string, string, string];
});

const person = (pid: string, sertifikat?: string) =>
  JSON.stringify({ personidentifikator: pid, status: 'AKTIV', ...(sertifikat ? { sertifikat } : {}) });

describe('isEncryptionCertificate', () => {
  it('takes one DER value with an RSA key for encryption, whatever its dates', () => {
    assert.equal(isEncryptionCertificate(rsa), true);
    assert.equal(isEncryptionCertificate(expired), true);
    assert.equal(isEncryptionCertificate(ec), false);
    assert.equal(isEncryptionCertificate(signing), false);
    const der = Buffer.from(rsa, 'base64');
    assert.equal(
      isEncryptionCertificate(Buffer.concat([der, Buffer.from('junk')]).toString('base64')),
      false,
    );
    assert.equal(isEncryptionCertificate(Buffer.concat([der, Buffer.alloc(3)]).toString('base64')), false);
    assert.equal(isEncryptionCertificate(der.subarray(0, der.length - 1).toString('base64')), false);
  });
});

for (const kind of STORE_KINDS) {
  for (const workers of [0, 1]) {
    describe(`import strictness (${kind}, ${workers} workers)`, { skip: await skipReason(kind) }, () => {
      let store: TestStore;
      before(async () => {
        store = await openTestStore(kind);
      });
      after(async () => store?.dispose());

      async function load(lines: (string | Buffer)[]) {
        const bytes = Buffer.concat(lines.flatMap((l) => [Buffer.from(l), Buffer.from('\n')]));
        return importPersonsFromBytes(new PersonWriter(store.db), Readable.from([bytes]), {
          rules: RULES,
          workers,
        });
      }
      async function refused(lines: (string | Buffer)[], line: number, reason: RegExp) {
        await assert.rejects(load(lines), (e: unknown) => {
          assert.ok(e instanceof ImportError, String(e));
          assert.match(e.message, new RegExp(`^line ${line}: `));
          assert.match(e.message, reason);
          return true;
        });
        assert.equal((await new PersonRepository(store.db).findMany(P)).length, 0, 'nothing written');
      }

      it('refuses an EC certificate, a signing-only one and DER followed by junk', async () => {
        await refused([person(P[0]!), person(P[1]!, ec)], 2, /sertifikat/);
        await refused([person(P[0]!, signing)], 1, /sertifikat/);
        const junk = Buffer.concat([Buffer.from(rsa, 'base64'), Buffer.from([0, 0, 0])]).toString('base64');
        await refused([person(P[0]!), person(P[1]!), person(P[2]!, junk)], 3, /sertifikat/);
      });

      it('refuses a line that is not UTF-8, naming it, and stores no replacement character', async () => {
        const bad = Buffer.concat([
          Buffer.from(person(P[1]!).slice(0, -1)),
          Buffer.from(',"spraak":"'),
          Buffer.from([0xff, 0xfe]),
          Buffer.from('"}'),
        ]);
        await refused([person(P[0]!), bad, person(P[2]!)], 2, /not valid UTF-8/);
        // An earlier bad line is still the one reported.
        await refused(['{not json', bad], 1, /not valid JSON/);
      });

      it('stores an expired encryption certificate as it came, and a good one', async () => {
        const summary = await load([person(P[0]!, expired), person(P[1]!, rsa)]);
        assert.equal(summary.persons, 2);
        const stored = await new PersonRepository(store.db).findMany([P[0]!, P[1]!]);
        assert.deepEqual(
          stored.map((p) => p.sertifikat).sort(),
          [`"sertifikat":"${expired}"`, `"sertifikat":"${rsa}"`].sort(),
        );
      });
    });
  }
}

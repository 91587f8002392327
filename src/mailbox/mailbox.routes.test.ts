// The mailbox providers' operations (docs/mailbox.md#operations), provider certificates
// (docs/mailbox.md#certificates) and the print certificate (docs/mailbox.md#print-certificate), with
// their feed changes (docs/change-feed.md#what-is-a-change) and errors (docs/errors.md#statuses),
// through HTTP, on both stores.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateSelfSignedCertificate } from '../certificate/certificate-generator.js';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import type { Person } from '../person/person.js';
import { ProviderService } from '../provider/provider.service.js';
import { assertErrorBody } from '../../test/support/error-body.js';
import { skipReason, STORE_KINDS } from '../../test/support/stores.js';
import { startTestApp } from '../../test/support/test-app.js';
import type { TestApp } from '../../test/support/test-app.js';

const DIGIPOST = '984661185';
const EBOKS = '996460320';
const PRINT_ORGNO = '991825827';
const WRITE = 'krr:global/postkasse.write';
const LOOKUP_SCOPES = ['krr:global/digitalpost.read'];
const FEED_SCOPES = ['krr:global/hentendring.read', 'krr:global/digitalpost.read'];
const DAY_MS = 24 * 60 * 60 * 1000;

// RSA key generation is slow: a few certificates, made once and shared by both stores.
const encryption = (commonName: string) =>
  generateSelfSignedCertificate({ commonName, keyUsage: 'encryption' }).then((c) => c.certificateDerBase64);
const [DIGIPOST_CERT, DIGIPOST_CERT_2, EBOKS_CERT, OWN_CERT, EXPIRED_CERT, SIGNING_CERT] = await Promise.all([
  encryption('digipost encryption'),
  encryption('digipost encryption, renewed'),
  encryption('e-boks encryption'),
  encryption("a person's own encryption certificate"),
  generateSelfSignedCertificate({
    commonName: 'expired encryption',
    validFrom: new Date(Date.now() - 400 * DAY_MS),
    validTo: new Date(Date.now() - DAY_MS),
  }).then((c) => c.certificateDerBase64),
  generateSelfSignedCertificate({ commonName: 'signing only', keyUsage: 'signing' }).then(
    (c) => c.certificateDerBase64,
  ),
]);
const PEM_ARMOURED = `-----BEGIN CERTIFICATE-----\n${OWN_CERT.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
const BAD_CERTIFICATES: ReadonlyArray<readonly [string, string]> = [
  ['an expired certificate', EXPIRED_CERT],
  ['a signing-only certificate', SIGNING_CERT],
  ['garbage', 'this is not a certificate'],
  ['base64 garbage', Buffer.from('not a DER certificate at all, just bytes').toString('base64')],
  ['a PEM-armoured certificate', PEM_ARMOURED],
  ['a truncated certificate', OWN_CERT.slice(0, 200)],
];

const id = (day: number, month: number, year: number) => makeIdentifier({ day, month, year });
const WALKER = id(1, 2, 85);
const RESERVED = id(2, 3, 86);
const UNKNOWN = id(3, 4, 87);
const DELETED = id(4, 5, 88);
const AT_EBOKS = id(5, 6, 89);
const AT_DIGIPOST = id(6, 7, 90);
const NO_MAILBOX = id(7, 8, 91);
const CERT_CASES = id(8, 9, 92);
const DIGIPOST_OWN_CERT = id(9, 10, 93);
const MALFORMED = ['123', '12345678901', 'abcdefghijk', `${WALKER}0`];

const aktiv = (personidentifikator: string, extra: Partial<Person> = {}): Person => ({
  personidentifikator,
  status: 'AKTIV',
  reservasjon: 'NEI',
  ...extra,
});
const mailbox = (postkasseadresse: string, postkasseleverandoeradresse: string) => ({
  postkasseadresse,
  postkasseleverandoeradresse,
});

const PERSONS: Person[] = [
  aktiv(WALKER),
  aktiv(RESERVED, { reservasjon: 'JA', reservasjonstidspunkt: Date.parse('2019-01-02T10:00:00Z') }),
  { personidentifikator: DELETED, status: 'SLETTET', reservasjon: 'NEI' },
  aktiv(AT_EBOKS, { digital_post: mailbox('kari.nordmann#EB01', EBOKS) }),
  aktiv(AT_DIGIPOST, { digital_post: mailbox('per.nordmann#DP01', DIGIPOST) }),
  aktiv(NO_MAILBOX),
  aktiv(CERT_CASES),
  aktiv(DIGIPOST_OWN_CERT, { digital_post: mailbox('own.cert#DP02', DIGIPOST), sertifikat: OWN_CERT }),
];

type Operation = 'kanVelge' | 'opprettOgVelg' | 'oppdater' | 'slett';
type Json = Record<string, unknown>;
type Res = { statusCode: number; headers: Record<string, unknown>; body: string };

interface FeedAnswer {
  list: Json[];
  fraEndringsId: number;
  tilEndringsId: number;
  sisteEndringsId: number;
}

function assertAnswer(res: Res, expected: Json) {
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers['content-type'], 'application/json');
  // Exactly this body: these keys in this order, nothing else.
  assert.equal(res.body, JSON.stringify(expected));
}

for (const kind of STORE_KINDS) {
  describe(`mailbox providers' operations (${kind})`, { skip: await skipReason(kind) }, () => {
    let t: TestApp;
    let providers: ProviderService;
    let digipost: string;
    let eboks: string;
    let unregistered: string;
    let lookupToken: string;
    let feedToken: string;

    before(async () => {
      t = await startTestApp(kind);
      providers = new ProviderService(t.store.db);
      await providers.add({ orgno: DIGIPOST, name: 'Digipost', certificate: DIGIPOST_CERT });
      await providers.add({ orgno: EBOKS, name: 'e-Boks', certificate: EBOKS_CERT });
      digipost = await t.token([WRITE], { consumer: `0192:${DIGIPOST}` });
      eboks = await t.token([WRITE], { consumer: `0192:${EBOKS}` });
      unregistered = await t.token([WRITE], { consumer: '0192:974761076' });
      lookupToken = await t.token(LOOKUP_SCOPES);
      feedToken = await t.token(FEED_SCOPES);
      await t.write(PERSONS);
    });
    after(async () => t?.close());

    const call = (operation: Operation, body: unknown, token?: string) =>
      t.post(`/rest/v1/postkasse/${operation}`, body, token);

    /** The person as `POST /rest/v2/personer` shows it, or undefined when not registered. */
    async function lookup(personidentifikator: string): Promise<Json | undefined> {
      const res = await t.post(
        '/rest/v2/personer',
        { personidentifikatorer: [personidentifikator] },
        lookupToken,
      );
      assert.equal(res.statusCode, 200, res.body);
      const { personer } = JSON.parse(res.body) as { personer: Json[] };
      return personer[0];
    }

    async function feed(fraEndringsId: number): Promise<FeedAnswer> {
      const res = await t.post('/rest/v2/krr/hentEndringer', { fraEndringsId }, feedToken);
      assert.equal(res.statusCode, 200, res.body);
      return JSON.parse(res.body) as FeedAnswer;
    }

    /** Every person in the feed from `from` to the end, in its latest state. */
    async function drain(from = 0): Promise<Map<string, Json>> {
      const seen = new Map<string, Json>();
      for (let fra = from; ;) {
        const page = await feed(fra);
        for (const p of page.list) seen.set(p.personidentifikator as string, p);
        if (page.tilEndringsId === page.sisteEndringsId) return seen;
        fra = page.tilEndringsId;
      }
    }

    const latest = async () => (await feed(0)).sisteEndringsId;

    /** The person's change id, straight from the store. */
    async function changeIds(identifiers: readonly string[]): Promise<Map<string, number>> {
      const rows = await t.store.db.query<{ personidentifikator: string; change_id: number | string }>(
        'select personidentifikator, change_id from person where personidentifikator = any($1::text[])',
        [identifiers],
      );
      return new Map(rows.map((r) => [r.personidentifikator, Number(r.change_id)]));
    }

    /** Runs `fn` and checks that the register did not change: no new change id, the persons as before. */
    async function changesNothing(persons: readonly string[], fn: () => Promise<void>) {
      const before = await latest();
      const shown = await Promise.all(persons.map(lookup));
      await fn();
      assert.equal(await latest(), before, 'a failed operation is no register change');
      assert.deepEqual(await Promise.all(persons.map(lookup)), shown);
    }

    /** Runs `fn`, which must make exactly one register change: `person`'s. Returns the new change id. */
    async function oneChange(person: string, fn: () => Promise<void>): Promise<number> {
      const before = await latest();
      await fn();
      const page = await feed(before);
      assert.deepEqual(
        page.list.map((p) => p.personidentifikator),
        [person],
        'exactly one person changed',
      );
      assert.equal(page.tilEndringsId, page.sisteEndringsId);
      // Change ids may have gaps (docs/change-feed.md#change-ids: positive, strictly increasing, never
      // reused); an update through the upsert takes two sequence values, so the one change is "one person
      // with a new change id", not "sisteEndringsId + 1".
      assert.ok(page.sisteEndringsId > before, 'the change id grows');
      return page.sisteEndringsId;
    }

    describe('a provider walks a person through the operations', () => {
      it('kanVelge, opprettOgVelg, lookup, oppdater, the feed, slett', async () => {
        const walkStart = await latest();
        const feedAfterWalkStart = async (): Promise<{ person: Json; changeId: number }> => {
          const page = await feed(walkStart);
          assert.equal(page.list.length, 1, 'the feed shows the walked person once, in its current state');
          assert.equal(page.list[0]!.personidentifikator, WALKER);
          assert.equal(page.tilEndringsId, page.sisteEndringsId);
          return { person: page.list[0]!, changeId: page.tilEndringsId };
        };

        // kanVelge: a question, not a change.
        await changesNothing([WALKER], async () => {
          assertAnswer(await call('kanVelge', { personidentifikator: WALKER }, digipost), { status: 'JA' });
        });
        assert.deepEqual(await lookup(WALKER), {
          personidentifikator: WALKER,
          reservasjon: 'NEI',
          status: 'AKTIV',
        });

        // opprettOgVelg without a certificate: the person shows the provider's.
        const created = await oneChange(WALKER, async () => {
          const res = await call(
            'opprettOgVelg',
            {
              personidentifikator: WALKER,
              virksomhetsidentifikator: DIGIPOST,
              postkasseadresse: 'ola.nordmann#9YDT',
            },
            digipost,
          );
          assertAnswer(res, { status: 'OK' });
        });
        const withMailbox = {
          personidentifikator: WALKER,
          reservasjon: 'NEI',
          status: 'AKTIV',
          digital_post: { postkasseadresse: 'ola.nordmann#9YDT', postkasseleverandoeradresse: DIGIPOST },
          sertifikat: DIGIPOST_CERT,
        };
        const shown = await lookup(WALKER);
        assert.deepEqual(shown, withMailbox);
        assert.deepEqual(Object.keys(shown), [
          'personidentifikator',
          'reservasjon',
          'status',
          'digital_post',
          'sertifikat',
        ]);
        assert.deepEqual(Object.keys(shown.digital_post as Json), [
          'postkasseadresse',
          'postkasseleverandoeradresse',
        ]);
        let step = await feedAfterWalkStart();
        assert.deepEqual(step.person, withMailbox);
        assert.equal(step.changeId, created);
        assert.ok(created > walkStart);
        let previous = created;

        // Now the person has a mailbox here: no second one.
        await changesNothing([WALKER], async () => {
          assertAnswer(await call('kanVelge', { personidentifikator: WALKER }, digipost), {
            status: 'NEI',
            beskrivelse: 'ALLEREDE_AKTIV',
          });
        });

        // oppdater: a new address; still the provider's certificate.
        const updated = await oneChange(WALKER, async () => {
          const res = await call(
            'oppdater',
            {
              personidentifikator: WALKER,
              virksomhetsidentifikator: DIGIPOST,
              postkasseadresse: 'ola.nordmann#NEW1',
            },
            digipost,
          );
          assertAnswer(res, { status: 'OK' });
        });
        const newAddress = {
          ...withMailbox,
          digital_post: { ...withMailbox.digital_post, postkasseadresse: 'ola.nordmann#NEW1' },
        };
        assert.deepEqual(await lookup(WALKER), newAddress);
        step = await feedAfterWalkStart();
        assert.deepEqual(step.person, newAddress);
        assert.equal(step.changeId, updated);
        assert.ok(updated > previous, 'the change id grows with each operation');
        previous = updated;

        // oppdater with a certificate of the person's own: that one shows instead of the provider's.
        const ownCertificate = await oneChange(WALKER, async () => {
          const res = await call(
            'oppdater',
            {
              personidentifikator: WALKER,
              virksomhetsidentifikator: DIGIPOST,
              postkasseadresse: 'ola.nordmann#NEW1',
              sertifikat: OWN_CERT,
            },
            digipost,
          );
          assertAnswer(res, { status: 'OK' });
        });
        const withOwn = { ...newAddress, sertifikat: OWN_CERT };
        assert.deepEqual(await lookup(WALKER), withOwn);
        step = await feedAfterWalkStart();
        assert.deepEqual(step.person, withOwn);
        assert.equal(step.changeId, ownCertificate);
        assert.ok(ownCertificate > previous);
        previous = ownCertificate;

        // The same oppdater again changes nothing, so it is no register change.
        await changesNothing([WALKER], async () => {
          const res = await call(
            'oppdater',
            {
              personidentifikator: WALKER,
              virksomhetsidentifikator: DIGIPOST,
              postkasseadresse: 'ola.nordmann#NEW1',
              sertifikat: OWN_CERT,
            },
            digipost,
          );
          assertAnswer(res, { status: 'OK' });
        });

        // slett: no mailbox, no certificate.
        const deleted = await oneChange(WALKER, async () => {
          assertAnswer(
            await call(
              'slett',
              { personidentifikator: WALKER, virksomhetsidentifikator: DIGIPOST },
              digipost,
            ),
            { status: 'OK' },
          );
        });
        const without = { personidentifikator: WALKER, reservasjon: 'NEI', status: 'AKTIV' };
        assert.deepEqual(await lookup(WALKER), without);
        step = await feedAfterWalkStart();
        assert.deepEqual(step.person, without);
        assert.equal(step.changeId, deleted);
        assert.ok(deleted > previous);

        // Afterwards the person can choose again, and a second slett finds nothing.
        assertAnswer(await call('kanVelge', { personidentifikator: WALKER }, digipost), { status: 'JA' });
        await changesNothing([WALKER], async () => {
          assertAnswer(
            await call(
              'slett',
              { personidentifikator: WALKER, virksomhetsidentifikator: DIGIPOST },
              digipost,
            ),
            { status: 'FEILET', beskrivelse: 'INGEN_POSTBOKS_FUNNET' },
          );
        });
      });

      it("opprettOgVelg with a certificate of the person's own shows it; with the provider's it stays inherited", async () => {
        const person = id(10, 11, 94);
        const other = id(11, 12, 95);
        await t.write([aktiv(person), aktiv(other)]);
        await oneChange(person, async () => {
          const res = await call(
            'opprettOgVelg',
            {
              personidentifikator: person,
              virksomhetsidentifikator: EBOKS,
              postkasseadresse: 'own.cert.person@eboks',
              sertifikat: OWN_CERT,
            },
            eboks,
          );
          assertAnswer(res, { status: 'OK' });
        });
        assert.equal((await lookup(person))!.sertifikat, OWN_CERT);
        await oneChange(other, async () => {
          const res = await call(
            'opprettOgVelg',
            {
              personidentifikator: other,
              virksomhetsidentifikator: EBOKS,
              postkasseadresse: 'provider.cert@eboks',
              sertifikat: EBOKS_CERT,
              somethingElse: 'ignored',
            },
            eboks,
          );
          assertAnswer(res, { status: 'OK' });
        });
        assert.equal((await lookup(other))!.sertifikat, EBOKS_CERT);
        const [row] = await t.store.db.query<{ sertifikat: string | null }>(
          'select sertifikat from person where personidentifikator = $1',
          [other],
        );
        assert.equal(row!.sertifikat, null, "the provider's certificate is not stored with the person");
      });
    });

    describe('the beskrivelse codes', () => {
      const full = (personidentifikator: string, extra: Json = {}) => ({
        personidentifikator,
        virksomhetsidentifikator: DIGIPOST,
        postkasseadresse: 'some.person#AB12',
        ...extra,
      });

      async function expectAll(
        personidentifikator: string,
        kanVelge: Json,
        opprettOgVelg: Json,
        oppdater: Json,
        slett: Json,
      ) {
        const persons = MALFORMED.includes(personidentifikator) ? [] : [personidentifikator];
        await changesNothing(persons, async () => {
          assertAnswer(await call('kanVelge', { personidentifikator }, digipost), kanVelge);
          assertAnswer(await call('opprettOgVelg', full(personidentifikator), digipost), opprettOgVelg);
          assertAnswer(await call('oppdater', full(personidentifikator), digipost), oppdater);
          assertAnswer(
            await call('slett', { personidentifikator, virksomhetsidentifikator: DIGIPOST }, digipost),
            slett,
          );
        });
      }

      it('a reserved person: RESERVERT; no mailbox to change', async () => {
        await expectAll(
          RESERVED,
          { status: 'NEI', beskrivelse: 'RESERVERT' },
          { status: 'FEILET', beskrivelse: 'RESERVERT' },
          { status: 'FEILET', beskrivelse: 'INGEN_POSTBOKS_FUNNET' },
          { status: 'FEILET', beskrivelse: 'INGEN_POSTBOKS_FUNNET' },
        );
      });

      it('an unknown person: BRUKER_IKKE_FUNNET', async () => {
        const notFound = { status: 'FEILET', beskrivelse: 'BRUKER_IKKE_FUNNET' };
        await expectAll(
          UNKNOWN,
          { status: 'NEI', beskrivelse: 'BRUKER_IKKE_FUNNET' },
          notFound,
          notFound,
          notFound,
        );
        assert.equal(await lookup(UNKNOWN), undefined, 'no record was created');
      });

      it('a SLETTET person: BRUKER_IKKE_FUNNET', async () => {
        const notFound = { status: 'FEILET', beskrivelse: 'BRUKER_IKKE_FUNNET' };
        await expectAll(
          DELETED,
          { status: 'NEI', beskrivelse: 'BRUKER_IKKE_FUNNET' },
          notFound,
          notFound,
          notFound,
        );
        assert.deepEqual(await lookup(DELETED), { personidentifikator: DELETED, status: 'SLETTET' });
      });

      it('a malformed identifier: UGYLDIG_PERSONNUMMER', async () => {
        const invalid = { status: 'FEILET', beskrivelse: 'UGYLDIG_PERSONNUMMER' };
        for (const bad of MALFORMED) {
          await expectAll(
            bad,
            { status: 'NEI', beskrivelse: 'UGYLDIG_PERSONNUMMER' },
            invalid,
            invalid,
            invalid,
          );
        }
      });

      it('a mailbox at the other provider: ALLEREDE_AKTIV; at this one: POSTKASSE_EKSISTERER_ALLEREDE', async () => {
        await changesNothing([AT_EBOKS, AT_DIGIPOST], async () => {
          assertAnswer(await call('kanVelge', { personidentifikator: AT_EBOKS }, digipost), {
            status: 'NEI',
            beskrivelse: 'ALLEREDE_AKTIV',
          });
          assertAnswer(await call('opprettOgVelg', full(AT_EBOKS), digipost), {
            status: 'FEILET',
            beskrivelse: 'ALLEREDE_AKTIV',
          });
          assertAnswer(await call('opprettOgVelg', full(AT_DIGIPOST), digipost), {
            status: 'FEILET',
            beskrivelse: 'POSTKASSE_EKSISTERER_ALLEREDE',
          });
          // Nor can Digipost change or delete e-Boks's mailbox.
          assertAnswer(await call('oppdater', full(AT_EBOKS), digipost), {
            status: 'FEILET',
            beskrivelse: 'INGEN_POSTBOKS_FUNNET',
          });
          assertAnswer(
            await call(
              'slett',
              { personidentifikator: AT_EBOKS, virksomhetsidentifikator: DIGIPOST },
              digipost,
            ),
            { status: 'FEILET', beskrivelse: 'INGEN_POSTBOKS_FUNNET' },
          );
        });
      });

      it('oppdater and slett for a person without a mailbox: INGEN_POSTBOKS_FUNNET', async () => {
        await changesNothing([NO_MAILBOX], async () => {
          assertAnswer(await call('oppdater', full(NO_MAILBOX), digipost), {
            status: 'FEILET',
            beskrivelse: 'INGEN_POSTBOKS_FUNNET',
          });
          assertAnswer(
            await call(
              'slett',
              { personidentifikator: NO_MAILBOX, virksomhetsidentifikator: DIGIPOST },
              digipost,
            ),
            { status: 'FEILET', beskrivelse: 'INGEN_POSTBOKS_FUNNET' },
          );
        });
      });

      for (const [what, sertifikat] of BAD_CERTIFICATES) {
        it(`${what} as sertifikat: UGYLDIG_SERTIFIKAT`, async () => {
          const invalid = { status: 'FEILET', beskrivelse: 'UGYLDIG_SERTIFIKAT' };
          await changesNothing([CERT_CASES, AT_DIGIPOST], async () => {
            assertAnswer(await call('opprettOgVelg', full(CERT_CASES, { sertifikat }), digipost), invalid);
            assertAnswer(
              await call(
                'oppdater',
                full(AT_DIGIPOST, { postkasseadresse: 'changed#ADDR', sertifikat }),
                digipost,
              ),
              invalid,
            );
          });
        });
      }

      it('a bad organisation number in virksomhetsidentifikator: UGYLDIG_ORGNR', async () => {
        const invalid = { status: 'FEILET', beskrivelse: 'UGYLDIG_ORGNR' };
        for (const orgno of ['984661186', '98466118', '98466118a', '', '0984661185']) {
          await changesNothing([CERT_CASES, AT_DIGIPOST], async () => {
            assertAnswer(
              await call('opprettOgVelg', full(CERT_CASES, { virksomhetsidentifikator: orgno }), digipost),
              invalid,
            );
            assertAnswer(
              await call('oppdater', full(AT_DIGIPOST, { virksomhetsidentifikator: orgno }), digipost),
              invalid,
            );
            assertAnswer(
              await call(
                'slett',
                { personidentifikator: AT_DIGIPOST, virksomhetsidentifikator: orgno },
                digipost,
              ),
              invalid,
            );
          });
        }
      });
    });

    describe("a provider cannot touch another provider's mailboxes", () => {
      it("e-Boks naming Digipost is forbidden; naming itself finds no mailbox; Digipost's mailbox is unchanged", async () => {
        await changesNothing([AT_DIGIPOST, DIGIPOST_OWN_CERT], async () => {
          for (const person of [AT_DIGIPOST, DIGIPOST_OWN_CERT]) {
            const asDigipost = {
              personidentifikator: person,
              virksomhetsidentifikator: DIGIPOST,
              postkasseadresse: 'hijacked#EBOKS',
              sertifikat: EBOKS_CERT,
            };
            assertErrorBody(await call('oppdater', asDigipost, eboks), 403);
            assertErrorBody(await call('opprettOgVelg', asDigipost, eboks), 403);
            assertErrorBody(
              await call('slett', { personidentifikator: person, virksomhetsidentifikator: DIGIPOST }, eboks),
              403,
            );

            const asItself = { ...asDigipost, virksomhetsidentifikator: EBOKS };
            assertAnswer(await call('oppdater', asItself, eboks), {
              status: 'FEILET',
              beskrivelse: 'INGEN_POSTBOKS_FUNNET',
            });
            assertAnswer(
              await call('slett', { personidentifikator: person, virksomhetsidentifikator: EBOKS }, eboks),
              { status: 'FEILET', beskrivelse: 'INGEN_POSTBOKS_FUNNET' },
            );
            assertAnswer(await call('opprettOgVelg', asItself, eboks), {
              status: 'FEILET',
              beskrivelse: 'ALLEREDE_AKTIV',
            });
            assertAnswer(await call('kanVelge', { personidentifikator: person }, eboks), {
              status: 'NEI',
              beskrivelse: 'ALLEREDE_AKTIV',
            });
          }
        });
        assert.deepEqual(await lookup(AT_DIGIPOST), {
          personidentifikator: AT_DIGIPOST,
          reservasjon: 'NEI',
          status: 'AKTIV',
          digital_post: { postkasseadresse: 'per.nordmann#DP01', postkasseleverandoeradresse: DIGIPOST },
          sertifikat: DIGIPOST_CERT,
        });
      });
    });

    describe('who may call', () => {
      const bodies: Record<Operation, Json> = {
        kanVelge: { personidentifikator: AT_DIGIPOST },
        opprettOgVelg: {
          personidentifikator: CERT_CASES,
          virksomhetsidentifikator: '974761076',
          postkasseadresse: 'nobody#0001',
        },
        oppdater: {
          personidentifikator: AT_DIGIPOST,
          virksomhetsidentifikator: '974761076',
          postkasseadresse: 'nobody#0001',
        },
        slett: { personidentifikator: AT_DIGIPOST, virksomhetsidentifikator: '974761076' },
      };
      const operations = Object.keys(bodies) as Operation[];

      it('a token whose consumer is not a registered provider: 403', async () => {
        await changesNothing([AT_DIGIPOST, CERT_CASES], async () => {
          for (const op of operations) assertErrorBody(await call(op, bodies[op], unregistered), 403);
          // Also when it names a registered provider.
          assertErrorBody(
            await call(
              'slett',
              { personidentifikator: AT_DIGIPOST, virksomhetsidentifikator: DIGIPOST },
              unregistered,
            ),
            403,
          );
        });
      });

      it('a token without krr:global/postkasse.write: 403 insufficient_scope', async () => {
        const readOnly = await t.token(['krr:global/digitalpost.read', 'krr:global/postkasse.read'], {
          consumer: `0192:${DIGIPOST}`,
        });
        for (const op of operations) {
          const res = await call(op, { ...bodies[op], virksomhetsidentifikator: DIGIPOST }, readOnly);
          assertErrorBody(res, 403);
          assert.match(String(res.headers['www-authenticate']), /^Bearer error="insufficient_scope"/);
        }
      });

      it('no token: 401 invalid_token', async () => {
        for (const op of operations) {
          const res = await call(op, bodies[op]);
          assertErrorBody(res, 401);
          assert.match(String(res.headers['www-authenticate']), /^Bearer error="invalid_token"/);
        }
      });

      it('bad body shapes: 400 with a pointer', async () => {
        const cases: Array<[Operation, unknown, string]> = [
          ['kanVelge', {}, '/personidentifikator'],
          ['kanVelge', { personidentifikator: 12345678901 }, '/personidentifikator'],
          [
            'opprettOgVelg',
            { virksomhetsidentifikator: DIGIPOST, postkasseadresse: 'x#12345678' },
            '/personidentifikator',
          ],
          [
            'opprettOgVelg',
            {
              personidentifikator: 12345678901,
              virksomhetsidentifikator: DIGIPOST,
              postkasseadresse: 'x#12345678',
            },
            '/personidentifikator',
          ],
          [
            'opprettOgVelg',
            {
              personidentifikator: CERT_CASES,
              virksomhetsidentifikator: 984661185,
              postkasseadresse: 'x#12345678',
            },
            '/virksomhetsidentifikator',
          ],
          [
            'opprettOgVelg',
            { personidentifikator: CERT_CASES, virksomhetsidentifikator: DIGIPOST },
            '/postkasseadresse',
          ],
          [
            'oppdater',
            {
              personidentifikator: AT_DIGIPOST,
              virksomhetsidentifikator: DIGIPOST,
              postkasseadresse: 'x#12345678',
              sertifikat: 42,
            },
            '/sertifikat',
          ],
          [
            'oppdater',
            { virksomhetsidentifikator: DIGIPOST, postkasseadresse: 'x#12345678' },
            '/personidentifikator',
          ],
          ['slett', { virksomhetsidentifikator: DIGIPOST }, '/personidentifikator'],
          [
            'slett',
            { personidentifikator: Number(AT_DIGIPOST), virksomhetsidentifikator: DIGIPOST },
            '/personidentifikator',
          ],
          ['slett', { personidentifikator: AT_DIGIPOST }, '/virksomhetsidentifikator'],
        ];
        await changesNothing([AT_DIGIPOST, CERT_CASES], async () => {
          for (const [op, body, pointer] of cases) {
            const errors = assertErrorBody(await call(op, body, digipost), 400);
            assert.ok(
              errors.some((e) => (e.source as { pointer?: string } | undefined)?.pointer === pointer),
              `${op} ${JSON.stringify(body)}: a pointer to ${pointer} in ${JSON.stringify(errors)}`,
            );
          }
          assertErrorBody(await call('kanVelge', 'not json', digipost), 400);
        });
      });
    });

    describe('the print certificate', () => {
      it('404 until set, then {postkasseleverandoerAdresse, x509Sertifikat}, without a token', async () => {
        for (const version of ['v1', 'v2']) {
          const res = await t.app.inject({ method: 'GET', url: `/rest/${version}/printSertifikat` });
          assertErrorBody(res, 404);
        }
        await providers.setPrintCertificate(PRINT_ORGNO, OWN_CERT);
        for (const version of ['v1', 'v2']) {
          const res = await t.app.inject({ method: 'GET', url: `/rest/${version}/printSertifikat` });
          assertAnswer(res, { postkasseleverandoerAdresse: PRINT_ORGNO, x509Sertifikat: OWN_CERT });
        }
        // Replaced by the operator: the new one shows.
        await providers.setPrintCertificate(EBOKS, EBOKS_CERT);
        assertAnswer(await t.app.inject({ method: 'GET', url: '/rest/v2/printSertifikat' }), {
          postkasseleverandoerAdresse: EBOKS,
          x509Sertifikat: EBOKS_CERT,
        });
      });
    });

    // Last: it changes Digipost's certificate.
    describe("a provider's new certificate", () => {
      it('shows for all its persons without one of their own, in lookups and the feed, and feed readers get them again', async () => {
        const bulk = Array.from({ length: 50 }, (_, i) =>
          makeIdentifier({ day: 1 + (i % 28), month: 1 + Math.floor(i / 28), year: 60 }),
        );
        const ownCert = new Set(bulk.slice(0, 10));
        await t.write(
          bulk.map((p, i) =>
            aktiv(p, {
              digital_post: mailbox(`bulk.person.${i}#DP`, DIGIPOST),
              // Ten with their own; twenty carry the provider's (as an import does), twenty none.
              ...(ownCert.has(p)
                ? { sertifikat: OWN_CERT }
                : i % 2 === 0
                  ? { sertifikat: DIGIPOST_CERT }
                  : {}),
            }),
          ),
        );
        const everyone = [...bulk, AT_DIGIPOST, DIGIPOST_OWN_CERT, AT_EBOKS];
        const expected = (p: string, digipostCert: string) =>
          p === AT_EBOKS ? EBOKS_CERT : ownCert.has(p) || p === DIGIPOST_OWN_CERT ? OWN_CERT : digipostCert;

        const lookupAll = async () => {
          const res = await t.post('/rest/v2/personer', { personidentifikatorer: everyone }, lookupToken);
          assert.equal(res.statusCode, 200, res.body);
          const { personer } = JSON.parse(res.body) as { personer: Json[] };
          assert.equal(personer.length, everyone.length);
          return new Map(personer.map((p) => [p.personidentifikator as string, p]));
        };

        let shown = await lookupAll();
        for (const p of everyone) assert.equal(shown.get(p)!.sertifikat, expected(p, DIGIPOST_CERT), p);

        const idsBefore = await changeIds(everyone);
        const latestBefore = await latest();
        await providers.updateCertificate(DIGIPOST, DIGIPOST_CERT_2);

        shown = await lookupAll();
        for (const p of everyone) assert.equal(shown.get(p)!.sertifikat, expected(p, DIGIPOST_CERT_2), p);
        const inFeed = await drain(0);
        for (const p of everyone) assert.equal(inFeed.get(p)!.sertifikat, expected(p, DIGIPOST_CERT_2), p);

        // The persons who show the provider's certificate got new change ids (their rows were not
        // re-rendered); those with their own certificate, or at another provider, did not.
        const idsAfter = await changeIds(everyone);
        const inheriting = everyone.filter((p) => expected(p, 'provider') === 'provider');
        assert.equal(inheriting.length, 41);
        for (const p of everyone) {
          if (inheriting.includes(p)) assert.ok(idsAfter.get(p)! > latestBefore, p);
          else assert.equal(idsAfter.get(p), idsBefore.get(p), p);
        }
        // A reader following the feed from before the change gets exactly those persons again, with the new certificate.
        const followed = await drain(latestBefore);
        assert.deepEqual([...followed.keys()].sort(), [...inheriting].sort());
        for (const p of inheriting) assert.equal(followed.get(p)!.sertifikat, DIGIPOST_CERT_2);

        // The provider's persons act with the new certificate: a new one chosen inherits it.
        const newcomer = makeIdentifier({ day: 1, month: 1, year: 61 });
        await t.write([aktiv(newcomer)]);
        await oneChange(newcomer, async () => {
          const res = await call(
            'opprettOgVelg',
            {
              personidentifikator: newcomer,
              virksomhetsidentifikator: DIGIPOST,
              postkasseadresse: 'newcomer#0001',
            },
            digipost,
          );
          assertAnswer(res, { status: 'OK' });
        });
        assert.equal((await lookup(newcomer))!.sertifikat, DIGIPOST_CERT_2);
      });
    });
  });
}

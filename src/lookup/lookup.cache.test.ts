// The fast lookup path gives the same bytes as the reference renderer (renderPersonAnswer over the
// stored fragments), cached and uncached, for every view that scopes and informasjonsbehov can
// make; the cache follows the clock across the 18-month flip, writes by this process and by
// another connection, and a provider's new certificate. Both stores.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AccessToken } from '../access/access-token.js';
import { generateSelfSignedCertificate } from '../certificate/certificate-generator.js';
import { DEMO_DIGIPOST_CERTIFICATE, DEMO_EBOKS_CERTIFICATE } from '../demo/demo-certificates.js';
import { DIGIPOST_ORGNO, EBOKS_ORGNO } from '../demo/demo-data.js';
import { syntheticPersons } from '../demo/synthetic-persons.js';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import type { Person } from '../person/person.js';
import { PersonRepository } from '../register/person.repository.js';
import { PersonWriter } from '../register/person.writer.js';
import { ProviderRepository } from '../provider/provider.repository.js';
import { ProviderService } from '../provider/provider.service.js';
import { openStore } from '../register/open-store.js';
import { skipReason, STORE_KINDS, openTestStore } from '../../test/support/stores.js';
import type { TestStore } from '../../test/support/stores.js';
import { parseInstant } from '../time/oslo-time.js';
import { freshnessBoundary, freshnessEnd } from '../freshness/freshness.js';
import { CachedLookupSource, StoreLookupSource } from './lookup.cache.js';
import { CachedAnswer } from '../answer/answer.assemble.js';
import { renderPersonAnswer, renderUnregisteredAnswer } from '../answer/answer.compose.js';
import { LookupService } from './lookup.service.js';
import { DATA_SCOPES, groupsForScopes, viewFor } from '../access/access.view.js';
import type { View } from '../access/access.view.js';

const at = (iso: string) => {
  const t = parseInstant(iso);
  assert.ok(t !== undefined, iso);
  return t;
};

const NOW = at('2018-06-01T12:00:00+02:00');
const BOUNDARY = at('2016-12-01T12:00:00+01:00');
const CALLER: AccessToken = {
  issuer: 'test',
  issuerKind: 'maskinporten',
  clientId: 'test',
  scopes: [],
  consumer: '991825827',
  supplier: null,
  pid: null,
};

const FULL = makeIdentifier({ day: 27, month: 12, year: 93 });
const RESERVED = makeIdentifier({ day: 24, month: 7, year: 94 });
const DELETED = makeIdentifier({ day: 1, month: 1, year: 70 });
const AT_BOUNDARY = makeIdentifier({ day: 2, month: 2, year: 80 });
const JUST_STALE = makeIdentifier({ day: 3, month: 3, year: 81 });
const NO_CONTACT = makeIdentifier({ day: 4, month: 4, year: 82 });
const MOBILE_ONLY = makeIdentifier({ day: 5, month: 5, year: 83, dNumber: true });
const UNKNOWN = makeIdentifier({ day: 6, month: 6, year: 84 });

/** The documented cases (as in lookup.routes.test.ts), with a non-ASCII address for the byte offsets. */
const CONTRACT_PERSONS: Person[] = [
  {
    personidentifikator: FULL,
    status: 'AKTIV',
    reservasjon: 'NEI',
    reservasjon_oppdatert: at('2014-01-02T10:00:00+01:00'),
    kontaktinformasjon: {
      epostadresse: 'ola.nordmann@example.no',
      epostadresse_oppdatert: at('2015-03-11T19:57:52+01:00'),
      epostadresse_sist_verifisert: at('2017-11-07T09:48:38+01:00'),
      mobiltelefonnummer: '+4799999999',
      mobiltelefonnummer_oppdatert: at('2015-03-11T19:57:52+01:00'),
      mobiltelefonnummer_sist_verifisert: at('2018-07-31T21:19:02Z'),
    },
    digital_post: { postkasseadresse: 'åse.ørn#9YDT', postkasseleverandoeradresse: DIGIPOST_ORGNO },
    sertifikat: DEMO_EBOKS_CERTIFICATE,
    spraak: 'nb',
    spraak_oppdatert: at('2020-11-12T10:00:58Z'),
  },
  {
    personidentifikator: RESERVED,
    status: 'AKTIV',
    reservasjon: 'JA',
    reservasjonstidspunkt: at('2017-05-05T08:00:00Z'),
    reservasjon_oppdatert: at('2017-05-05T08:00:00Z'),
    kontaktinformasjon: {
      epostadresse: 'kari@example.no',
      epostadresse_oppdatert: at('2018-05-01T12:00:00+02:00'),
      epostadresse_sist_verifisert: at('2018-05-01T12:00:00+02:00'),
    },
  },
  { personidentifikator: DELETED, status: 'SLETTET', reservasjon: 'NEI' },
  {
    personidentifikator: AT_BOUNDARY,
    status: 'AKTIV',
    reservasjon: 'NEI',
    kontaktinformasjon: { epostadresse: 'edge@example.no', epostadresse_sist_verifisert: BOUNDARY },
  },
  {
    personidentifikator: JUST_STALE,
    status: 'AKTIV',
    reservasjon: 'NEI',
    kontaktinformasjon: { mobiltelefonnummer: '41234567', mobiltelefonnummer_oppdatert: BOUNDARY - 1000 },
    digital_post: { postkasseadresse: 'stale.person#AB12', postkasseleverandoeradresse: EBOKS_ORGNO },
    sertifikat: DEMO_DIGIPOST_CERTIFICATE,
    spraak: 'en',
  },
  { personidentifikator: NO_CONTACT, status: 'AKTIV', reservasjon: 'NEI' },
  {
    personidentifikator: MOBILE_ONLY,
    status: 'AKTIV',
    reservasjon: 'NEI',
    kontaktinformasjon: {
      mobiltelefonnummer: '+47 912 34 567',
      mobiltelefonnummer_sist_verifisert: at('2018-01-01T00:00:00Z'),
    },
  },
];

const SYNTHETIC = [...syntheticPersons(300, { seed: 7, now: NOW })];
const ALL_IDS = [...CONTRACT_PERSONS, ...SYNTHETIC].map((p) => p.personidentifikator);

/** Every view that some set of scopes with some informasjonsbehov gives (at most 64). */
function everyView(): View[] {
  const needs: (string[] | undefined)[] = [
    undefined,
    [],
    ['Person'],
    ['Kontaktinfo'],
    ['Kontaktinformasjon', 'VarslingsStatus'],
    ['Sertifikat'],
    ['SikkerDigitalPost'],
    ['VarslingsStatus'],
    ['Spraak'],
    ['Person', 'Kontaktinfo', 'Sertifikat', 'SikkerDigitalPost', 'VarslingsStatus', 'Spraak'],
    ['Person', 'Kontaktinfo', 'Sertifikat', 'SikkerDigitalPost', 'Spraak'],
    ['Unknown', 'Spraak', 'Spraak'],
  ];
  const views = new Map<string, View>();
  for (let mask = 1; mask < 1 << DATA_SCOPES.length; mask++) {
    const scopes = DATA_SCOPES.filter((_, i) => mask & (1 << i));
    const groups = groupsForScopes(scopes)!;
    for (const need of needs) {
      const view = viewFor(groups, need);
      views.set(`${view.groups}/${view.withholdUnreachable}`, view);
    }
  }
  return [...views.values()];
}
const VIEWS = everyView();

for (const kind of STORE_KINDS) {
  describe(`the fast lookup path and its cache (${kind})`, { skip: await skipReason(kind) }, () => {
    let store: TestStore;
    let now = NOW;
    const clock = { now: () => now };
    const audit = { record: async () => {} };
    let persons: PersonRepository;
    let uncached: LookupService;
    let cache: CachedLookupSource;
    let cached: LookupService;
    let tiny: LookupService;

    /** The original renderer over the stored fragments: the oracle. */
    async function reference(ids: readonly string[], view: View, includeUnregistered: boolean) {
      const unique = [...new Set(ids)].sort();
      const found = new Map((await persons.findMany(unique)).map((p) => [p.personidentifikator, p]));
      const boundary = freshnessBoundary(now);
      const parts: string[] = [];
      for (const id of unique) {
        const p = found.get(id);
        if (p) parts.push(renderPersonAnswer(p, view, boundary));
        else if (includeUnregistered) parts.push(renderUnregisteredAnswer(id, view));
      }
      return `{"personer":[${parts.join(',')}]}`;
    }

    async function answer(
      service: LookupService,
      ids: readonly string[],
      view: View,
      includeUnregistered = true,
    ) {
      const bytes = await service.lookupBytes(
        { endpoint: '/rest/v2/personer', identifiers: ids, includeUnregistered, view },
        CALLER,
      );
      return bytes.toString('utf8');
    }

    async function assertAllAgree(ids: readonly string[], view: View, includeUnregistered = true) {
      const expected = await reference(ids, view, includeUnregistered);
      const label = `view ${view.groups}/${view.withholdUnreachable}`;
      assert.equal(await answer(uncached, ids, view, includeUnregistered), expected, `${label} uncached`);
      assert.equal(await answer(cached, ids, view, includeUnregistered), expected, `${label} cached`);
      assert.equal(await answer(tiny, ids, view, includeUnregistered), expected, `${label} tiny cache`);
      return expected;
    }

    const FULL_VIEW = viewFor(31, undefined);

    before(async () => {
      store = await openTestStore(kind);
      // Persons whose certificate equals their provider's show the provider's (inherited).
      const providers = new ProviderRepository(store.db);
      await providers.save({
        orgno: DIGIPOST_ORGNO,
        name: 'Digipost',
        certificate: DEMO_DIGIPOST_CERTIFICATE,
      });
      await providers.save({ orgno: EBOKS_ORGNO, name: 'e-Boks', certificate: DEMO_EBOKS_CERTIFICATE });
      await new PersonWriter(store.db).write([...CONTRACT_PERSONS, ...SYNTHETIC]);
      persons = new PersonRepository(store.db);
      uncached = new LookupService({ persons, audit, clock, identifierRules: { allowSynthetic: true } });
      cache = new CachedLookupSource(persons, 64 * 1024 * 1024);
      cached = new LookupService({
        persons,
        source: cache,
        audit,
        clock,
        identifierRules: { allowSynthetic: true },
      });
      // Smaller than a few persons: every lookup evicts.
      tiny = new LookupService({
        persons,
        source: new CachedLookupSource(persons, 8 * 1024),
        audit,
        clock,
        identifierRules: { allowSynthetic: true },
      });
      assert.ok(new StoreLookupSource(persons));
    });
    after(async () => store?.dispose());

    it('gives byte-identical answers cached and uncached, for every view, documented cases and a synthetic sample', async () => {
      assert.ok(VIEWS.length >= 40, `${VIEWS.length} views`);
      const ids = [...ALL_IDS, UNKNOWN, FULL];
      for (const view of VIEWS) {
        await assertAllAgree(ids, view, true);
        await assertAllAgree(ids.slice(0, 50), view, false);
      }
      // The cache was filled by the first round: the second is answered from memory.
      assert.ok(cache.stats().entries >= ALL_IDS.length);
      for (const view of VIEWS) await assertAllAgree(ids, view, true);
    });

    it('flips varslingsstatus at the flip instant in cached answers, and keeps the clamped step back', async () => {
      // The example of docs/freshness.md#example: confirmed exactly at the boundary of NOW.
      const flip = freshnessEnd(BOUNDARY);
      assert.equal(flip, NOW + 1);
      now = NOW;
      const before = await assertAllAgree([AT_BOUNDARY], FULL_VIEW);
      assert.match(before, /"KAN_VARSLES"/);
      now = flip;
      const afterFlip = await assertAllAgree([AT_BOUNDARY], FULL_VIEW);
      assert.match(afterFlip, /"KAN_IKKE_VARSLES"/);
      // Every synthetic person across its own flip, with the cache warm on both sides.
      for (const p of SYNTHETIC.slice(0, 40)) {
        const k = p.kontaktinformasjon;
        const basis = Math.max(
          k?.epostadresse ? Math.max(k.epostadresse_oppdatert ?? 0, k.epostadresse_sist_verifisert ?? 0) : 0,
          k?.mobiltelefonnummer
            ? Math.max(k.mobiltelefonnummer_oppdatert ?? 0, k.mobiltelefonnummer_sist_verifisert ?? 0)
            : 0,
        );
        if (basis === 0) continue;
        const f = freshnessEnd(basis);
        for (const t of [f - 1, f, f + 1]) {
          now = t;
          await assertAllAgree([p.personidentifikator], FULL_VIEW);
          await assertAllAgree([p.personidentifikator], viewFor(31, ['VarslingsStatus', 'Kontaktinfo']));
        }
      }
      // A clamped month end: confirmed 28 Feb 2017 06:00 is stale just after 28 Aug 2018 06:00,
      // fresh again from 29 Aug 00:00 (the boundary clamps back to 28 Feb 00:00), stale at 06:00:01.
      const clampedId = makeIdentifier({ day: 9, month: 9, year: 79 });
      await new PersonWriter(store.db).write([
        {
          personidentifikator: clampedId,
          status: 'AKTIV',
          reservasjon: 'NEI',
          kontaktinformasjon: {
            epostadresse: 'clamp@example.no',
            epostadresse_sist_verifisert: at('2017-02-28T06:00:00+01:00'),
          },
        },
      ]);
      const expectations: [string, string][] = [
        ['2018-08-28T06:00:00+02:00', 'KAN_VARSLES'],
        ['2018-08-28T06:00:01+02:00', 'KAN_IKKE_VARSLES'],
        ['2018-08-29T00:00:00+02:00', 'KAN_VARSLES'],
        ['2018-08-29T06:00:01+02:00', 'KAN_IKKE_VARSLES'],
        ['2018-09-01T00:00:00+02:00', 'KAN_IKKE_VARSLES'],
      ];
      for (const [iso, status] of expectations) {
        now = at(iso);
        const body = await assertAllAgree([clampedId], FULL_VIEW);
        assert.match(body, new RegExp(`"varslingsstatus":"${status}"`), iso);
      }
      now = NOW;
    });

    it('shows a write through PersonWriter to the next cached lookup', async () => {
      now = NOW;
      const before = await assertAllAgree([FULL, NO_CONTACT], FULL_VIEW);
      assert.doesNotMatch(before, /new.address@example.no/);
      await new PersonWriter(store.db).write([
        {
          personidentifikator: NO_CONTACT,
          status: 'AKTIV',
          reservasjon: 'NEI',
          kontaktinformasjon: {
            epostadresse: 'new.address@example.no',
            epostadresse_sist_verifisert: at('2018-05-01T12:00:00+02:00'),
          },
        },
      ]);
      const afterWrite = await answer(cached, [FULL, NO_CONTACT], FULL_VIEW);
      assert.match(afterWrite, /new.address@example.no/);
      assert.equal(afterWrite, await reference([FULL, NO_CONTACT], FULL_VIEW, true));
      // The changed person's old answer no longer counts among the bytes held; its new one does.
      const { answerBytes, entries } = cache.stats();
      const registered: string[] = [];
      for await (const page of persons.scan()) registered.push(...page.map((p) => p.personidentifikator));
      const held = (await cache.records(registered)).filter(
        (a): a is CachedAnswer => a instanceof CachedAnswer,
      );
      assert.equal(held.length, entries);
      assert.equal(
        answerBytes,
        held.reduce((n, a) => n + a.end - a.start, 0),
      );
    });

    it('shows a mailbox provider’s new certificate to its inheriting persons', async () => {
      now = NOW;
      const inheriting = SYNTHETIC.filter(
        (p) => p.digital_post?.postkasseleverandoeradresse === DIGIPOST_ORGNO,
      ).map((p) => p.personidentifikator);
      assert.ok(inheriting.length > 5);
      const before = await assertAllAgree(inheriting, FULL_VIEW);
      const next = await generateSelfSignedCertificate({
        commonName: 'Digipost next',
        keyUsage: 'encryption',
      });
      await new ProviderService(store.db).updateCertificate(DIGIPOST_ORGNO, next.certificateDerBase64);
      const afterChange = await answer(cached, inheriting, FULL_VIEW);
      assert.notEqual(afterChange, before);
      assert.ok(afterChange.includes(next.certificateDerBase64));
      assert.ok(!afterChange.includes(DEMO_DIGIPOST_CERTIFICATE));
      assert.equal(afterChange, await reference(inheriting, FULL_VIEW, true));
    });

    it('records the lookup before answering, and records a failed read as 500', async () => {
      const entries: number[] = [];
      let answered = false;
      const slowAudit = {
        record: async (e: { status: number }) => {
          await new Promise((r) => setTimeout(r, 20));
          assert.equal(answered, false, 'recorded before the answer is returned');
          entries.push(e.status);
        },
      };
      const service = new LookupService({
        persons,
        audit: slowAudit,
        clock,
        identifierRules: { allowSynthetic: true },
      });
      await service.lookupBytes(
        { endpoint: '/rest/v2/personer', identifiers: [FULL], includeUnregistered: true, view: FULL_VIEW },
        CALLER,
      );
      answered = true;
      assert.deepEqual(entries, [200]);
      entries.length = 0;
      answered = false;
      const failing = new LookupService({
        persons,
        source: { records: async () => Promise.reject(new Error('the store is gone')) },
        audit: slowAudit,
        clock,
        identifierRules: { allowSynthetic: true },
      });
      await assert.rejects(
        failing.lookupBytes(
          { endpoint: '/rest/v2/personer', identifiers: [FULL], includeUnregistered: true, view: FULL_VIEW },
          CALLER,
        ),
        /the store is gone/,
      );
      assert.deepEqual(entries.sort(), [200, 500]);
    });

    if (kind === 'postgres') {
      // Another process writing to the same PostgreSQL (krr import while the server runs) is a
      // second connection pool here; the embedded store admits one process only.
      it('shows a write through another connection to the next cached lookup', async () => {
        now = NOW;
        await assertAllAgree([MOBILE_ONLY], FULL_VIEW);
        const other = await openStore(store.config);
        try {
          await new PersonWriter(other).write([
            { personidentifikator: MOBILE_ONLY, status: 'SLETTET', reservasjon: 'NEI' },
          ]);
        } finally {
          await other.close();
        }
        const afterWrite = await answer(cached, [MOBILE_ONLY], FULL_VIEW);
        assert.match(afterWrite, /"status":"SLETTET"/);
        assert.equal(afterWrite, await reference([MOBILE_ONLY], FULL_VIEW, true));
      });

      it('drops everything when more persons changed than it would drop one by one (a large import)', async () => {
        now = NOW;
        const small = new CachedLookupSource(persons, 64 * 1024 * 1024, 100);
        const service = new LookupService({
          persons,
          source: small,
          audit,
          clock,
          identifierRules: { allowSynthetic: true },
        });
        await answer(service, ALL_IDS, FULL_VIEW);
        assert.ok(small.stats().entries >= ALL_IDS.length);
        const other = await openStore(store.config);
        const changed = [...syntheticPersons(300, { seed: 8, now: NOW })].map((p, i) => ({
          ...p,
          personidentifikator: SYNTHETIC[i]!.personidentifikator,
        }));
        try {
          await new PersonWriter(other).write(changed);
        } finally {
          await other.close();
        }
        const expected = await reference(ALL_IDS, FULL_VIEW, true);
        assert.equal(await answer(service, ALL_IDS, FULL_VIEW), expected);
        assert.equal(await answer(cached, ALL_IDS, FULL_VIEW), expected);
      });
    }
  });
}

// Scopes → fields (docs/scopes.md#data-scopes), informasjonsbehov (docs/lookup.md#informasjonsbehov),
// varslingsstatus and the 18-month rule (docs/freshness.md#varslingsstatus, docs/freshness.md#the-boundary),
// field order (docs/lookup.md#field-order), SLETTET and IKKE_REGISTRERT answers
// (docs/lookup.md#slettet-and-ikke_registrert).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderPersonAnswer, renderUnregisteredAnswer } from './answer.compose.js';
import { ALL_GROUPS, DATA_SCOPES, Group, groupsForScopes, viewFor } from '../access/access.view.js';
import type { View } from '../access/access.view.js';
import { renderPerson } from './answer.render.js';
import type { Person } from '../person/person.js';
import { freshnessBoundary, varslingsstatus } from '../freshness/freshness.js';

const utc = Date.UTC;
const SECOND = 1000;

// "now" of docs/freshness.md#example, 2018-06-01T12:00:00+02:00, and its boundary 2016-12-01T12:00:00+01:00.
const NOW = utc(2018, 5, 1, 10, 0, 0);
const BOUNDARY = utc(2016, 11, 1, 11, 0, 0);
const FRESH = utc(2018, 0, 15, 12, 0, 0);
const STALE = utc(2015, 0, 15, 12, 0, 0);

const ANSWER_ORDER = [
  'personidentifikator',
  'reservasjon',
  'reservasjonstidspunkt',
  'reservasjon_oppdatert',
  'status',
  'varslingsstatus',
  'kontaktinformasjon',
  'digital_post',
  'sertifikat',
  'spraak',
  'spraak_oppdatert',
];
const BASE_NOT_RESERVED = ['personidentifikator', 'reservasjon', 'reservasjon_oppdatert', 'status'];

const CERT = 'MIIBdGVzdC1jZXJ0aWZpY2F0ZQ==';

function person(over: Partial<Person> = {}): Person {
  return {
    personidentifikator: '27129324169',
    status: 'AKTIV',
    reservasjon: 'NEI',
    reservasjon_oppdatert: utc(2014, 0, 1, 12),
    kontaktinformasjon: {
      epostadresse: 'ola.nordmann@example.no',
      epostadresse_oppdatert: STALE,
      epostadresse_sist_verifisert: FRESH,
      mobiltelefonnummer: '+4799999999',
      mobiltelefonnummer_oppdatert: STALE,
    },
    digital_post: { postkasseadresse: 'ola.nordmann#9YDT', postkasseleverandoeradresse: '984661185' },
    sertifikat: CERT,
    spraak: 'nn',
    spraak_oppdatert: utc(2020, 10, 12, 10, 0, 58),
    ...over,
  };
}

const STALE_PERSON = person({
  kontaktinformasjon: {
    epostadresse: 'ola.nordmann@example.no',
    epostadresse_oppdatert: STALE,
    epostadresse_sist_verifisert: STALE,
    mobiltelefonnummer: '+4799999999',
    mobiltelefonnummer_oppdatert: STALE,
  },
});

function assertNoNulls(v: unknown, path = ''): void {
  assert.notEqual(v, null, `null at ${path}`);
  if (typeof v === 'object' && v !== null) {
    assert.ok(Object.keys(v).length > 0, `empty object at ${path}`);
    for (const [k, x] of Object.entries(v)) assertNoNulls(x, `${path}/${k}`);
  }
}

function parseAnswer(json: string): Record<string, unknown> {
  const o = JSON.parse(json) as Record<string, unknown>;
  assertNoNulls(o);
  const keys = Object.keys(o);
  for (const k of keys) assert.ok(ANSWER_ORDER.includes(k), `unexpected field ${k}`);
  assert.deepEqual(
    keys,
    ANSWER_ORDER.filter((k) => keys.includes(k)),
    'field order',
  );
  return o;
}

function lookup(
  p: Person,
  scopes: string[],
  informasjonsbehov?: string[],
  now = NOW,
): Record<string, unknown> {
  const groups = groupsForScopes(scopes);
  assert.notEqual(groups, undefined, `no data scope in ${scopes.join(' ')}`);
  return parseAnswer(
    renderPersonAnswer(renderPerson(p), viewFor(groups!, informasjonsbehov), freshnessBoundary(now)),
  );
}

function keysOf(p: Person, scopes: string[], informasjonsbehov?: string[], now = NOW): string[] {
  return Object.keys(lookup(p, scopes, informasjonsbehov, now));
}

const KONTAKT = 'krr:global/kontaktinformasjon.read';
const DIGITALPOST = 'krr:global/digitalpost.read';
const BOTH = [KONTAKT, DIGITALPOST];

describe('groupsForScopes and the documented scope table', () => {
  const table: [string, string[]][] = [
    [
      'krr:global/kontaktinformasjon.read',
      ['varslingsstatus', 'kontaktinformasjon', 'spraak', 'spraak_oppdatert'],
    ],
    ['krr:global/kontaktinfo.read', ['varslingsstatus', 'kontaktinformasjon', 'spraak', 'spraak_oppdatert']],
    ['krr:global/digitalpost.read', ['digital_post', 'sertifikat']],
    ['krr:global/postkasse.read', ['digital_post', 'sertifikat']],
    ['global/kontaktinformasjon.read', ['kontaktinformasjon']],
    ['global/varslingsstatus.read', ['varslingsstatus']],
    ['global/spraak.read', ['spraak', 'spraak_oppdatert']],
    ['global/sikkerdigitalpost.read', ['digital_post']],
    ['global/sertifikat.read', ['sertifikat']],
  ];

  for (const [scope, granted] of table) {
    it(`${scope} grants the base fields and ${granted.join(', ')}`, () => {
      const expected = ANSWER_ORDER.filter((k) => BASE_NOT_RESERVED.includes(k) || granted.includes(k));
      assert.deepEqual(keysOf(person(), [scope]), expected);
      // with unrelated scopes around it, the same
      assert.deepEqual(keysOf(person(), ['openid', scope, 'krr:global/hentendring.read']), expected);
    });
  }

  it('every scope of the table is a data scope, and nothing else is', () => {
    assert.deepEqual([...DATA_SCOPES].sort(), table.map(([s]) => s).sort());
  });

  it('the base fields include reservasjonstidspunkt when reserved, for any data scope', () => {
    const reserved = person({ reservasjon: 'JA', reservasjonstidspunkt: utc(2017, 10, 7, 8, 48, 38) });
    for (const [scope] of table) {
      const o = lookup(reserved, [scope]);
      assert.equal(o.reservasjon, 'JA');
      assert.equal(o.reservasjonstidspunkt, '2017-11-07T09:48:38+01');
      assert.equal(o.status, 'AKTIV');
      assert.equal(o.personidentifikator, '27129324169');
    }
  });

  it('combines scopes', () => {
    assert.deepEqual(keysOf(person(), BOTH), [
      'personidentifikator',
      'reservasjon',
      'reservasjon_oppdatert',
      'status',
      'varslingsstatus',
      'kontaktinformasjon',
      'digital_post',
      'sertifikat',
      'spraak',
      'spraak_oppdatert',
    ]);
    assert.equal(groupsForScopes(BOTH), ALL_GROUPS);
    assert.equal(
      groupsForScopes([
        'global/kontaktinformasjon.read',
        'global/varslingsstatus.read',
        'global/spraak.read',
        'global/sikkerdigitalpost.read',
        'global/sertifikat.read',
      ]),
      ALL_GROUPS,
    );
    assert.deepEqual(keysOf(person(), ['global/sertifikat.read', 'global/spraak.read']), [
      ...BASE_NOT_RESERVED,
      'sertifikat',
      'spraak',
      'spraak_oppdatert',
    ]);
  });

  it('gives undefined for a token without any data scope', () => {
    assert.equal(groupsForScopes([]), undefined);
    assert.equal(groupsForScopes(['openid']), undefined);
    assert.equal(
      groupsForScopes(['krr:global/hentendring.read', 'krr:global/postkasse.write', 'krr:user/spraak.write']),
      undefined,
    );
    assert.equal(groupsForScopes(['KRR:GLOBAL/KONTAKTINFORMASJON.READ']), undefined);
    assert.equal(groupsForScopes(['krr:global/kontaktinformasjon.read ']), undefined);
  });

  it('a data scope among unrelated ones still grants (not 0)', () => {
    const g = groupsForScopes(['openid', 'global/sertifikat.read']);
    assert.equal(g, Group.sertifikat);
  });
});

describe('varslingsstatus and the 18-month rule', () => {
  const base = { status: 'AKTIV' as const, reserved: false };

  it('a channel confirmed exactly at the boundary is fresh, one second earlier stale', () => {
    assert.equal(varslingsstatus({ ...base, varslingBasis: BOUNDARY }, BOUNDARY), 'KAN_VARSLES');
    assert.equal(
      varslingsstatus({ ...base, varslingBasis: BOUNDARY - SECOND }, BOUNDARY),
      'KAN_IKKE_VARSLES',
    );
    assert.equal(varslingsstatus({ ...base, varslingBasis: BOUNDARY + SECOND }, BOUNDARY), 'KAN_VARSLES');
    assert.equal(varslingsstatus({ ...base, varslingBasis: null }, BOUNDARY), 'KAN_IKKE_VARSLES');
  });

  it('not AKTIV or reserved → KAN_IKKE_VARSLES, however fresh', () => {
    assert.equal(
      varslingsstatus({ status: 'SLETTET', reserved: false, varslingBasis: NOW }, BOUNDARY),
      'KAN_IKKE_VARSLES',
    );
    assert.equal(
      varslingsstatus({ status: 'AKTIV', reserved: true, varslingBasis: NOW }, BOUNDARY),
      'KAN_IKKE_VARSLES',
    );
  });

  it('end to end with the documented example (now 2018-06-01T12:00:00+02:00)', () => {
    const at = (t: number, field: 'epostadresse_sist_verifisert' | 'mobiltelefonnummer_oppdatert') =>
      lookup(
        person({
          kontaktinformasjon:
            field === 'epostadresse_sist_verifisert'
              ? { epostadresse: 'a@example.no', epostadresse_oppdatert: STALE, [field]: t }
              : { mobiltelefonnummer: '99999999', [field]: t },
        }),
        [KONTAKT],
      ).varslingsstatus;
    // 2016-12-01T12:00:00+01:00 exactly
    assert.equal(at(utc(2016, 11, 1, 11, 0, 0), 'epostadresse_sist_verifisert'), 'KAN_VARSLES');
    assert.equal(at(utc(2016, 11, 1, 10, 59, 59), 'epostadresse_sist_verifisert'), 'KAN_IKKE_VARSLES');
    assert.equal(at(utc(2016, 11, 1, 11, 0, 0), 'mobiltelefonnummer_oppdatert'), 'KAN_VARSLES');
    assert.equal(at(utc(2016, 11, 1, 10, 59, 59), 'mobiltelefonnummer_oppdatert'), 'KAN_IKKE_VARSLES');
  });

  it('one fresh channel is enough; all stale or none → KAN_IKKE_VARSLES', () => {
    assert.equal(lookup(person(), [KONTAKT]).varslingsstatus, 'KAN_VARSLES'); // email verified FRESH
    const mobileFresh = person({
      kontaktinformasjon: {
        epostadresse: 'a@example.no',
        epostadresse_oppdatert: STALE,
        mobiltelefonnummer: '41234567',
        mobiltelefonnummer_sist_verifisert: FRESH,
      },
    });
    assert.equal(lookup(mobileFresh, [KONTAKT]).varslingsstatus, 'KAN_VARSLES');
    assert.equal(lookup(STALE_PERSON, [KONTAKT]).varslingsstatus, 'KAN_IKKE_VARSLES');
    const none = person({ kontaktinformasjon: undefined });
    assert.equal(lookup(none, [KONTAKT]).varslingsstatus, 'KAN_IKKE_VARSLES');
    // a date without the channel's address is not a channel
    const noAddress = person({
      kontaktinformasjon: {
        epostadresse_sist_verifisert: FRESH,
        mobiltelefonnummer: '41234567',
        mobiltelefonnummer_oppdatert: STALE,
      },
    });
    assert.equal(lookup(noAddress, [KONTAKT]).varslingsstatus, 'KAN_IKKE_VARSLES');
  });

  it('reserved → KAN_IKKE_VARSLES, with its contact data still delivered when nothing filters', () => {
    const o = lookup(person({ reservasjon: 'JA', reservasjonstidspunkt: utc(2017, 0, 1, 12) }), BOTH);
    assert.equal(o.varslingsstatus, 'KAN_IKKE_VARSLES');
    assert.ok('kontaktinformasjon' in o && 'digital_post' in o && 'sertifikat' in o);
  });

  it('stale contact data is still delivered when informasjonsbehov is absent', () => {
    const o = lookup(STALE_PERSON, BOTH);
    assert.equal(o.varslingsstatus, 'KAN_IKKE_VARSLES');
    assert.deepEqual(o.kontaktinformasjon, {
      epostadresse: 'ola.nordmann@example.no',
      epostadresse_oppdatert: '2015-01-15T13:00:00+01',
      epostadresse_sist_verifisert: '2015-01-15T13:00:00+01',
      mobiltelefonnummer: '+4799999999',
      mobiltelefonnummer_oppdatert: '2015-01-15T13:00:00+01',
    });
    assert.ok('digital_post' in o && 'sertifikat' in o);
  });
});

describe('informasjonsbehov', () => {
  it('absent: everything the scopes allow, nothing withheld', () => {
    assert.deepEqual(viewFor(ALL_GROUPS, undefined), { groups: ALL_GROUPS, withholdUnreachable: false });
    assert.deepEqual(viewFor(Group.sertifikat, undefined), {
      groups: Group.sertifikat,
      withholdUnreachable: false,
    });
  });

  it('Person only (or an empty list, or only unknown codes) gives the base fields', () => {
    for (const behov of [['Person'], [], ['Ukjent'], ['person', 'kontaktinfo']]) {
      assert.deepEqual(keysOf(person(), BOTH, behov), BASE_NOT_RESERVED, JSON.stringify(behov));
    }
  });

  it('each code adds its group', () => {
    const cases: [string[], string[]][] = [
      [['Kontaktinfo'], ['kontaktinformasjon']],
      [['Kontaktinformasjon'], ['kontaktinformasjon']],
      [['Person', 'Kontaktinfo'], ['kontaktinformasjon']],
      [['Sertifikat'], ['sertifikat']],
      [['SikkerDigitalPost'], ['digital_post']],
      [['Spraak'], ['spraak', 'spraak_oppdatert']],
      [['VarslingsStatus'], ['varslingsstatus']],
      [
        ['Spraak', 'Sertifikat', 'Spraak', 'Ukjent'],
        ['sertifikat', 'spraak', 'spraak_oppdatert'],
      ],
      [
        ['Person', 'Kontaktinfo', 'Sertifikat', 'SikkerDigitalPost', 'VarslingsStatus', 'Spraak'],
        ['varslingsstatus', 'kontaktinformasjon', 'digital_post', 'sertifikat', 'spraak', 'spraak_oppdatert'],
      ],
    ];
    for (const [behov, extra] of cases) {
      const expected = ANSWER_ORDER.filter((k) => BASE_NOT_RESERVED.includes(k) || extra.includes(k));
      assert.deepEqual(keysOf(person(), BOTH, behov), expected, JSON.stringify(behov));
    }
  });

  it('never gives more than the scopes allow', () => {
    const all = ['Person', 'Kontaktinfo', 'Sertifikat', 'SikkerDigitalPost', 'VarslingsStatus', 'Spraak'];
    assert.deepEqual(keysOf(person(), [DIGITALPOST], ['Kontaktinfo', 'Spraak']), BASE_NOT_RESERVED);
    assert.deepEqual(keysOf(person(), [DIGITALPOST], all), [
      ...BASE_NOT_RESERVED,
      'digital_post',
      'sertifikat',
    ]);
    assert.deepEqual(keysOf(person(), [KONTAKT], all), [
      ...BASE_NOT_RESERVED,
      'varslingsstatus',
      'kontaktinformasjon',
      'spraak',
      'spraak_oppdatert',
    ]);
    assert.deepEqual(keysOf(person(), ['global/sikkerdigitalpost.read'], all), [
      ...BASE_NOT_RESERVED,
      'digital_post',
    ]);
    for (const scopes of [
      [KONTAKT],
      [DIGITALPOST],
      ['global/spraak.read'],
      ['global/varslingsstatus.read'],
    ]) {
      const g = groupsForScopes(scopes)!;
      assert.equal(viewFor(g, all).groups & ~g, 0);
    }
  });

  it('VarslingsStatus withholds kontaktinformasjon, digital_post and sertifikat of a person who cannot be notified', () => {
    const all = ['Kontaktinfo', 'Sertifikat', 'SikkerDigitalPost', 'VarslingsStatus', 'Spraak'];
    const unreachable: [string, Person][] = [
      ['stale', STALE_PERSON],
      ['reserved', person({ reservasjon: 'JA', reservasjonstidspunkt: utc(2017, 0, 1, 12) })],
      ['no channel', person({ kontaktinformasjon: undefined })],
    ];
    for (const [why, p] of unreachable) {
      const o = lookup(p, BOTH, all);
      assert.equal(o.varslingsstatus, 'KAN_IKKE_VARSLES', why);
      assert.equal('kontaktinformasjon' in o, false, why);
      assert.equal('digital_post' in o, false, why);
      assert.equal('sertifikat' in o, false, why);
      assert.equal(o.spraak, 'nn', why); // spraak is not withheld
      assert.equal(o.personidentifikator, '27129324169');
    }
    const reachable = lookup(person(), BOTH, all);
    assert.equal(reachable.varslingsstatus, 'KAN_VARSLES');
    assert.ok('kontaktinformasjon' in reachable && 'digital_post' in reachable && 'sertifikat' in reachable);
  });

  it('without VarslingsStatus nothing is withheld', () => {
    const o = lookup(STALE_PERSON, BOTH, ['Kontaktinfo', 'SikkerDigitalPost', 'Sertifikat']);
    assert.deepEqual(Object.keys(o), [
      ...BASE_NOT_RESERVED,
      'kontaktinformasjon',
      'digital_post',
      'sertifikat',
    ]);
    assert.equal(viewFor(ALL_GROUPS, ['Kontaktinfo']).withholdUnreachable, false);
    assert.equal(viewFor(ALL_GROUPS, ['VarslingsStatus']).withholdUnreachable, true);
    assert.equal(viewFor(ALL_GROUPS, ['VarslingsStatus', 'VarslingsStatus']).withholdUnreachable, true);
  });

  it('the boundary decides withholding too: at the instant kept, one second earlier withheld', () => {
    const at = (t: number) =>
      lookup(
        person({
          kontaktinformasjon: { mobiltelefonnummer: '99999999', mobiltelefonnummer_sist_verifisert: t },
        }),
        BOTH,
        ['VarslingsStatus', 'Kontaktinfo'],
      );
    assert.deepEqual(at(BOUNDARY).kontaktinformasjon, {
      mobiltelefonnummer: '99999999',
      mobiltelefonnummer_sist_verifisert: '2016-12-01T12:00:00+01',
    });
    assert.equal('kontaktinformasjon' in at(BOUNDARY - SECOND), false);
  });
});

describe('SLETTET and IKKE_REGISTRERT answers', () => {
  const deleted = renderPerson({ personidentifikator: '24079412372', status: 'SLETTET', reservasjon: 'NEI' });

  it('SLETTET: personidentifikator, status, and KAN_IKKE_VARSLES where the scope allows; no reservasjon', () => {
    const withStatus = parseAnswer(
      renderPersonAnswer(deleted, viewFor(groupsForScopes(BOTH)!, undefined), BOUNDARY),
    );
    assert.deepEqual(Object.keys(withStatus), ['personidentifikator', 'status', 'varslingsstatus']);
    assert.deepEqual(withStatus, {
      personidentifikator: '24079412372',
      status: 'SLETTET',
      varslingsstatus: 'KAN_IKKE_VARSLES',
    });

    const legacy = parseAnswer(
      renderPersonAnswer(
        deleted,
        viewFor(groupsForScopes(['global/varslingsstatus.read'])!, undefined),
        BOUNDARY,
      ),
    );
    assert.deepEqual(legacy, {
      personidentifikator: '24079412372',
      status: 'SLETTET',
      varslingsstatus: 'KAN_IKKE_VARSLES',
    });

    for (const scopes of [[DIGITALPOST], ['global/kontaktinformasjon.read'], ['global/spraak.read']]) {
      const o = parseAnswer(
        renderPersonAnswer(deleted, viewFor(groupsForScopes(scopes)!, undefined), BOUNDARY),
      );
      assert.deepEqual(o, { personidentifikator: '24079412372', status: 'SLETTET' }, scopes.join());
    }
    // informasjonsbehov without VarslingsStatus narrows it away
    const narrowed = parseAnswer(renderPersonAnswer(deleted, viewFor(ALL_GROUPS, ['Kontaktinfo']), BOUNDARY));
    assert.deepEqual(narrowed, { personidentifikator: '24079412372', status: 'SLETTET' });
  });

  it('SLETTET: nothing leaks from a record that still carries data', () => {
    const leaky = renderPerson(person({ status: 'SLETTET', reservasjon: 'JA' }));
    const o = parseAnswer(renderPersonAnswer(leaky, viewFor(ALL_GROUPS, undefined), BOUNDARY));
    assert.deepEqual(o, {
      personidentifikator: '27129324169',
      status: 'SLETTET',
      varslingsstatus: 'KAN_IKKE_VARSLES',
    });
  });

  it('IKKE_REGISTRERT: personidentifikator, status, and KAN_IKKE_VARSLES where the scope allows', () => {
    const withStatus = parseAnswer(
      renderUnregisteredAnswer('27129324169', viewFor(groupsForScopes([KONTAKT])!, undefined)),
    );
    assert.deepEqual(Object.keys(withStatus), ['personidentifikator', 'status', 'varslingsstatus']);
    assert.deepEqual(withStatus, {
      personidentifikator: '27129324169',
      status: 'IKKE_REGISTRERT',
      varslingsstatus: 'KAN_IKKE_VARSLES',
    });

    const view: View = viewFor(groupsForScopes([DIGITALPOST])!, undefined);
    assert.deepEqual(parseAnswer(renderUnregisteredAnswer('27129324169', view)), {
      personidentifikator: '27129324169',
      status: 'IKKE_REGISTRERT',
    });

    const narrowed = viewFor(ALL_GROUPS, ['Person']);
    assert.deepEqual(parseAnswer(renderUnregisteredAnswer('24079412372', narrowed)), {
      personidentifikator: '24079412372',
      status: 'IKKE_REGISTRERT',
    });
  });
});

describe('answer shape', () => {
  it('a full answer matches the documented example’s order and timestamp format', () => {
    const o = lookup(
      person({
        reservasjon: 'JA',
        reservasjonstidspunkt: utc(2017, 10, 7, 8, 48, 38),
        reservasjon_oppdatert: utc(2018, 6, 31, 21, 19, 2),
      }),
      BOTH,
    );
    assert.deepEqual(Object.keys(o), ANSWER_ORDER);
    assert.deepEqual(Object.keys(o.kontaktinformasjon as object), [
      'epostadresse',
      'epostadresse_oppdatert',
      'epostadresse_sist_verifisert',
      'mobiltelefonnummer',
      'mobiltelefonnummer_oppdatert',
    ]);
    assert.deepEqual(Object.keys(o.digital_post as object), [
      'postkasseadresse',
      'postkasseleverandoeradresse',
    ]);
    assert.equal(o.reservasjonstidspunkt, '2017-11-07T09:48:38+01');
    assert.equal(o.reservasjon_oppdatert, '2018-07-31T23:19:02+02');
    assert.equal(o.spraak_oppdatert, '2020-11-12T11:00:58+01');
    assert.equal(o.varslingsstatus, 'KAN_IKKE_VARSLES');
  });

  it('a person without contact data has no kontaktinformasjon object at all', () => {
    const o = lookup(person({ kontaktinformasjon: {} }), BOTH);
    assert.equal('kontaktinformasjon' in o, false);
    assert.equal(o.varslingsstatus, 'KAN_IKKE_VARSLES');
  });
});

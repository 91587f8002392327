// The OpenAPI document as a code generator reads it (docs/operations.md#openapi): named component
// schemas, a stable operationId on every operation, one error body by reference for every error
// status an operation can answer, application/jose where it is honoured. Types are generated from
// the served document with openapi-typescript, and a small client written against them, and the
// app's real answers typed by them, are type-checked with the TypeScript compiler: a wrong field
// name, a field the document lacks or a missing operationId fails here.
//
// The document does not depend on the store, so this runs on one (the embedded one, always there).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import openapiTS, { astToString } from 'openapi-typescript';
import type { OpenAPI3 } from 'openapi-typescript';
import ts from 'typescript';
import { PersonSchema } from '../answer/answer.schema.js';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import { refTo } from '../http/openapi.js';
import type { Person } from '../person/person.js';
import { TESTDATA_SCOPE } from '../testdata/testdata.routes.js';
import { parseInstant } from '../time/oslo-time.js';
import { skipReason } from '../../test/support/stores.js';
import { startTestApp } from '../../test/support/test-app.js';
import type { TestApp } from '../../test/support/test-app.js';

interface Operation {
  operationId?: string;
  tags?: string[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }>; headers?: object }>;
}
interface Doc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
}

const ALWAYS = [400, 408, 429, 431, 500, 503];
const TOKEN = [401, 403];
const BODY = [400, 413];
/** Every operation: its operationId, and every status it can answer (docs/errors.md#statuses). */
const OPERATIONS: Record<
  string,
  { id: string; statuses: number[]; signed?: true; body?: string; consumes?: string }
> = {
  'post /rest/v1/personer': {
    id: 'hentPersonerV1',
    statuses: [200, ...TOKEN, ...BODY, 422],
    signed: true,
    body: 'PersonerRequest',
  },
  'post /rest/v2/personer': {
    id: 'hentPersonerV2',
    statuses: [200, ...TOKEN, ...BODY, 422],
    signed: true,
    body: 'PersonerRequest',
  },
  'post /rest/v2/krr/hentEndringer': {
    id: 'hentEndringer',
    statuses: [200, ...TOKEN, ...BODY],
    body: 'EndringerRequest',
  },
  'get /rest/v1/person': { id: 'hentInnloggetPerson', statuses: [200, ...TOKEN], signed: true },
  'patch /rest/v1/person': {
    id: 'endreSpraak',
    statuses: [200, ...TOKEN, ...BODY, 404, 422],
    signed: true,
    body: 'SpraakEndring',
  },
  'post /rest/v1/postkasse/kanVelge': {
    id: 'kanVelgePostkasse',
    statuses: [200, ...TOKEN, ...BODY],
    body: 'KanVelgeRequest',
  },
  'post /rest/v1/postkasse/opprettOgVelg': {
    id: 'opprettOgVelgPostkasse',
    statuses: [200, ...TOKEN, ...BODY],
    body: 'PostkasseRequest',
  },
  'post /rest/v1/postkasse/oppdater': {
    id: 'oppdaterPostkasse',
    statuses: [200, ...TOKEN, ...BODY],
    body: 'PostkasseRequest',
  },
  'post /rest/v1/postkasse/slett': {
    id: 'slettPostkasse',
    statuses: [200, ...TOKEN, ...BODY],
    body: 'SlettPostkasseRequest',
  },
  'get /rest/v1/printSertifikat': { id: 'hentPrintSertifikatV1', statuses: [200, 404] },
  'get /rest/v2/printSertifikat': { id: 'hentPrintSertifikatV2', statuses: [200, 404] },
  'put /testdata/personer/{personidentifikator}': {
    id: 'putTestPerson',
    statuses: [200, 201, ...TOKEN, ...BODY, 422],
    body: 'TestPerson',
  },
  'get /testdata/personer/{personidentifikator}': {
    id: 'getTestPerson',
    statuses: [200, ...TOKEN, 404, 422],
  },
  'delete /testdata/personer/{personidentifikator}': {
    id: 'deleteTestPerson',
    statuses: [204, ...TOKEN, 404, 422],
  },
  'post /testdata/personer': {
    id: 'createTestPerson',
    statuses: [201, ...TOKEN, ...BODY, 409, 422],
    body: 'TestPersonRequest',
  },
  'post /testdata/import': {
    id: 'importTestPersons',
    statuses: [200, ...TOKEN, ...BODY, 422],
    body: 'TestImportLines',
    consumes: 'application/x-ndjson',
  },
  'post /testdata/nullstill': {
    id: 'resetTestData',
    statuses: [200, ...TOKEN, ...BODY, 422],
    body: 'NullstillRequest',
  },
  'get /testdata/klokke': { id: 'getTestClock', statuses: [200, ...TOKEN, 409] },
  'put /testdata/klokke': {
    id: 'putTestClock',
    statuses: [200, ...TOKEN, ...BODY, 409, 422],
    body: 'KlokkeRequest',
  },
};
const statusesOf = (key: string) =>
  [...new Set([...OPERATIONS[key]!.statuses, ...ALWAYS])].sort((a, b) => a - b).map(String);

const NAMED = [
  'Person',
  'Kontaktinformasjon',
  'DigitalPost',
  'PersonerRequest',
  'PersonerResponse',
  'Errors',
  'ErrorItem',
  'EndringerRequest',
  'EndringerResponse',
  'EndringPerson',
  'EndringKontaktinformasjon',
  'SpraakEndring',
  'KanVelgeRequest',
  'PostkasseRequest',
  'SlettPostkasseRequest',
  'KanVelgeResponse',
  'PostkasseResponse',
  'Beskrivelse',
  'PrintSertifikat',
  'TestPerson',
  'TestPersonRequest',
  'TestImportLines',
  'TestImportMerknad',
  'TestImportResponse',
  'NullstillRequest',
  'NullstillResponse',
  'KlokkeRequest',
  'Klokke',
];

const ERRORS_REF = { $ref: '#/components/schemas/Errors' };
const DATA = ['krr:global/kontaktinformasjon.read', 'krr:global/digitalpost.read'];

const at = (iso: string) => parseInstant(iso)!;
const ALICE = makeIdentifier({ day: 12, month: 3, year: 91 });
const BOB = makeIdentifier({ day: 13, month: 4, year: 92 });
const NOBODY = makeIdentifier({ day: 14, month: 5, year: 93 });
const SHARED_EMAIL = 'felles@example.no';
const PERSONS: Person[] = [
  {
    personidentifikator: ALICE,
    status: 'AKTIV',
    reservasjon: 'NEI',
    reservasjon_oppdatert: at('2020-01-02T10:00:00+01:00'),
    kontaktinformasjon: {
      epostadresse: SHARED_EMAIL,
      epostadresse_oppdatert: at('2024-03-11T19:57:52+01:00'),
      epostadresse_sist_verifisert: at('2025-11-07T09:48:38+01:00'),
      mobiltelefonnummer: '+4799999999',
      mobiltelefonnummer_oppdatert: at('2024-03-11T19:57:52+01:00'),
      mobiltelefonnummer_sist_verifisert: at('2025-07-31T21:19:02Z'),
    },
    digital_post: { postkasseadresse: 'alice#9YDT', postkasseleverandoeradresse: '984661185' },
    spraak: 'nb',
    spraak_oppdatert: at('2020-11-12T10:00:58Z'),
  },
  {
    personidentifikator: BOB,
    status: 'AKTIV',
    reservasjon: 'JA',
    reservasjonstidspunkt: at('2021-05-01T08:00:00+02:00'),
    reservasjon_oppdatert: at('2021-05-01T08:00:00+02:00'),
    kontaktinformasjon: { epostadresse: SHARED_EMAIL, epostadresse_oppdatert: at('2025-01-01T00:00:00Z') },
  },
];

/** The client an agency would write against the generated types. */
const CLIENT = `
import type { components, operations, paths } from './krr-api';

type Schemas = components['schemas'];
export type Person = Schemas['Person'];
type LookupBody = operations['hentPersonerV2']['requestBody']['content']['application/json'];
type LookupAnswer = operations['hentPersonerV2']['responses'][200]['content']['application/json'];
type SignedLookup = operations['hentPersonerV2']['responses'][200]['content']['application/jose'];
type FeedBody = operations['hentEndringer']['requestBody']['content']['application/json'];
type FeedPage = operations['hentEndringer']['responses'][200]['content']['application/json'];
type LanguageChange = operations['endreSpraak']['requestBody']['content']['application/json'];
type Print = paths['/rest/v2/printSertifikat']['get']['responses'][200]['content']['application/json'];
type KanVelge = operations['kanVelgePostkasse']['responses'][200]['content']['application/json'];
type ApiErrors = operations['hentPersonerV2']['responses'][422]['content']['application/json'];

export interface Transport {
  send(method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown, accept?: string): Promise<{ status: number; text: string }>;
}

export class KrrApiError {
  constructor(readonly status: number, readonly body: ApiErrors) {}
  pointers(): string[] {
    return this.body.errors.map((e) => (e.source ? e.source.pointer : e.title + ': ' + (e.detail || e.status)));
  }
}

async function call<T>(t: Transport, method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown): Promise<T> {
  const res = await t.send(method, path, body);
  if (res.status !== 200) throw new KrrApiError(res.status, JSON.parse(res.text) as ApiErrors);
  return JSON.parse(res.text) as T;
}

/** E-mail addresses that may be used for notices, per identifier. */
export async function notifiableEmails(t: Transport, ids: string[]): Promise<Array<[string, string | undefined]>> {
  const body: LookupBody = { personidentifikatorer: ids, inkluderIkkeRegistrerte: true, informasjonsbehov: null };
  const answer = await call<LookupAnswer>(t, 'POST', '/rest/v2/personer', body);
  return answer.personer.map((p: Person): [string, string | undefined] => [
    p.personidentifikator,
    p.status === 'AKTIV' && p.reservasjon !== 'JA' && p.varslingsstatus === 'KAN_VARSLES'
      ? p.kontaktinformasjon?.epostadresse
      : undefined,
  ]);
}

export async function signed(t: Transport, ids: string[]): Promise<SignedLookup> {
  const res = await t.send('POST', '/rest/v1/personer', { personidentifikatorer: ids } satisfies LookupBody, 'application/jose');
  return res.text;
}

/** One page of the feed: who shares an e-mail address, and where to go on. */
export async function sharedEmails(t: Transport, from: number): Promise<{ shared: string[]; next: number; done: boolean }> {
  const page = await call<FeedPage>(t, 'POST', '/rest/v2/krr/hentEndringer', { fraEndringsId: from } satisfies FeedBody);
  const shared = page.list
    .filter((p) => p.status === 'AKTIV' && p.kontaktinformasjon?.epostadresse_duplisert === 'JA')
    .map((p) => p.personidentifikator);
  return { shared, next: page.tilEndringsId, done: page.tilEndringsId === page.sisteEndringsId };
}

export async function setLanguage(t: Transport, spraak: LanguageChange['spraak']): Promise<Person['spraak']> {
  const me = await call<Person>(t, 'PATCH', '/rest/v1/person', { spraak } satisfies LanguageChange);
  return me.spraak;
}

export async function printCertificate(t: Transport): Promise<string> {
  const print = await call<Print>(t, 'GET', '/rest/v2/printSertifikat');
  return print.postkasseleverandoerAdresse + ':' + print.x509Sertifikat;
}

export function canChoose(answer: KanVelge): boolean | Schemas['Beskrivelse'] {
  return answer.status === 'JA' ? true : answer.beskrivelse === undefined ? false : answer.beskrivelse;
}
`;

/** Mistakes the generated types must catch: each line marked WRONG must have an error. */
const WRONG = `
import type { components, operations } from './krr-api';
type Person = components['schemas']['Person'];
export const misspelt = (p: Person) => p.kontaktinformasjon?.epost; // WRONG
export const notInLookups: Person = {
  personidentifikator: '01010112345',
  status: 'AKTIV',
  kontaktinformasjon: { epostadresse: 'a@example.no', epostadresse_duplisert: 'JA' }, // WRONG
};
export const noIdentifiers: components['schemas']['PersonerRequest'] = { personidentifikator: ['01010112345'] }; // WRONG
export const badLanguage: operations['endreSpraak']['requestBody']['content']['application/json'] = { spraak: 'de' }; // WRONG
export const badStatus: Person = { personidentifikator: '01010112345', status: 'RESERVERT' }; // WRONG
`;

interface Checked {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/** Type-checks the virtual files under /virtual/ with the TypeScript compiler (nothing is written). */
function typeCheck(files: Record<string, string>): Checked[] {
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    // The few declarations the files need, and no @types: the check stays a fraction of a second.
    lib: ['lib.es5.d.ts', 'lib.es2015.promise.d.ts'],
    types: [],
    skipLibCheck: true,
  };
  const host = ts.createCompilerHost(options, true);
  const isVirtual = (name: string) => name === '/virtual' || name.startsWith('/virtual/');
  const virtual = (name: string) => (name.startsWith('/virtual/') ? files[name.slice(9)] : undefined);
  const real = {
    getSourceFile: host.getSourceFile.bind(host),
    fileExists: host.fileExists.bind(host),
    readFile: host.readFile.bind(host),
    directoryExists: host.directoryExists?.bind(host),
    realpath: host.realpath?.bind(host),
  };
  host.getSourceFile = (name, language, ...rest) => {
    const text = virtual(name);
    return text !== undefined
      ? ts.createSourceFile(name, text, language, true)
      : real.getSourceFile(name, language, ...rest);
  };
  host.fileExists = (name) => (isVirtual(name) ? virtual(name) !== undefined : real.fileExists(name));
  host.readFile = (name) => (isVirtual(name) ? virtual(name) : real.readFile(name));
  host.directoryExists = (name) =>
    name === '/virtual' || (!isVirtual(name) && (real.directoryExists?.(name) ?? true));
  host.realpath = (name) => (isVirtual(name) ? name : (real.realpath?.(name) ?? name));
  const program = ts.createProgram(
    Object.keys(files).map((f) => `/virtual/${f}`),
    options,
    host,
  );
  return ts.getPreEmitDiagnostics(program).map((d) => ({
    file: d.file?.fileName ?? '(options)',
    line: d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1,
    message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
  }));
}

/** Every schema object in `value` with a property named `name`, with its path. */
function schemasWithProperty(value: unknown, name: string, path = ''): string[] {
  if (value === null || typeof value !== 'object') return [];
  const here =
    'properties' in value &&
    typeof value.properties === 'object' &&
    value.properties &&
    name in value.properties
      ? [path]
      : [];
  return [
    ...here,
    ...Object.entries(value).flatMap(([k, v]) => schemasWithProperty(v, name, `${path}/${k}`)),
  ];
}

describe('the OpenAPI document', { skip: await skipReason('embedded') }, () => {
  let t: TestApp;
  let doc: Doc;
  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ key: `${method} ${path}`, op })),
    );

  before(async () => {
    t = await startTestApp('embedded');
    // A route of the test's own (not in the document) with a response schema, answering an object
    // with a member the schema lacks, in an order of its own.
    t.app.get('/test/serialised', { schema: { hide: true, response: { 200: refTo(PersonSchema) } } }, () => ({
      status: 'AKTIV',
      extra: [1, 2],
      personidentifikator: ALICE,
    }));
    await t.write(PERSONS);
    const res = await t.app.inject({ method: 'GET', url: '/v3/api-docs' });
    assert.equal(res.statusCode, 200);
    doc = res.json<Doc>();
  });
  after(async () => t?.close());

  it('names every body as a component schema, none numbered, the feed person with its duplicate flags', () => {
    const names = Object.keys(doc.components.schemas);
    for (const name of NAMED) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    assert.deepEqual(
      names.filter((n) => /^def-/.test(n)),
      [],
    );
    const feed = Object.keys(doc.components.schemas.EndringKontaktinformasjon!.properties!);
    assert.deepEqual(feed, [
      'epostadresse',
      'epostadresse_oppdatert',
      'epostadresse_sist_verifisert',
      'epostadresse_duplisert',
      'mobiltelefonnummer',
      'mobiltelefonnummer_oppdatert',
      'mobiltelefonnummer_sist_verifisert',
      'mobiltelefonnummer_duplisert',
    ]);
    const lookup = Object.keys(doc.components.schemas.Kontaktinformasjon!.properties!);
    assert.ok(!lookup.some((p) => p.endsWith('_duplisert')), lookup.join(', '));
    // The error body is written once: only the Errors schema has an `errors` member.
    assert.deepEqual(schemasWithProperty(doc, 'errors'), ['/components/schemas/Errors']);
  });

  it('gives every operation its stable operationId, its request body by reference, and every status it can answer', () => {
    assert.deepEqual(
      operations()
        .map((o) => o.key)
        .sort(),
      Object.keys(OPERATIONS).sort(),
    );
    for (const { key, op } of operations()) {
      const expected = OPERATIONS[key]!;
      assert.equal(op.operationId, expected.id, key);
      assert.match(op.operationId, /^[a-z][a-zA-Z0-9]*$/, key);
      assert.ok(op.tags && op.tags.length === 1, key);
      assert.deepEqual(Object.keys(op.responses), statusesOf(key), key);
      if (expected.body) {
        assert.deepEqual(
          op.requestBody?.content,
          {
            [expected.consumes ?? 'application/json']: {
              schema: { $ref: `#/components/schemas/${expected.body}` },
            },
          },
          key,
        );
      } else assert.equal(op.requestBody, undefined, key);
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        assert.deepEqual(
          response.content,
          { 'application/json': { schema: ERRORS_REF } },
          `${key} ${status}`,
        );
      }
      assert.ok(op.responses['429']?.headers && 'retry-after' in op.responses['429'].headers, key);
      // Every success answers a named body, but 204, which has none.
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) >= 400) continue;
        if (status === '204') {
          assert.equal(response.content, undefined, `${key} ${status}`);
          continue;
        }
        const ok = response.content!;
        assert.deepEqual(
          Object.keys(ok),
          expected.signed ? ['application/json', 'application/jose'] : ['application/json'],
          `${key} ${status}`,
        );
        assert.match(
          JSON.stringify(ok['application/json']!.schema),
          /^\{"\$ref":"#\/components\/schemas\/\w+"\}$/,
          `${key} ${status}`,
        );
      }
    }
    assert.equal(new Set(operations().map((o) => o.op.operationId)).size, operations().length);
  });

  it('documents the status of what the app really answers to no token, a token of the other kind, bad JSON and an oversized body', async () => {
    const system = await t.token([
      ...DATA,
      'krr:global/hentendring.read',
      'krr:global/postkasse.write',
      TESTDATA_SCOPE,
    ]);
    const person = await t.personToken(
      ['krr:user/kontaktinformasjon.read', 'krr:user/digitalpost.read', 'krr:user/spraak.write'],
      ALICE,
    );
    const huge = JSON.stringify({ personidentifikatorer: ['x'.repeat(t.config.http.bodyLimitBytes)] });
    let probes = 0;
    for (const { key, op } of operations()) {
      const [method, url] = key.split(' ') as [string, string];
      const right =
        op.operationId!.endsWith('Spraak') || op.operationId === 'hentInnloggetPerson' ? person : system;
      const wrong = right === person ? system : person;
      const tries: Array<{ token?: string; payload?: string }> = [{}, { token: wrong }];
      if (op.requestBody)
        tries.push({ token: right, payload: '{"not json' }, { token: right, payload: huge });
      for (const attempt of tries) {
        const res = await t.app.inject({
          method: method.toUpperCase() as 'GET',
          url,
          headers: {
            'content-type': 'application/json',
            ...(attempt.token ? { authorization: `Bearer ${attempt.token}` } : {}),
          },
          ...(attempt.payload !== undefined ? { payload: attempt.payload } : {}),
        });
        assert.ok(res.statusCode in op.responses, `${key}: ${res.statusCode} is not documented`);
        probes++;
      }
    }
    assert.ok(probes >= 30, String(probes));
  });

  it('never lets a response schema serialise: an answer object is sent as JSON.stringify sends it', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/test/serialised' });
    assert.equal(res.body, JSON.stringify({ status: 'AKTIV', extra: [1, 2], personidentifikator: ALICE }));
  });

  it('generates types with openapi-typescript that a client, and the real answers, type-check against; mistakes fail', async () => {
    const types = astToString(await openapiTS(structuredClone(doc) as unknown as OpenAPI3, { silent: true }));
    const system = await t.token([...DATA, 'krr:global/hentendring.read']);
    const json = async (method: 'GET' | 'POST' | 'PUT', url: string, token: string, body?: unknown) => {
      const res = await t.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
      return { status: res.statusCode, text: res.body };
    };
    const lookup = await json('POST', '/rest/v2/personer', system, {
      personidentifikatorer: [ALICE, BOB, NOBODY],
      inkluderIkkeRegistrerte: true,
    });
    const feed = await json('POST', '/rest/v2/krr/hentEndringer', system, { fraEndringsId: 0 });
    const me = await json(
      'GET',
      '/rest/v1/person',
      await t.personToken(['krr:user/kontaktinformasjon.read', 'krr:user/digitalpost.read'], ALICE),
    );
    const invalid = await json('POST', '/rest/v2/personer', system, { personidentifikatorer: ['123'] });
    const testdata = await t.token([TESTDATA_SCOPE]);
    // kontaktinformasjon and digital_post null are absent (docs/import-export.md#format).
    const testBody = {
      status: 'AKTIV',
      reservasjon: 'NEI',
      kontaktinformasjon: null,
      digital_post: null,
      spraak: 'nn',
      spraak_oppdatert: '-P1M',
    };
    const created = await json('PUT', `/testdata/personer/${NOBODY}`, testdata, testBody);
    const stored = await json('GET', `/testdata/personer/${NOBODY}`, testdata);
    for (const [res, status] of [
      [created, 201],
      [stored, 200],
      [lookup, 200],
      [feed, 200],
      [me, 200],
      [invalid, 422],
    ] as const)
      assert.equal(res.status, status, res.text);
    assert.match(feed.text, /"epostadresse_duplisert":"JA"/);

    const answers = `
import type { operations } from './krr-api';
type WithOk = { [Op in keyof operations]: operations[Op]['responses'] extends { 200: unknown } ? Op : never }[keyof operations];
type Ok<Op extends WithOk> = operations[Op]['responses'][200]['content']['application/json'];
type TestPersonBody = operations['putTestPerson']['requestBody']['content']['application/json'];
export const lookup: Ok<'hentPersonerV2'> = ${lookup.text};
export const feed: Ok<'hentEndringer'> = ${feed.text};
export const me: Ok<'hentInnloggetPerson'> = ${me.text};
export const invalid: operations['hentPersonerV2']['responses'][422]['content']['application/json'] = ${invalid.text};
export const testPersonBody: TestPersonBody = ${JSON.stringify(testBody)};
export const created: operations['putTestPerson']['responses'][201]['content']['application/json'] = ${created.text};
export const stored: Ok<'getTestPerson'> = ${stored.text};
`;
    const diagnostics = typeCheck({
      'krr-api.d.ts': types,
      'client.ts': CLIENT,
      'answers.ts': answers,
      'wrong.ts': WRONG,
    });
    const outside = diagnostics.filter((d) => d.file !== '/virtual/wrong.ts');
    assert.deepEqual(outside, [], 'the client and the real answers type-check');
    const wrongLines = WRONG.split('\n').flatMap((l, i) => (l.includes('// WRONG') ? [i] : []));
    const failed = [...new Set(diagnostics.filter((d) => d.file === '/virtual/wrong.ts').map((d) => d.line))];
    assert.deepEqual(
      failed.sort((a, b) => a - b),
      wrongLines,
      JSON.stringify(diagnostics, null, 1),
    );
  });
});

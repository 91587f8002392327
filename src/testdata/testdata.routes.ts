// The test-data API under /testdata (docs/testdata.md): on in dev mode, elsewhere only when the
// configuration enables it, and always only for a Maskinporten token with krr:testdata.write.

import type {} from '@fastify/swagger';
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireToken } from '../auth/auth.hook.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { BadRequestError, InvalidValueError, NotFoundError } from '../errors/errors.js';
import type { ErrorItem } from '../errors/errors.js';
import { PERSON_SCHEMAS, PersonSchema } from '../answer/answer.schema.js';
import {
  BODY_ERRORS,
  errorResponses,
  jsonResponse,
  refTo,
  registerSchemas,
  TOKEN_ERRORS,
} from '../http/openapi.js';
import { sendJson } from '../http/send-json.js';
import { isLanguage, LANGUAGES } from '../person/person.js';
import type { ClockChange } from '../time/clock.js';
import { parseDuration } from '../time/duration.js';
import { formatOslo, parseInstant } from '../time/oslo-time.js';
import { isTemplateName, TEMPLATE_NAMES } from './testdata.templates.js';
import { DATASETS } from './testdata.service.js';
import type { Dataset, TestdataService } from './testdata.service.js';

export const TESTDATA_SCOPE = 'krr:testdata.write';

/** A test-data import may be larger than any other body (docs/testdata.md#import). */
export const TESTDATA_IMPORT_BODY_LIMIT = 64 * 1024 * 1024;

const Params = Type.Object({ personidentifikator: Type.String() });
type Params = Static<typeof Params>;

const TIME =
  'an ISO-8601 date-time with an offset, or a signed ISO-8601 duration from the register\'s now ("-P17M")';
const time = () => Type.Optional(Type.String({ description: TIME }));

/** One person in the import format (docs/import-export.md#format), timestamps absolute or relative. */
const TestPerson = Type.Object(
  {
    personidentifikator: Type.Optional(Type.String({ description: "the path's identifier, or left out" })),
    status: Type.String({ description: 'AKTIV or SLETTET' }),
    reservasjon: Type.Optional(Type.String({ description: 'JA or NEI' })),
    reservasjonstidspunkt: time(),
    reservasjon_oppdatert: time(),
    // null is absent, as parsePerson reads it (docs/import-export.md#format).
    kontaktinformasjon: Type.Optional(
      Type.Union([
        Type.Object(
          {
            epostadresse: Type.Optional(Type.String()),
            epostadresse_oppdatert: time(),
            epostadresse_sist_verifisert: time(),
            mobiltelefonnummer: Type.Optional(Type.String()),
            mobiltelefonnummer_oppdatert: time(),
            mobiltelefonnummer_sist_verifisert: time(),
          },
          { additionalProperties: true },
        ),
        Type.Null(),
      ]),
    ),
    digital_post: Type.Optional(
      Type.Union([
        Type.Object(
          { postkasseadresse: Type.String(), postkasseleverandoeradresse: Type.String() },
          { additionalProperties: true },
        ),
        Type.Null(),
      ]),
    ),
    sertifikat: Type.Optional(Type.String({ description: 'base64 of a DER X.509 certificate' })),
    spraak: Type.Optional(Type.String({ description: LANGUAGES.join(', ') })),
    spraak_oppdatert: time(),
  },
  {
    $id: 'TestPerson',
    additionalProperties: true,
    description:
      'One person in the import format; PUT takes timestamps absolute or relative, GET answers them absolute.',
  },
);

const TestPersonRequest = Type.Object(
  {
    mal: Type.String({ description: `the template: ${TEMPLATE_NAMES.join(', ')}` }),
    spraak: Type.Optional(Type.String({ description: LANGUAGES.join(', ') })),
    leverandoer: Type.Optional(
      Type.String({ description: 'the mailbox provider (organisation number) of digipost and eboks' }),
    ),
  },
  {
    $id: 'TestPersonRequest',
    additionalProperties: false,
    description: 'A template for a new test person (docs/testdata.md).',
  },
);
type CreateBody = Static<typeof TestPersonRequest>;

const NullstillRequest = Type.Object(
  { datasett: Type.String({ description: DATASETS.join(', ') }) },
  { $id: 'NullstillRequest', additionalProperties: false, description: 'The data set to reset to.' },
);
type ResetBody = Static<typeof NullstillRequest>;

const KlokkeRequest = Type.Object(
  {
    naa: Type.Optional(
      Type.String({ description: 'freeze the clock at this instant (ISO-8601 with an offset)' }),
    ),
    forskyv: Type.Optional(
      Type.String({
        description: 'move the clock, frozen or running, by a signed ISO-8601 duration ("P18M")',
      }),
    ),
    reell: Type.Optional(Type.Boolean({ description: 'true: the system clock again' })),
  },
  {
    $id: 'KlokkeRequest',
    additionalProperties: false,
    description: 'Exactly one of naa, forskyv and reell (docs/testdata.md#the-clock).',
  },
);
type ClockBody = Static<typeof KlokkeRequest>;

const Klokke = Type.Object(
  {
    naa: Type.String({ description: "the register's now, Europe/Oslo local time" }),
    fryst: Type.Boolean({ description: 'true while the clock is frozen' }),
  },
  { $id: 'Klokke', description: "The register's clock." },
);

const TestImportLines = Type.String({
  $id: 'TestImportLines',
  description: 'JSON Lines: one person in the import format per line',
});

const TestImportMerknad = Type.Object(
  {
    linje: Type.Integer({ description: 'the line index, from 0' }),
    peker: Type.String({ description: 'a JSON Pointer into the line' }),
    detalj: Type.String(),
  },
  { $id: 'TestImportMerknad', description: 'A line that is valid but surprising.' },
);

const TestImportResponse = Type.Object(
  {
    personer: Type.Integer(),
    linjer: Type.Integer(),
    antallMerknader: Type.Integer(),
    merknader: Type.Array(Type.Unsafe<Static<typeof TestImportMerknad>>(Type.Ref('TestImportMerknad'))),
  },
  { $id: 'TestImportResponse', description: 'What an import wrote, with its notes.' },
);

const NullstillResponse = Type.Object(
  {
    datasett: Type.String(),
    fjernet: Type.Integer({ description: 'persons removed' }),
    personer: Type.Integer({ description: 'persons written' }),
  },
  { $id: 'NullstillResponse', description: 'What a reset removed and wrote.' },
);

const TESTDATA_SCHEMAS = [
  ...PERSON_SCHEMAS,
  TestPerson,
  TestPersonRequest,
  TestImportLines,
  TestImportMerknad,
  TestImportResponse,
  NullstillRequest,
  NullstillResponse,
  KlokkeRequest,
  Klokke,
];

const BAD_IDENTIFIER = 'The path identifier is not a valid identifier.';

/** Exactly one of naa, forskyv, reell (docs/testdata.md#the-clock). */
export function parseClockChange(body: ClockBody): ClockChange {
  const given = (['naa', 'forskyv', 'reell'] as const).filter((k) => body[k] !== undefined);
  if (given.length === 0) throw new BadRequestError('give one of naa, forskyv or reell');
  if (given.length > 1)
    throw new InvalidValueError(
      'give only one of naa, forskyv or reell',
      given.map((k) => ({ pointer: `/${k}`, detail: 'give only one of naa, forskyv or reell' })),
    );
  if (body.naa !== undefined) {
    const at = parseInstant(body.naa);
    if (at === undefined)
      throw new InvalidValueError('naa is not valid', [
        { pointer: '/naa', detail: 'naa must be an ISO-8601 date-time with an offset or Z' },
      ]);
    return { kind: 'freeze', at };
  }
  if (body.forskyv !== undefined) {
    const by = parseDuration(body.forskyv);
    if (by === undefined)
      throw new InvalidValueError('forskyv is not valid', [
        {
          pointer: '/forskyv',
          detail: 'forskyv must be a signed ISO-8601 duration of whole numbers ("P18M", "-P2DT4H")',
        },
      ]);
    return { kind: 'shift', by };
  }
  if (body.reell !== true)
    throw new InvalidValueError('reell is not valid', [{ pointer: '/reell', detail: 'reell must be true' }]);
  return { kind: 'real' };
}

export async function testdataRoutes(
  app: FastifyInstance,
  deps: { service: TestdataService; verifier: TokenVerifier },
): Promise<void> {
  registerSchemas(app, TESTDATA_SCHEMAS);
  const auth = requireToken(deps.verifier, 'maskinporten', [TESTDATA_SCOPE]);
  const security = [{ maskinporten: [] }];
  const tags = ['testdata'];
  const PATH = '/testdata/personer/:personidentifikator';

  app.put<{ Params: Params }>(
    PATH,
    {
      onRequest: auth,
      schema: {
        operationId: 'putTestPerson',
        summary: 'Create or replace a test person',
        description:
          'The body is one person in the import format; any timestamp may be absolute or relative to the register\'s now ("-P17M"). ' +
          '201 when created, 200 when replaced, with the person as a lookup with every data scope shows it.',
        tags,
        security,
        params: Params,
        body: refTo(TestPerson),
        response: {
          200: jsonResponse(PersonSchema, 'Replaced: the person as a lookup with every data scope shows it'),
          201: jsonResponse(PersonSchema, 'Created: the person as a lookup with every data scope shows it'),
          ...errorResponses({
            ...BODY_ERRORS,
            400: 'The body is not a JSON object, or a member is of the wrong type (with source.pointer); or the request is not valid HTTP.',
            ...TOKEN_ERRORS,
            422: `${BAD_IDENTIFIER} Or a refused value (with source.pointer), or a personidentifikator other than the path's.`,
          }),
        },
      },
    },
    async (request, reply) => {
      const { created, answer } = await deps.service.put(
        request.params.personidentifikator,
        request.body,
        request.accessToken!,
      );
      return sendJson(reply, answer, created ? 201 : 200);
    },
  );

  app.get<{ Params: Params }>(
    PATH,
    {
      onRequest: auth,
      schema: {
        operationId: 'getTestPerson',
        summary: 'A test person as stored, in the import format',
        tags,
        security,
        params: Params,
        response: {
          200: jsonResponse(TestPerson, 'The person as stored, in the import format, timestamps absolute'),
          ...errorResponses({
            ...TOKEN_ERRORS,
            404: 'The register holds no entry for this identifier.',
            422: BAD_IDENTIFIER,
          }),
        },
      },
    },
    async (request, reply) => {
      const line = await deps.service.get(request.params.personidentifikator, request.accessToken!);
      if (line === undefined) throw new NotFoundError('the register holds no entry for this identifier');
      return sendJson(reply, line);
    },
  );

  app.delete<{ Params: Params }>(
    PATH,
    {
      onRequest: auth,
      schema: {
        operationId: 'deleteTestPerson',
        summary: 'Remove a test person: the identifier is IKKE_REGISTRERT again',
        description:
          'The change feed shows the identifier once more, at a new change id, with status IKKE_REGISTRERT.',
        tags,
        security,
        params: Params,
        response: {
          204: Type.Null({ description: 'Removed' }),
          ...errorResponses({
            ...TOKEN_ERRORS,
            404: 'The register holds no entry for this identifier.',
            422: BAD_IDENTIFIER,
          }),
        },
      },
    },
    async (request, reply) => {
      const removed = await deps.service.remove(request.params.personidentifikator, request.accessToken!);
      if (!removed) throw new NotFoundError('the register holds no entry for this identifier');
      return reply.code(204).send();
    },
  );

  app.post<{ Body: CreateBody }>(
    '/testdata/personer',
    {
      onRequest: auth,
      schema: {
        operationId: 'createTestPerson',
        summary: 'A new test person from a template, under a new synthetic identifier',
        tags,
        security,
        body: refTo(TestPersonRequest),
        response: {
          201: jsonResponse(
            PersonSchema,
            'The new person as a lookup with every data scope shows it; Location: its path',
          ),
          ...errorResponses({
            ...BODY_ERRORS,
            ...TOKEN_ERRORS,
            409: 'This register refuses synthetic identifiers (allowSyntheticIdentifiers off), or no unused one was found (try again).',
            422: 'mal or spraak is not one of its values (with source.pointer).',
          }),
        },
      },
    },
    async (request, reply) => {
      const { mal, spraak, leverandoer } = request.body;
      const problems: ErrorItem[] = [];
      if (!isTemplateName(mal))
        problems.push({ pointer: '/mal', detail: `mal must be one of ${TEMPLATE_NAMES.join(', ')}` });
      if (spraak !== undefined && !isLanguage(spraak))
        problems.push({ pointer: '/spraak', detail: `spraak must be one of ${LANGUAGES.join(', ')}` });
      if (problems.length > 0 || !isTemplateName(mal))
        throw new InvalidValueError('the request is not valid', problems);
      const { pid, answer } = await deps.service.create(
        { mal, spraak: isLanguage(spraak) ? spraak : undefined, leverandoer },
        request.accessToken!,
      );
      reply.header('location', `/testdata/personer/${pid}`);
      return sendJson(reply, answer, 201);
    },
  );

  // JSON Lines, read as text whatever the content type says (this route's own parser).
  await app.register((scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' as const }, (_request, body, done) =>
      done(null, body),
    );
    scope.post<{ Body: string }>(
      '/testdata/import',
      {
        onRequest: auth,
        bodyLimit: TESTDATA_IMPORT_BODY_LIMIT,
        schema: {
          operationId: 'importTestPersons',
          summary: 'Import JSON Lines, as krr import does: all or nothing',
          description:
            'A bad line is a 400 (not JSON) or 422 (a refused value) whose source.pointer is /<line index from 0>/<field>. ' +
            'Lines that are valid but surprising get notes (merknader): a channel without timestamps, a mailbox at an unregistered provider.',
          tags,
          security,
          consumes: ['application/x-ndjson'],
          body: refTo(TestImportLines),
          response: {
            200: jsonResponse(TestImportResponse, 'Every line was written'),
            ...errorResponses({
              400: 'A line is not JSON or not a JSON object, or a member is of the wrong type (source.pointer /<line>/<field>); or the request is not valid HTTP.',
              ...TOKEN_ERRORS,
              413: 'The body is over the import limit (64 MiB).',
              422: 'A refused value (source.pointer /<line>/<field>); nothing was written.',
            }),
          },
        },
      },
      async (request, reply) => {
        const summary = await deps.service.importLines(
          Buffer.from(request.body, 'utf8'),
          request.accessToken!,
        );
        return sendJson(
          reply,
          JSON.stringify({
            personer: summary.persons,
            linjer: summary.lines,
            antallMerknader: summary.noteCount,
            merknader: summary.notes.map((n) => ({ linje: n.line, peker: n.pointer, detalj: n.detail })),
          }),
        );
      },
    );
    return Promise.resolve();
  });

  app.post<{ Body: ResetBody }>(
    '/testdata/nullstill',
    {
      onRequest: auth,
      schema: {
        operationId: 'resetTestData',
        summary:
          "Reset the register's persons to nothing, krr's demo persons, or Digdir's published test users",
        tags,
        security,
        body: refTo(NullstillRequest),
        response: {
          200: jsonResponse(NullstillResponse, 'The persons were reset'),
          ...errorResponses({
            ...BODY_ERRORS,
            ...TOKEN_ERRORS,
            422: 'datasett is not one of the data sets (with source.pointer).',
          }),
        },
      },
    },
    async (request, reply) => {
      const dataset = request.body.datasett;
      if (!(DATASETS as readonly string[]).includes(dataset))
        throw new InvalidValueError('datasett is not valid', [
          { pointer: '/datasett', detail: `datasett must be one of ${DATASETS.join(', ')}` },
        ]);
      const result = await deps.service.reset(dataset as Dataset, request.accessToken!);
      return sendJson(
        reply,
        JSON.stringify({ datasett: dataset, fjernet: result.removed, personer: result.persons }),
      );
    },
  );

  app.get(
    '/testdata/klokke',
    {
      onRequest: auth,
      schema: {
        operationId: 'getTestClock',
        summary: "The register's clock",
        tags,
        security,
        response: {
          200: jsonResponse(Klokke, "The register's clock"),
          ...errorResponses({ ...TOKEN_ERRORS, 409: "This server's clock cannot be turned." }),
        },
      },
    },
    (_request, reply) => {
      const view = deps.service.clock();
      return sendJson(reply, JSON.stringify({ naa: formatOslo(view.now), fryst: view.frozen }));
    },
  );

  app.put<{ Body: ClockBody }>(
    '/testdata/klokke',
    {
      onRequest: auth,
      schema: {
        operationId: 'putTestClock',
        summary: "Turn the register's clock: freeze it, move it, or give it the system clock again",
        description:
          'Exactly one of {"naa": ISO} (frozen there), {"forskyv": "P18M"} (moved, frozen or running) and {"reell": true}. ' +
          'Every krr process on the same store follows at once; tokens keep real time.',
        tags,
        security,
        body: refTo(KlokkeRequest),
        response: {
          200: jsonResponse(Klokke, 'The clock after the change'),
          ...errorResponses({
            ...BODY_ERRORS,
            400: 'The body is not a JSON object of the shape, or has none of naa, forskyv and reell; or the request is not valid HTTP.',
            ...TOKEN_ERRORS,
            409: "This server's clock cannot be turned.",
            422: 'More than one of naa, forskyv and reell, a value that is not valid, or a clock outside the years 1900 to 2199 (with source.pointer).',
          }),
        },
      },
    },
    async (request, reply) => {
      const view = await deps.service.changeClock(parseClockChange(request.body), request.accessToken!);
      return sendJson(reply, JSON.stringify({ naa: formatOslo(view.now), fryst: view.frozen }));
    },
  );
}

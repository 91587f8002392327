// Every endpoint that takes a body, as one table entry each, for the bad-input suite
// (bad-input.test.ts). A branch that adds an endpoint (PATCH /rest/v1/person, POST /token) adds one
// entry here; the properties and nasty cases then run against it too.

import { makeIdentifier } from '../../src/identifier/identifier.generate.js';
import type { Person } from '../../src/person/person.js';

/** The organisation the mailbox endpoints' tokens act for (Digipost); registered by the suite. */
export const PROVIDER_ORGNO = '984661185';

export const REGISTERED = makeIdentifier({ day: 12, month: 3, year: 84 });
export const UNREGISTERED = makeIdentifier({ day: 13, month: 4, year: 85 });

/** What the suite writes before it starts: one AKTIV person. */
export const SEED_PERSONS: readonly Person[] = [
  { personidentifikator: REGISTERED, status: 'AKTIV', reservasjon: 'NEI' },
];

export interface BodyEndpoint {
  readonly method: 'POST' | 'PATCH';
  readonly path: string;
  /** The token's scopes: enough for the endpoint, so that only the body decides the answer. */
  readonly scopes: readonly string[];
  /** The token's consumer organisation (default: a plain consumer). */
  readonly consumer?: string;
  /** The logged-in person, for the person's endpoints: the token is then an ID-porten one. */
  readonly pid?: string;
  /** A body the endpoint accepts (answered 200). */
  readonly valid: () => Record<string, unknown>;
  /**
   * Which error body the endpoint answers: the register's (docs/errors.md#error-body), or OAuth's
   * (`{"error","error_description"}`, for the token endpoints).
   */
  readonly errorShape: 'contract' | 'oauth';
  /** Statuses besides 4xx that a body may be answered with (200 where the input is valid). */
  readonly okStatuses: readonly number[];
  /** The content type the endpoint reads (default application/json). */
  readonly contentType?: string;
  /** How a body is put on the wire (default JSON; a form endpoint such as /token gives URLSearchParams). */
  readonly encode?: (body: Record<string, unknown>) => string;
}

const LOOKUP_SCOPES = ['krr:global/kontaktinformasjon.read', 'krr:global/digitalpost.read'];
const MAILBOX_SCOPES = ['krr:global/postkasse.write'];
const provider = `0192:${PROVIDER_ORGNO}`;

export const BODY_ENDPOINTS: readonly BodyEndpoint[] = [
  {
    method: 'POST',
    path: '/rest/v1/personer',
    scopes: LOOKUP_SCOPES,
    valid: () => ({ personidentifikatorer: [REGISTERED, UNREGISTERED] }),
    errorShape: 'contract',
    okStatuses: [200],
  },
  {
    method: 'POST',
    path: '/rest/v2/personer',
    scopes: LOOKUP_SCOPES,
    valid: () => ({
      personidentifikatorer: [REGISTERED, UNREGISTERED],
      inkluderIkkeRegistrerte: true,
      informasjonsbehov: ['Person', 'Kontaktinfo'],
    }),
    errorShape: 'contract',
    okStatuses: [200],
  },
  {
    method: 'POST',
    path: '/rest/v2/krr/hentEndringer',
    scopes: ['krr:global/hentendring.read', ...LOOKUP_SCOPES],
    valid: () => ({ fraEndringsId: 0 }),
    errorShape: 'contract',
    okStatuses: [200],
  },
  // The mailbox operations answer invalid values with 200 and a FEILET/NEI code (Digdir's shape).
  {
    method: 'POST',
    path: '/rest/v1/postkasse/kanVelge',
    scopes: MAILBOX_SCOPES,
    consumer: provider,
    valid: () => ({ personidentifikator: REGISTERED }),
    errorShape: 'contract',
    okStatuses: [200],
  },
  {
    method: 'POST',
    path: '/rest/v1/postkasse/opprettOgVelg',
    scopes: MAILBOX_SCOPES,
    consumer: provider,
    valid: () => ({
      personidentifikator: UNREGISTERED,
      virksomhetsidentifikator: PROVIDER_ORGNO,
      postkasseadresse: 'ola.nordmann#9YDT',
    }),
    errorShape: 'contract',
    okStatuses: [200],
  },
  {
    method: 'POST',
    path: '/rest/v1/postkasse/oppdater',
    scopes: MAILBOX_SCOPES,
    consumer: provider,
    valid: () => ({
      personidentifikator: REGISTERED,
      virksomhetsidentifikator: PROVIDER_ORGNO,
      postkasseadresse: 'ola.nordmann#9YDT',
    }),
    errorShape: 'contract',
    okStatuses: [200],
  },
  {
    method: 'POST',
    path: '/rest/v1/postkasse/slett',
    scopes: MAILBOX_SCOPES,
    consumer: provider,
    valid: () => ({ personidentifikator: UNREGISTERED, virksomhetsidentifikator: PROVIDER_ORGNO }),
    errorShape: 'contract',
    okStatuses: [200],
  },
];

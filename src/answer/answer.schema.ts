// The answer's shape as JSON Schema, for the OpenAPI document (docs/operations.md#openapi): one
// person as lookups, the logged-in person and the change feed answer it. The bytes themselves are
// rendered in answer.render.ts; these schemas describe them and never serialise anything
// (http/openapi.ts). Each schema's `$id` is its name in the document.

import { Type } from '@sinclair/typebox';
import type { Static, TSchema } from '@sinclair/typebox';
import { LANGUAGES, PERSON_STATUSES } from '../person/person.js';

/** A string of one of `values`: an `enum` in the document (a union type for generators). */
export function stringEnum<const T extends readonly string[]>(values: T, description?: string) {
  return Type.Unsafe<T[number]>({
    type: 'string',
    enum: [...values],
    ...(description ? { description } : {}),
  });
}

/** A reference to one of the named schemas below (each has an `$id`). */
function ref<T extends TSchema>(schema: T) {
  return Type.Unsafe<Static<T>>(Type.Ref(schema.$id!));
}

const Timestamp = Type.String({
  description: 'Europe/Oslo local time, whole seconds, hours-only offset (docs/lookup.md#timestamps)',
  examples: ['2017-11-07T09:48:38+01'],
});
const JaNei = (description: string) => stringEnum(['JA', 'NEI'] as const, description);

const CONTACT_EMAIL = {
  epostadresse: Type.Optional(Type.String()),
  epostadresse_oppdatert: Type.Optional(Timestamp),
  epostadresse_sist_verifisert: Type.Optional(Timestamp),
};
const CONTACT_MOBILE = {
  mobiltelefonnummer: Type.Optional(Type.String()),
  mobiltelefonnummer_oppdatert: Type.Optional(Timestamp),
  mobiltelefonnummer_sist_verifisert: Type.Optional(Timestamp),
};

export const KontaktinformasjonSchema = Type.Object(
  { ...CONTACT_EMAIL, ...CONTACT_MOBILE },
  {
    $id: 'Kontaktinformasjon',
    description: 'E-mail and mobile, each with when it was last changed and last confirmed.',
  },
);

/** The feed's contact data: the lookups' plus the duplicate flags (docs/change-feed.md#duplicate-flags). */
export const EndringKontaktinformasjonSchema = Type.Object(
  {
    ...CONTACT_EMAIL,
    epostadresse_duplisert: Type.Optional(
      JaNei('JA when another AKTIV person has the same e-mail address; present when the person has one'),
    ),
    ...CONTACT_MOBILE,
    mobiltelefonnummer_duplisert: Type.Optional(
      JaNei('JA when another AKTIV person has the same mobile number; present when the person has one'),
    ),
  },
  {
    $id: 'EndringKontaktinformasjon',
    description: 'Kontaktinformasjon as the change feed answers it, with the duplicate flags.',
  },
);

export const DigitalPostSchema = Type.Object(
  {
    postkasseadresse: Type.String({ examples: ['ola.nordmann#9YDT'] }),
    postkasseleverandoeradresse: Type.String({
      pattern: '^[0-9]{9}$',
      description: "the mailbox provider's organisation number",
    }),
  },
  { $id: 'DigitalPost', description: "The person's digital mailbox." },
);

const RESERVED_AND_STATUS = {
  personidentifikator: Type.String({ pattern: '^[0-9]{11}$' }),
  reservasjon: Type.Optional(JaNei('reservation against digital communication; absent when SLETTET')),
  reservasjonstidspunkt: Type.Optional(Timestamp),
  reservasjon_oppdatert: Type.Optional(Timestamp),
};
const VARSLINGSSTATUS = Type.Optional(
  stringEnum(['KAN_VARSLES', 'KAN_IKKE_VARSLES'] as const, 'the 18-month rule (docs/freshness.md)'),
);
const REST = {
  digital_post: Type.Optional(ref(DigitalPostSchema)),
  sertifikat: Type.Optional(Type.String({ description: 'base64 of a DER X.509 certificate' })),
  spraak: Type.Optional(stringEnum(LANGUAGES)),
  spraak_oppdatert: Type.Optional(Timestamp),
};

export const PersonSchema = Type.Object(
  {
    ...RESERVED_AND_STATUS,
    status: stringEnum([...PERSON_STATUSES, 'IKKE_REGISTRERT'] as const),
    varslingsstatus: VARSLINGSSTATUS,
    kontaktinformasjon: Type.Optional(ref(KontaktinformasjonSchema)),
    ...REST,
  },
  {
    $id: 'Person',
    description:
      "One person, in the field order of docs/lookup.md#field-order; the token's scopes decide which members are present, and a member without a value is left out.",
  },
);

/** A person in the change feed: only AKTIV and SLETTET, with the duplicate flags. */
export const EndringPersonSchema = Type.Object(
  {
    ...RESERVED_AND_STATUS,
    status: stringEnum(PERSON_STATUSES),
    varslingsstatus: VARSLINGSSTATUS,
    kontaktinformasjon: Type.Optional(ref(EndringKontaktinformasjonSchema)),
    ...REST,
  },
  {
    $id: 'EndringPerson',
    description:
      'A person as the change feed answers it: a Person, AKTIV or SLETTET, with the duplicate flags.',
  },
);

/** The person schemas, for the routes that answer persons to register (http/openapi.ts). */
export const PERSON_SCHEMAS = [KontaktinformasjonSchema, DigitalPostSchema, PersonSchema] as const;
export const FEED_PERSON_SCHEMAS = [
  EndringKontaktinformasjonSchema,
  DigitalPostSchema,
  EndringPersonSchema,
] as const;

// Digdir's token issuers by name, so that an operator writes `"maskinporten"` instead of copying
// URLs. Issuer identifiers and metadata URLs as Digdir publishes them (docs.digdir.no, "well-known"
// pages of Maskinporten and ID-porten): Maskinporten's issuer carries a trailing slash,
// ID-porten's does not, and each metadata document names exactly that issuer (RFC 8414 § 3.3).

import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { IssuerKind } from '../access/access-token.js';
import { ConfigError } from '../errors/errors.js';

/**
 * The kind of an issuer spelled out without one (docs/tokens.md#issuer-kinds): Maskinporten, the
 * kind every spelled-out issuer had before kinds existed. Its tokens are then never taken by
 * `/rest/v1/person`, and a token with `pid` from it is refused by the Maskinporten endpoints.
 */
export const DEFAULT_ISSUER_KIND: IssuerKind = 'maskinporten';

export const TrustedIssuerSchema = Type.Object(
  {
    /** The `iss` claim exactly as the issuer writes it (Digdir's carries a trailing slash). */
    issuer: Type.String({ minLength: 1 }),
    /** Where the issuer's keys are. Without it, they are found through the issuer's metadata. */
    jwksUri: Type.Optional(Type.String({ minLength: 1 })),
    /** The issuer's metadata document; default: `<issuer>/.well-known/oauth-authorization-server`. */
    metadataUrl: Type.Optional(Type.String({ minLength: 1 })),
    /** When set, tokens from this issuer must carry this `aud`. */
    audience: Type.Optional(Type.String({ minLength: 1 })),
    /** Which endpoints take its tokens (docs/tokens.md#issuer-kinds); default DEFAULT_ISSUER_KIND. */
    kind: Type.Optional(Type.Union([Type.Literal('maskinporten'), Type.Literal('idporten')])),
  },
  { additionalProperties: false },
);
export type TrustedIssuer = Static<typeof TrustedIssuerSchema>;

export const ISSUER_PRESETS = {
  maskinporten: {
    issuer: 'https://maskinporten.no/',
    metadataUrl: 'https://maskinporten.no/.well-known/oauth-authorization-server',
    kind: 'maskinporten',
  },
  'maskinporten-test': {
    issuer: 'https://test.maskinporten.no/',
    metadataUrl: 'https://test.maskinporten.no/.well-known/oauth-authorization-server',
    kind: 'maskinporten',
  },
  idporten: {
    issuer: 'https://idporten.no',
    metadataUrl: 'https://idporten.no/.well-known/openid-configuration',
    kind: 'idporten',
  },
  'idporten-test': {
    issuer: 'https://test.idporten.no',
    metadataUrl: 'https://test.idporten.no/.well-known/openid-configuration',
    kind: 'idporten',
  },
} as const satisfies Record<string, TrustedIssuer>;

export type IssuerPresetName = keyof typeof ISSUER_PRESETS;

/** What a `trustedIssuers` entry may be: a preset's name, a preset with an audience, or an issuer spelled out. */
export type TrustedIssuerEntry =
  string | { readonly preset: string; readonly audience?: string } | TrustedIssuer;

function preset(name: string): TrustedIssuer {
  const found = (ISSUER_PRESETS as Record<string, TrustedIssuer>)[name];
  if (!found) {
    throw new ConfigError(
      `unknown trusted issuer preset "${name}"; the presets are ${Object.keys(ISSUER_PRESETS).join(', ')}`,
    );
  }
  return { ...found };
}

/** A trusted issuer with its kind always set. */
export type ResolvedTrustedIssuer = TrustedIssuer & { readonly kind: IssuerKind };

export function resolveTrustedIssuer(entry: TrustedIssuerEntry): ResolvedTrustedIssuer {
  if (typeof entry === 'string') return withKind(preset(entry));
  if ('preset' in entry) {
    return withKind({ ...preset(entry.preset), ...(entry.audience ? { audience: entry.audience } : {}) });
  }
  return withKind(entry);
}

function withKind(issuer: TrustedIssuer): ResolvedTrustedIssuer {
  return { ...issuer, kind: issuer.kind ?? DEFAULT_ISSUER_KIND };
}

// What the service knows of a caller once its access token is verified (docs/tokens.md#resource-server).

/**
 * What an issuer is to krr (docs/tokens.md#issuer-kinds): Maskinporten's tokens are a system's (the
 * lookups, the feed, the mailbox operations), ID-porten's a logged-in person's (`/rest/v1/person`).
 */
export const ISSUER_KINDS = ['maskinporten', 'idporten'] as const;
export type IssuerKind = (typeof ISSUER_KINDS)[number];

export interface AccessToken {
  readonly issuer: string;
  /** The kind of the trusted issuer that signed the token. */
  readonly issuerKind: IssuerKind;
  readonly clientId: string | null;
  readonly scopes: readonly string[];
  /** Organisation number of the consumer (from `consumer.ID`, "0192:<orgno>"). */
  readonly consumer: string | null;
  readonly supplier: string | null;
  /** The logged-in person (ID-porten tokens only). */
  readonly pid: string | null;
}

/** "0192:991825827" → "991825827"; anything else as given. */
export function organisationFromClaim(claim: unknown): string | null {
  if (!claim || typeof claim !== 'object') return null;
  const id = (claim as { ID?: unknown }).ID;
  if (typeof id !== 'string') return null;
  const colon = id.indexOf(':');
  return colon >= 0 ? id.slice(colon + 1) : id;
}

export function scopesFromClaim(claim: unknown): string[] {
  if (typeof claim === 'string') return claim.split(' ').filter((s) => s.length > 0);
  if (Array.isArray(claim)) return claim.filter((s): s is string => typeof s === 'string');
  return [];
}

// Where the ID-porten-like dev issuer lives: `<publicUrl>/idporten`, on the same server.

import type { KrrConfig } from '../config/config.js';

/** The ID-porten-like issuer's identifier (its `iss`) at `publicUrl`: no trailing slash, as ID-porten's own. */
export function idportenIssuerAt(publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/idporten`;
}

/** The ID-porten-like issuer of a server with `config`. */
export function idportenIssuerOf(config: KrrConfig): string {
  return idportenIssuerAt(config.publicUrl);
}

// Where the ID-porten-like dev issuer lives: `<publicUrl>/idporten`, on the same server.

import type { KrrConfig } from '../config/config.js';

/**
 * The server's base URL as clients reach it: `http://127.0.0.1:8080` by default, from host and port.
 * (A `publicUrl` setting may replace this derivation; keep it the one place that computes it.)
 */
export function publicUrlOf(config: KrrConfig): string {
  const { host, port } = config.http;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

/** The ID-porten-like issuer's identifier (its `iss`), no trailing slash, as ID-porten's own. */
export function idportenIssuerOf(config: KrrConfig): string {
  return `${publicUrlOf(config).replace(/\/+$/, '')}/idporten`;
}

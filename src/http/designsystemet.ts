// Digdir's Designsystemet stylesheets, served by krr itself from the npm packages (its tokens from
// @digdir/designsystemet-theme, the `ds-*` classes from @digdir/designsystemet-css), for the pages
// of Min profil and of the dev ID-porten (docs/minprofil.md#pages, docs/tokens.md#sign-in-pages):
// nothing is loaded from another host, and nothing else of the packages' folders is served.

import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** The two stylesheets, in cascade order: the theme's tokens, then the components. */
export const DESIGNSYSTEMET_FILES = ['designsystemet.css', 'index.css'] as const;

/** Where a package's main file is: its stylesheet's folder. */
function packageFolder(specifier: string): string {
  return dirname(createRequire(import.meta.url).resolve(specifier));
}

/**
 * Serves DESIGNSYSTEMET_FILES under `prefix` (relative to `scope`'s own prefix, ending in `/`),
 * cached for an hour; any other path under it is not found.
 */
export async function serveDesignsystemet(scope: FastifyInstance, prefix: string): Promise<void> {
  await scope.register(async (assets) => {
    assets.addHook('onSend', async (_request, reply) => {
      if (reply.statusCode === 200) reply.header('cache-control', 'public, max-age=3600');
    });
    await assets.register(fastifyStatic, {
      root: [packageFolder('@digdir/designsystemet-theme'), packageFolder('@digdir/designsystemet-css')],
      prefix,
      allowedPath: (path) => (DESIGNSYSTEMET_FILES as readonly string[]).includes(path.slice(1)),
      index: false,
      list: false,
      dotfiles: 'deny',
      decorateReply: false,
      cacheControl: false,
      schemaHide: true,
    });
  });
}

import type {} from '@fastify/swagger';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '../errors/errors.js';
import { sendJson } from '../http/send-json.js';
import type { ProviderRepository } from './provider.repository.js';

/** The print provider's encryption certificate. No token: Digdir's own client calls it without one. */
export function printRoutes(app: FastifyInstance, deps: { providers: ProviderRepository }) {
  for (const version of ['v1', 'v2']) {
    app.get(
      `/rest/${version}/printSertifikat`,
      {
        schema: {
          summary: "The print provider's encryption certificate",
          tags: ['print'],
          response: {
            200: Type.Object({ postkasseleverandoerAdresse: Type.String(), x509Sertifikat: Type.String() }),
          },
        },
      },
      async (_request, reply) => {
        const print = await deps.providers.printCertificate();
        if (!print) throw new NotFoundError('no print certificate is set in this register');
        return sendJson(
          reply,
          JSON.stringify({ postkasseleverandoerAdresse: print.orgno, x509Sertifikat: print.certificate }),
        );
      },
    );
  }
}

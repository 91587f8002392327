import type {} from '@fastify/swagger';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '../errors/errors.js';
import { sendJson } from '../http/send-json.js';
import { errorResponses, jsonResponse, registerSchemas } from '../http/openapi.js';
import type { ProviderRepository } from './provider.repository.js';

export const PrintSertifikatSchema = Type.Object(
  {
    postkasseleverandoerAdresse: Type.String({
      pattern: '^[0-9]{9}$',
      description: "the print provider's organisation number",
    }),
    x509Sertifikat: Type.String({ description: 'base64 of a DER X.509 certificate' }),
  },
  { $id: 'PrintSertifikat', description: "The print provider's encryption certificate." },
);

/** The print provider's encryption certificate. No token: Digdir's own client calls it without one. */
export function printRoutes(app: FastifyInstance, deps: { providers: ProviderRepository }) {
  registerSchemas(app, [PrintSertifikatSchema]);
  for (const version of ['v1', 'v2'] as const) {
    app.get(
      `/rest/${version}/printSertifikat`,
      {
        schema: {
          summary: "The print provider's encryption certificate",
          tags: ['print'],
          operationId: `hentPrintSertifikat${version === 'v1' ? 'V1' : 'V2'}`,
          response: {
            200: jsonResponse(PrintSertifikatSchema, "The print provider's certificate"),
            ...errorResponses({ 404: 'No print certificate is set in this register.' }),
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

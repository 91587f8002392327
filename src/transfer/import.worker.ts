// A worker thread of `krr import`: checks and renders blocks of lines (import.block.ts) while the
// main thread feeds the store. The certificate check is the register's own (isDerCertificate).

import { parentPort, workerData } from 'node:worker_threads';
import { isDerCertificate } from '../certificate/certificate.js';
import type { PersonRules } from '../person/person.js';
import { parseBlock } from './import.block.js';
import type { ImportWorkerData, ImportWorkerRequest, ImportWorkerResponse } from './import.workers.js';

const data = workerData as ImportWorkerData;
const rules: PersonRules = { allowSynthetic: data.allowSynthetic, isCertificate: isDerCertificate };
const providerCertificates = new Map(data.providerCertificates);

parentPort!.on('message', (request: ImportWorkerRequest) => {
  const { block } = request;
  const text =
    typeof block === 'string'
      ? block
      : Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('utf8');
  const result = parseBlock(text, rules, providerCertificates);
  const response: ImportWorkerResponse = { id: request.id, result };
  // The tuples' memory (their own, see CopyTuples.finish) moves to the main thread uncopied.
  parentPort!.postMessage(response, [result.tuples.buffer as ArrayBuffer, result.pids.buffer as ArrayBuffer]);
});

// A worker thread of `krr import`: checks and renders blocks of lines (import.block.ts) while the
// main thread feeds the store. The certificate check is the register's own (isEncryptionCertificate).

import { parentPort, workerData } from 'node:worker_threads';
import { isEncryptionCertificate } from '../certificate/certificate-check.js';
import type { PersonRules } from '../person/person.js';
import { parseBlockOf } from './import.block.js';
import type { ImportWorkerData, ImportWorkerRequest, ImportWorkerResponse } from './import.workers.js';

const data = workerData as ImportWorkerData;
const rules: PersonRules = { allowSynthetic: data.allowSynthetic, isCertificate: isEncryptionCertificate };
const providerCertificates = new Map(data.providerCertificates);

parentPort!.on('message', (request: ImportWorkerRequest) => {
  const result = parseBlockOf(request.block, rules, providerCertificates);
  const response: ImportWorkerResponse = { id: request.id, result };
  // The tuples' memory (their own, see CopyTuples.finish) moves to the main thread uncopied.
  parentPort!.postMessage(response, [result.tuples.buffer as ArrayBuffer, result.pids.buffer as ArrayBuffer]);
});

// The import's worker threads: blocks go out round-robin, results come back by id, so the caller
// can await them in file order.

import { Worker } from 'node:worker_threads';
import type { BlockResult } from './import.block.js';

export interface ImportWorkerData {
  readonly allowSynthetic: boolean;
  readonly providerCertificates: readonly [string, string][];
}

export interface ImportWorkerRequest {
  readonly id: number;
  /** Whole lines joined by `\n`: text, or its UTF-8 bytes. */
  readonly block: string | Uint8Array;
}

export interface ImportWorkerResponse {
  readonly id: number;
  readonly result: BlockResult;
}

// The compiled worker is a .js file beside this one. Under tsx (tests run the sources) a worker
// thread does not inherit tsx's loader on Node 20, so a small script registers it first.
const FROM_SOURCES = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(`./import.worker${FROM_SOURCES ? '.ts' : '.js'}`, import.meta.url);

function startWorker(data: ImportWorkerData): Worker {
  if (!FROM_SOURCES) return new Worker(WORKER_URL, { workerData: data });
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const script = `import(${tsx}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(script, { eval: true, workerData: data });
}

export class ImportWorkerPool {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, { resolve(r: BlockResult): void; reject(e: Error): void }>();
  private nextId = 0;
  private failure: Error | undefined;

  constructor(count: number, data: ImportWorkerData) {
    this.workers = Array.from({ length: count }, () => {
      const worker = startWorker(data);
      worker.on('message', (response: ImportWorkerResponse) => {
        const waiter = this.waiting.get(response.id);
        this.waiting.delete(response.id);
        waiter?.resolve(response.result);
      });
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`an import worker stopped (exit code ${code})`));
      });
      return worker;
    });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const waiter of this.waiting.values()) waiter.reject(err);
    this.waiting.clear();
  }

  /** A Uint8Array block's memory (its whole ArrayBuffer) moves to the worker: the caller gives it up. */
  parse(block: string | Uint8Array): Promise<BlockResult> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const worker = this.workers[id % this.workers.length]!;
    return new Promise<BlockResult>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const request: ImportWorkerRequest = { id, block };
      worker.postMessage(request, typeof block === 'string' ? [] : [block.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    this.failure ??= new Error('the import workers were closed');
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

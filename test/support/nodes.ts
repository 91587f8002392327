// Several `krr serve` nodes on one PostgreSQL database (docs/operations.md#several-nodes): each on
// a port of its own, all with the same public URL (the load balancer's), so that they have the same
// dev issuer and token endpoint.

import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { exited, killHard, startKrr } from './processes.js';

export interface Node {
  readonly name: string;
  readonly port: number;
  readonly base: string;
  readonly child: ChildProcess;
  output(): string;
}

export interface NodeOptions {
  readonly database: string;
  readonly publicUrl: string;
  readonly extraArgs?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

/** Starts a node on `port` and waits until its own /health/ready answers 200. */
export async function startNode(name: string, port: number, options: NodeOptions): Promise<Node> {
  const child = startKrr(
    [
      'serve',
      '--dev',
      '--database',
      options.database,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--public-url',
      options.publicUrl,
      ...(options.extraArgs ?? []),
    ],
    options.env,
  );
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (out += s));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited early: ${out}`);
    const status = await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(5000) }).then(
      (r) => r.arrayBuffer().then(() => r.status),
      () => 0,
    );
    if (status === 200) break;
    if (Date.now() > deadline) {
      await killHard(child);
      throw new Error(`${name} was not ready within 60 s: ${out}`);
    }
    await sleep(100);
  }
  return { name, port, base, child, output: () => out };
}

/** SIGTERM, and the exit code and signal it ends with. */
export async function stopNode(node: Node): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const end = exited(node.child);
  node.child.kill('SIGTERM');
  return end;
}

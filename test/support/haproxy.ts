// HAProxy (Debian's `haproxy`; .ci/run installs it where missing) in front of krr nodes, as a
// child process with a config of the test's own (docs/operations.md#rolling-restarts).

import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { closed } from './processes.js';

/** HAProxy's binary: on PATH, or where Debian puts it (/usr/sbin is not on every user's PATH). */
function haproxyBinary(): string | undefined {
  for (const candidate of ['haproxy', '/usr/sbin/haproxy'])
    if (spawnSync(candidate, ['-v'], { encoding: 'utf8' }).status === 0) return candidate;
  return undefined;
}

/** Why the HAProxy tests cannot run here, or undefined. In CI HAProxy is required. */
export function haproxyMissingReason(): string | undefined {
  if (haproxyBinary() !== undefined) return undefined;
  const reason = 'haproxy is not installed (apt-get install haproxy; .ci/run installs it)';
  if (process.env.CI === 'true') throw new Error(`${reason}; CI requires it`);
  console.log(`# skipping the HAProxy tests: ${reason}`);
  return reason;
}

export interface Backend {
  readonly name: string;
  readonly port: number;
}

export interface RunningHaproxy {
  readonly url: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * The config the rolling restarts are tested with: the one docs/operations.md#rolling-restarts
 * shows, with a short check interval. Retries only where the request was never sent (a connection
 * refused), so any answer lost by a stopping node would show as a failure. Each answer names the
 * node that gave it (`x-served-by`), for the test to count.
 */
export function haproxyConfig(port: number, backends: readonly Backend[]): string {
  return `global
  maxconn 2000

defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout check 2s
  option http-keep-alive
  retries 3
  option redispatch 1
  retry-on conn-failure

frontend krr_in
  bind 127.0.0.1:${port}
  default_backend krr_nodes

backend krr_nodes
  balance roundrobin
  option httpchk GET /health/ready
  http-check expect status 200
  default-server inter 100ms fall 1 rise 1
  http-response set-header x-served-by %s
${backends.map((b) => `  server ${b.name} 127.0.0.1:${b.port} check`).join('\n')}
`;
}

/** Starts HAProxy in the foreground (`-db`) on `port`, and waits until it accepts connections. */
export async function startHaproxy(
  dir: string,
  port: number,
  backends: readonly Backend[],
): Promise<RunningHaproxy> {
  const file = join(dir, 'haproxy.cfg');
  await writeFile(file, haproxyConfig(port, backends));
  const binary = haproxyBinary();
  if (binary === undefined) throw new Error('haproxy is not installed');
  const child: ChildProcess = spawn(binary, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const done = closed(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (out += s));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`haproxy exited: ${out}`);
    const up = await fetch(`${url}/health/live`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.arrayBuffer().then(() => true),
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`haproxy did not answer within 20 s: ${out}`);
    }
    await sleep(50);
  }
  return {
    url,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await done;
    },
  };
}

// A PostgreSQL primary and a streaming replica of a test's own (docs/operations.md#replicas), made
// from the machine's PostgreSQL binaries: initdb, pg_basebackup -R and pg_ctl, run as the
// `postgres` user (initdb refuses root), on free ports, in a folder under /tmp removed afterwards.
// The machine's own PostgreSQL is never touched.

import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { freePort } from './processes.js';

const run = promisify(execFile);

export interface ReplicaCluster {
  readonly primaryUrl: string;
  readonly replicaUrl: string;
  /** A connection to the replica, for pausing its replay and reading its position. */
  readonly replica: postgres.Sql;
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Stops the replica at once (pg_ctl stop -m immediate). */
  stopReplica(): Promise<void>;
  startReplica(): Promise<void>;
  /** Stops both servers and removes their folders. */
  dispose(): Promise<void>;
}

/** The newest PostgreSQL's bin folder, or undefined. */
function binDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'pg_basebackup')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

/** Undefined when a cluster can be made here; otherwise why not (the test is skipped, saying so). */
export async function replicaClusterUnavailable(): Promise<string | undefined> {
  if (!binDir())
    return 'no PostgreSQL binaries (initdb, pg_basebackup, pg_ctl) under /usr/lib/postgresql/*/bin';
  if (userInfo().uid !== 0) return 'making a cluster needs root (to run initdb as the postgres user)';
  try {
    await run('id', ['-u', 'postgres']);
  } catch {
    return 'there is no postgres user to run the servers as';
  }
  return undefined;
}

async function asPostgres(bin: string, tool: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args], {
    timeout: 60_000,
  });
  return stdout;
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export async function startReplicaCluster(): Promise<ReplicaCluster> {
  const bin = binDir()!;
  // Under /tmp, not os.tmpdir(): the test runner's temporary folder is root's own (0700), and the
  // postgres user must reach the data directories through every folder above them.
  const root = await mkdtemp(join('/tmp', 'krr-replica-'));
  const { uid, gid } = await postgresIds();
  await chown(root, uid, gid);
  await chmod(root, 0o700);
  const primaryDir = join(root, 'primary');
  const replicaDir = join(root, 'replica');
  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  const options = (port: number, dir: string) =>
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off` +
    // The replica cancels a read in the way of replay after 200 ms (default 30 s): a recovery
    // conflict a test can make in a moment.
    (dir === replicaDir ? ' -c max_standby_streaming_delay=200ms' : '');
  const start = (dir: string, port: number) =>
    asPostgres(bin, 'pg_ctl', ['-D', dir, '-o', options(port, dir), '-l', join(dir, 'log'), '-w', 'start']);
  const stop = (dir: string) =>
    asPostgres(bin, 'pg_ctl', ['-D', dir, '-m', 'immediate', 'stop']).catch(() => '');
  let replica: postgres.Sql | undefined;
  try {
    await asPostgres(bin, 'initdb', ['-D', primaryDir, '-A', 'trust', '-U', 'postgres']);
    await start(primaryDir, primaryPort);
    await asPostgres(bin, 'pg_basebackup', [
      '-h',
      '127.0.0.1',
      '-p',
      String(primaryPort),
      '-U',
      'postgres',
      '-D',
      replicaDir,
      '-R',
      '-X',
      'stream',
    ]);
    await start(replicaDir, replicaPort);
  } catch (err) {
    await stop(replicaDir);
    await stop(primaryDir);
    await rm(root, { recursive: true, force: true });
    throw err;
  }
  const primaryUrl = `postgres://postgres@127.0.0.1:${primaryPort}/postgres`;
  const replicaUrl = `postgres://postgres@127.0.0.1:${replicaPort}/postgres`;
  const connect = () => postgres(replicaUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  replica = connect();
  const cluster: ReplicaCluster = {
    primaryUrl,
    replicaUrl,
    get replica() {
      return replica!;
    },
    async pauseReplay() {
      await replica!`select pg_wal_replay_pause()`;
    },
    async resumeReplay() {
      // Replay, once resumed, may at once cancel the very statement that resumed it (a recovery
      // conflict: the WAL held back is past max_standby_streaming_delay): asked again until the
      // replica says it replays.
      for (let attempt = 0; ; attempt++) {
        try {
          await replica!`select pg_wal_replay_resume()`;
          return;
        } catch (err) {
          if ((err as { code?: string }).code !== '40001' || attempt >= 20) throw err;
        }
        try {
          const rows = await replica!.unsafe('select pg_is_wal_replay_paused() as paused');
          if (rows[0]?.paused === false) return;
        } catch {
          // cancelled too: ask again
        }
      }
    },
    async stopReplica() {
      await replica!.end({ timeout: 1 });
      await stop(replicaDir);
    },
    async startReplica() {
      await start(replicaDir, replicaPort);
      replica = connect();
    },
    async dispose() {
      await replica?.end({ timeout: 1 });
      await stop(replicaDir);
      await stop(primaryDir);
      await rm(root, { recursive: true, force: true });
    },
  };
  return cluster;
}

// A TCP proxy between krr and the real PostgreSQL, so a test can take the database away from krr
// (and give it back) without touching the machine's PostgreSQL, which other tests share.

import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;
  /** Accept connections but never forward them (a network that swallows packets). */
  blackhole = false;
  private readonly pairs = new Set<readonly [Socket, Socket]>();

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** Listens (on the same port as before, after a cut). */
  async start(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** The database goes away: new connections are refused and open ones are reset. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    // destroy(), not resetAndDestroy(): the latter left Node 20 spinning in its exit-time handle cleanup.
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * The open connections go silent: they stay open, but nothing more is forwarded either way (a
   * network that stops carrying packets mid-conversation). New connections are forwarded.
   */
  silence(): void {
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
    this.pairs.clear();
  }

  async stop(): Promise<void> {
    await this.cut();
  }

  private accept(client: Socket): void {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => {});
    if (this.blackhole) return;
    const upstream = connect(this.targetPort, this.targetHost);
    this.sockets.add(upstream);
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    const pair = [client, upstream] as const;
    this.pairs.add(pair);
    client.on('close', () => this.pairs.delete(pair));
  }
}

// Whether this server takes new work: not from the moment it is told to stop
// (docs/operations.md#stopping), while it still serves what reaches it. A load balancer learns it
// from `/health/ready`, a client on a kept-alive connection from `Connection: close`.

export class Readiness {
  private stopped = false;

  /** Whether the server is stopping. */
  get stopping(): boolean {
    return this.stopped;
  }

  /** From now on the server is stopping. */
  stop(): void {
    this.stopped = true;
  }
}

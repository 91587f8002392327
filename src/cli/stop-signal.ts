// When `krr serve` stops (docs/operations.md#stopping): on SIGINT or SIGTERM, and, when npm started
// it (`npm start`, `npx krr serve`), as soon as the process that started it is gone.
//
// Why the second: npm runs a script through `sh -c`, and a shell that does not exec its last
// command (dash, /bin/sh on Debian and Ubuntu) stays between npm and node. npm forwards SIGTERM to
// that shell only; the shell dies of it and node, never signalled, would go on holding the port
// and the embedded store's lock. Node then has a new parent, which is what is watched for.

export type StopReason = 'SIGINT' | 'SIGTERM' | 'the npm process that started it is gone';

export interface StopSignal {
  /** Resolves with the first reason to stop. */
  readonly stopped: Promise<StopReason>;
  /** Whether a reason to stop has come. */
  readonly requested: boolean;
  /** Stops listening; a second SIGINT or SIGTERM after the first then ends the process at once. */
  dispose(): void;
}

/** How often the parent is looked at: reading it is a system call, nothing more. */
const PARENT_POLL_MS = 500;

/** Listens for the reasons to stop, from now on. */
export function listenForStop(env: NodeJS.ProcessEnv = process.env): StopSignal {
  let reason: StopReason | undefined;
  let resolveStopped!: (reason: StopReason) => void;
  const stopped = new Promise<StopReason>((resolve) => (resolveStopped = resolve));
  let timer: NodeJS.Timeout | undefined;

  const stop = (why: StopReason) => {
    if (reason !== undefined) return;
    reason = why;
    dispose();
    resolveStopped(why);
  };
  const onSigint = () => stop('SIGINT');
  const onSigterm = () => stop('SIGTERM');
  function dispose() {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    if (timer) clearInterval(timer);
  }

  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  // npm sets npm_lifecycle_event for every script it runs, `npx` included. Without npm, a new parent
  // means nothing: `nohup krr serve &` outlives the shell that started it, as it should.
  if (env.npm_lifecycle_event !== undefined) {
    const parent = process.ppid;
    timer = setInterval(() => {
      if (process.ppid !== parent) stop('the npm process that started it is gone');
    }, PARENT_POLL_MS);
    timer.unref();
  }

  return {
    stopped,
    get requested() {
      return reason !== undefined;
    },
    dispose,
  };
}

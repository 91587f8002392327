// What `krr sync` and `krr folkeregister sync` show and hear while they follow a source: one
// progress line on a terminal (redrawn with `\r`, at most five times a second), a note for each
// retry, and a stop after the current page on the first SIGINT or SIGTERM (the second ends the
// process at once).

import { printable } from './printable.js';

export class FollowTerminal {
  private readonly controller = new AbortController();
  /** Aborted by the first SIGINT or SIGTERM: the run stops after the page it is applying. */
  readonly signal = this.controller.signal;
  private readonly tty: boolean;
  private lineOpen = false;
  private lastDraw = 0;
  private signals = 0;

  constructor(private readonly err: NodeJS.WritableStream) {
    this.tty = Boolean((err as NodeJS.WriteStream).isTTY);
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  private readonly onSignal = () => {
    this.signals++;
    if (this.signals > 1) process.exit(130);
    this.note('stopping after the current page (again to stop at once)');
    this.controller.abort();
  };

  /** Redraws the progress line (on a terminal only); unless `force`, at most every 200 ms. */
  progress(text: () => string, force: boolean): void {
    if (!this.tty) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 200) return;
    this.lastDraw = now;
    this.err.write(`\r\x1b[K${text()}`);
    this.lineOpen = true;
  }

  /** A line of its own, below the progress line. */
  note(text: string): void {
    this.err.write(`${this.lineOpen ? '\n' : ''}${text}\n`);
    this.lineOpen = false;
  }

  retrying(e: Error, delayMs: number): void {
    this.note(`krr: ${printable(e.message)}; retrying in ${Math.round(delayMs / 1000)} s`);
  }

  /** Stops listening for signals and ends the progress line (before the summary or the error). */
  close(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    if (this.lineOpen) this.err.write('\n');
    this.lineOpen = false;
  }
}

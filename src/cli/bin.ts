// The process entry of `krr` (bin/krr.js runs the compiled copy; tests run this file with tsx).
import { main } from './main.js';
import { printable } from './printable.js';

// Until main settles, a process that ends (its event loop drained with main still pending) has failed.
process.exitCode = 1;

// `krr export | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') {
      process.exitCode = 0;
      return;
    }
    process.stderr.write(`krr: ${printable(err instanceof Error ? err.message : String(err))}\n`);
    process.exitCode = 1;
  },
);

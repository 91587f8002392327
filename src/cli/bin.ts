// The process entry of `krr` (bin/krr.js runs the compiled copy; tests run this file with tsx).
import { main } from './main.js';

// Until main settles, a process that ends (its event loop drained with main still pending) has failed.
process.exitCode = 1;

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`krr: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);

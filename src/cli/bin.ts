// The process entry of `krr` (bin/krr.js runs the compiled copy; tests run this file with tsx).
import { main } from './main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`krr: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);

// `npm run soak -- [--seconds 60] [--store embedded|postgres] ...`: see bench/soak/soak.ts.
import { runSoak } from './soak/soak.js';

runSoak(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`soak: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);

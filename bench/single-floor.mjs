// The single-lookup floor: a bare node:http server doing krr's one-person query on the same kind of
// pool. Usage: node single-floor.mjs DATABASE_URL
//
// Each request's body ({"personidentifikatorer":[id]}) is read and parsed, and the person's
// pre-rendered record and certificate are read with the service's own lookup statement
// (LOOKUP_SQL) through the service's own store (openStore: postgres.js with the same settings,
// pool and prepared statements) and sent back as they come: no auth, no validation, no audit, no
// answer assembled. The least a server answering one-person lookups from PostgreSQL must do.
// Runs what `npm run build` made (dist/), as `krr serve` does.
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
/** @type {{ openStore: (config: { kind: 'postgres'; url: string }) => Promise<any> }} */
const { openStore } = await import(join(DIST, 'register', 'open-store.js'));
/** @type {{ LOOKUP_SQL: string }} */
const { LOOKUP_SQL } = await import(join(DIST, 'register', 'person.repository.js'));

const db = await openStore({ kind: 'postgres', url: process.argv[2] ?? '' });
const EMPTY = Buffer.alloc(0);

const server = createServer((req, res) => {
  /** @type {Buffer[]} */
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const ids = JSON.parse(Buffer.concat(chunks).toString('utf8')).personidentifikatorer;
    db.queryRaw(LOOKUP_SQL, [ids]).then(
      /** @param {(Buffer | null)[][]} rows */
      (rows) => {
        const body = Buffer.concat(rows.flatMap((row) => row.map((b) => b ?? EMPTY)));
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
        res.end(body);
      },
      () => {
        res.writeHead(500);
        res.end();
      },
    );
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${/** @type {import('node:net').AddressInfo} */ (server.address()).port}\n`);
});
process.on('SIGTERM', () => server.close(() => void db.close().then(() => process.exit(0))));

// The machine's ceiling: a bare node:http server that reads each request's body and answers it
// with the same pre-rendered bytes (an answer of 1000 persons). No auth, no parsing, no store: the
// most any Node server on this machine can send over loopback. Usage: node machine-ceiling.mjs FILE
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const body = readFileSync(process.argv[2]);
const server = createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

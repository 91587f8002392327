// The machine's ceiling: a bare node:http server answering the benchmark's own lookup requests with
// pre-rendered bytes. Usage: node machine-ceiling.mjs FILE [--static]
//
// FILE holds one person's pre-rendered answer per line (the whole register, as krr renders it).
// Each request's body is read and parsed, and the answer is the bytes of the persons it asked for,
// joined into `{"personer":[...]}`: what any server answering these requests must at least do, with
// no auth, no validation, no sorting, no store and no audit.
//
// --static answers every request with the same bytes (FILE's first 1000 lines) without looking at
// it: the most a Node server here can push over loopback, a reference for the link, not a lookup.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const PID_START = '{"personidentifikator":"'.length;
const OPEN = Buffer.from('{"personer":[');
const CLOSE = Buffer.from(']}');
const COMMA = Buffer.from(',');

const text = readFileSync(process.argv[2] ?? '');
const persons = new Map();
const first = [];
for (let start = 0; start < text.length;) {
  let end = text.indexOf(10, start);
  if (end < 0) end = text.length;
  const line = text.subarray(start, end);
  persons.set(line.toString('latin1', PID_START, PID_START + 11), line);
  if (first.length < 1000) first.push(line);
  start = end + 1;
}

/** @param {readonly string[]} ids */
function answer(ids) {
  const parts = [OPEN];
  for (const id of ids) {
    const p = persons.get(id);
    if (p === undefined) continue;
    if (parts.length > 1) parts.push(COMMA);
    parts.push(p);
  }
  parts.push(CLOSE);
  return Buffer.concat(parts);
}

const fixed = process.argv.includes('--static')
  ? answer(first.map((l) => l.toString('latin1', PID_START, PID_START + 11)))
  : undefined;

const server = createServer((req, res) => {
  /** @type {Buffer[]} */
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = fixed ?? answer(JSON.parse(Buffer.concat(chunks).toString('utf8')).personidentifikatorer);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${/** @type {import('node:net').AddressInfo} */ (server.address()).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

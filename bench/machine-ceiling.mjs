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
// It reads no more of FILE than those lines.
import { closeSync, openSync, readSync } from 'node:fs';
import { createServer } from 'node:http';

const PID_START = '{"personidentifikator":"'.length;
const OPEN = Buffer.from('{"personer":[');
const CLOSE = Buffer.from(']}');
const COMMA = Buffer.from(',');
const CHUNK = 64 << 20;

const fixedOnly = process.argv.includes('--static');
const persons = new Map();
/** @type {Buffer[]} */
const first = [];
// Read in chunks, each line kept as a view of its chunk: a register of millions of persons is
// larger than one Buffer or one readFileSync may be, and its lines are no copies of their own.
{
  const fd = openSync(process.argv[2] ?? '', 'r');
  let carry = Buffer.alloc(0);
  for (;;) {
    const buffer = Buffer.allocUnsafeSlow(carry.length + CHUNK);
    carry.copy(buffer, 0);
    const read = readSync(fd, buffer, carry.length, CHUNK, null);
    const chunk = buffer.subarray(0, carry.length + read);
    let start = 0;
    for (let end = chunk.indexOf(10, start); end >= 0; end = chunk.indexOf(10, start)) {
      const line = chunk.subarray(start, end);
      if (first.length < 1000) first.push(line);
      if (!fixedOnly) persons.set(line.toString('latin1', PID_START, PID_START + 11), line);
      start = end + 1;
    }
    carry = chunk.subarray(start);
    if (read === 0 || (fixedOnly && first.length >= 1000)) break;
  }
  closeSync(fd);
  if (carry.length > 0 && first.length < 1000) first.push(carry);
  if (carry.length > 0 && !fixedOnly) persons.set(carry.toString('latin1', PID_START, PID_START + 11), carry);
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

const fixed = fixedOnly
  ? Buffer.concat([OPEN, ...first.flatMap((l, i) => (i > 0 ? [COMMA, l] : [l])), CLOSE])
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

// Requests that Node's HTTP parser refuses before fastify sees them (headers over Node's 16 KiB,
// e.g. an oversized bearer token; malformed request lines; bad chunk encoding; a Content-Length that
// is not a number or not honoured; a client too slow to send its headers) are answered on the raw
// socket. fastify's default answer has a body of its own; this one has the error body
// (docs/errors.md#error-body). Nothing of the request is echoed or logged: the raw packet Node attaches to
// the error may hold a token.

import type { Socket } from 'node:net';
import { errorBody } from './error-body.js';

const ANSWERS: Readonly<Record<string, readonly [number, string, string]>> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'the request headers are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'the request was not received in time'],
};

/** Sockets already answered: Node's parser reports every further chunk of a bad request again. */
const answered = new WeakSet<Socket>();

export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || answered.has(socket)) return;
  answered.add(socket);
  // Nothing can be written on a connection that cannot take it or is halfway through an answer.
  if (!socket.writable || socket.bytesWritten > 0) {
    socket.destroy();
    return;
  }
  const [status, reason, detail] = ANSWERS[err.code ?? ''] ?? [
    400,
    'Bad Request',
    'the request is not valid HTTP',
  ];
  const body = errorBody(status, [{ detail }]);
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Content-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
  );
  // Closing with request bytes still unread would reset the connection, and a client still sending
  // (a large header) could lose the answer: what it sends is read and dropped for up to a second.
  socket.resume();
  setTimeout(() => socket.destroy(), 1000).unref();
}

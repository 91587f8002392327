// Requests that Node's HTTP parser refuses before fastify sees them (headers over Node's 16 KiB,
// e.g. an oversized bearer token; malformed request lines; a client too slow to send its headers)
// are answered on the raw socket. fastify's default answer has a body of its own; this one has the
// contract's error body (section 9). Nothing of the request is echoed or logged: the raw packet
// Node attaches to the error may hold a token.

import type { Socket } from 'node:net';
import { errorBody } from './error-body.js';

const ANSWERS: Readonly<Record<string, readonly [number, string, string]>> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'the request headers are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'the request was not received in time'],
};

export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, detail] = ANSWERS[err.code ?? ''] ?? [
    400,
    'Bad Request',
    'the request could not be read',
  ];
  if (socket.writable) {
    const body = errorBody(status, [{ detail }]);
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

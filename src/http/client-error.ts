// Requests that never reach fastify's routing (malformed HTTP: bad chunk encoding, a Content-Length
// that is not a number or not honoured, Content-Length with Transfer-Encoding, headers too large)
// are answered by Node's HTTP parser. Fastify's default writes its own JSON body there; contract
// section 9 says every error answer carries the contract's error body, so this writes that instead.

import type { Socket } from 'node:net';
import { errorBody } from './error-body.js';

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  431: 'Request Header Fields Too Large',
};

function statusFor(err: NodeJS.ErrnoException): number {
  if (err.code === 'HPE_HEADER_OVERFLOW') return 431;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  // Nothing can be written on a reset or half-written connection: close it.
  if (err.code === 'ECONNRESET' || !socket.writable || socket.bytesWritten > 0) {
    socket.destroy(err);
    return;
  }
  const status = statusFor(err);
  const detail =
    status === 431
      ? 'the request headers are too large'
      : status === 408
        ? 'the request took too long to arrive'
        : 'the request is not valid HTTP';
  const body = errorBody(status, [{ detail }]);
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status]}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

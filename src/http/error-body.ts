import { randomUUID } from 'node:crypto';
import type { ErrorItem } from '../errors/errors.js';

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Invalid value',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The error body of Digdir's published OpenAPI for KRR (docs/errors.md#error-body). */
export function errorBody(status: number, items: readonly ErrorItem[]): string {
  const title = TITLES[status] ?? 'Error';
  const errors = (items.length > 0 ? items : [{ detail: title }]).map((item) => ({
    id: randomUUID(),
    status: String(status),
    title,
    detail: item.detail,
    ...(item.pointer !== undefined ? { source: { pointer: item.pointer } } : {}),
  }));
  return JSON.stringify({ errors });
}

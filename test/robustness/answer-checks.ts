// What every answer to a body, good or bad, must be (docs/errors.md#statuses, docs/errors.md#no-echo):
// never a 5xx; a status the endpoint allows for valid input, or a 4xx with the error body
// (docs/errors.md#error-body) whose `source.pointer` resolves in the JSON that was sent; and no submitted
// value echoed in an error.

import assert from 'node:assert/strict';
import type { BodyEndpoint } from './endpoints.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface Answer {
  readonly statusCode: number;
  readonly headers: Record<string, unknown>;
  readonly body: string;
}

/** Resolves an RFC 6901 JSON Pointer; `found` is false when a step is missing. */
export function resolvePointer(doc: unknown, pointer: string): { found: boolean; value?: unknown } {
  if (pointer === '') return { found: true, value: doc };
  if (!pointer.startsWith('/')) return { found: false };
  let here: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(here)) {
      if (!/^(0|[1-9][0-9]*)$/.test(key) || Number(key) >= here.length) return { found: false };
      here = here[Number(key)];
    } else if (here !== null && typeof here === 'object' && Object.hasOwn(here, key)) {
      here = (here as Record<string, unknown>)[key];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: here };
}

/** The string values (and keys) in `doc` long enough to be personal data if echoed. */
export function echoableStrings(doc: unknown): Set<string> {
  const out = new Set<string>();
  const consider = (s: string) => {
    if (s.trim().length >= 6) out.add(s);
  };
  // A stack, not recursion: bodies may be nested 10,000 levels deep.
  const stack: unknown[] = [doc];
  while (stack.length > 0) {
    const here = stack.pop();
    if (typeof here === 'string') consider(here);
    else if (Array.isArray(here)) stack.push(...(here as unknown[]));
    else if (here !== null && typeof here === 'object') {
      for (const [k, v] of Object.entries(here)) {
        consider(k);
        stack.push(v);
      }
    }
  }
  return out;
}

/**
 * Asserts the answer to `sent` (the body's text; `json` its parsed value when it is JSON).
 * `knownWords` are the strings the endpoint's own messages may contain (field names), which a
 * generated value can happen to equal.
 */
export function checkAnswer(
  endpoint: BodyEndpoint,
  res: Answer,
  json: { readonly value: unknown } | undefined,
  what: string,
): void {
  const where = `${endpoint.method} ${endpoint.path} with ${what}`;
  assert.ok(res.statusCode < 500, `${where}: ${res.statusCode} ${res.body.slice(0, 500)}`);
  assert.match(String(res.headers['content-type']), /^application\/json/, `${where}: content type`);
  if (endpoint.okStatuses.includes(res.statusCode)) {
    JSON.parse(res.body);
    return;
  }
  assert.ok(res.statusCode >= 400, `${where}: ${res.statusCode}`);
  const body = JSON.parse(res.body) as Record<string, unknown>;
  if (endpoint.errorShape === 'oauth') {
    assert.equal(typeof body.error, 'string', `${where}: OAuth error body ${res.body}`);
  } else {
    assert.equal(res.headers['content-type'], 'application/json', where);
    assert.deepEqual(Object.keys(body), ['errors'], `${where}: ${res.body}`);
    const errors = body.errors as Record<string, unknown>[];
    assert.ok(Array.isArray(errors) && errors.length > 0, where);
    for (const e of errors) {
      assert.match(String(e.id), UUID, where);
      assert.equal(e.status, String(res.statusCode), where);
      assert.equal(typeof e.title, 'string', where);
      if (e.detail !== undefined) assert.equal(typeof e.detail, 'string', where);
      const source = e.source as { pointer?: unknown } | undefined;
      if (source === undefined) continue;
      assert.deepEqual(Object.keys(source), ['pointer'], where);
      const pointer = source.pointer;
      assert.equal(typeof pointer, 'string', where);
      if (!json) continue;
      const at = resolvePointer(json.value, pointer as string);
      if (at.found) continue;
      // A missing member is named by where it should be: its parent must exist.
      const parent = (pointer as string).slice(0, (pointer as string).lastIndexOf('/'));
      assert.ok(
        resolvePointer(json.value, parent).found && /required/.test(String(e.detail)),
        `${where}: pointer ${String(pointer)} does not resolve in the body sent (${res.body})`,
      );
    }
  }
  // An error never repeats what was sent: it may be an identifier, an address or a number.
  if (json) {
    for (const s of echoableStrings(json.value)) {
      if (ALLOWED_ECHO.has(s)) continue;
      const escaped = JSON.stringify(s).slice(1, -1);
      assert.ok(!res.body.includes(escaped), `${where}: the answer echoes a submitted value: ${res.body}`);
    }
  }
}

// Field names and words of the fixed messages: a submitted value equal to one of them is not an echo.
const ALLOWED_ECHO = new Set([
  'personidentifikatorer',
  'personidentifikator',
  'inkluderIkkeRegistrerte',
  'informasjonsbehov',
  'fraEndringsId',
  'virksomhetsidentifikator',
  'postkasseadresse',
  'sertifikat',
  'required',
  'request',
  'invalid',
  'string',
  'integer',
  'number',
  'boolean',
  'object',
  'should',
  'digits',
  'exactly',
  'allowed',
  'values',
  'schema',
  'pattern',
  'Bad Request',
  'Invalid value',
]);

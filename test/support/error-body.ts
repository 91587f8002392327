import assert from 'node:assert/strict';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type ErrorItem = Record<string, unknown> & { source?: { pointer: string } };

/** Asserts the error answer (docs/errors.md#error-body) with `status`; returns its errors. */
export function assertErrorBody(
  res: { statusCode: number; headers: Record<string, unknown>; body: string },
  status: number,
): ErrorItem[] {
  assert.equal(res.statusCode, status, res.body);
  assert.equal(res.headers['content-type'], 'application/json');
  const body = JSON.parse(res.body) as { errors: ErrorItem[] };
  assert.deepEqual(Object.keys(body), ['errors']);
  assert.ok(Array.isArray(body.errors) && body.errors.length > 0);
  for (const e of body.errors) {
    assert.match(String(e.id), UUID);
    assert.equal(e.status, String(status));
    assert.equal(typeof e.title, 'string');
    assert.equal(typeof e.detail, 'string');
  }
  return body.errors;
}

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cleanText, KrrHttpError } from './krr.errors.js';

describe('error messages carry no personal data', () => {
  it('cleans identifiers, tokens, phone numbers and e-mail addresses out of server text', () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwMSJ9.c2lnbmF0dXJlLXBhcnQ';
    const text = `person 27129324169 with ${token}, ola.nordmann@example.no and +47 912 34 567`;
    const cleaned = cleanText(text);
    for (const secret of ['27129324169', token, 'ola.nordmann@example.no', '912 34 567']) {
      assert.ok(!cleaned.includes(secret), `${cleaned} holds ${secret}`);
    }
    assert.match(cleaned, /^person \[number\] with \[token\], \[e-mail\] and \[number\]$/);
  });

  it("an HTTP error's message says the status, the operation and the cleaned details; its body is kept", () => {
    const body = {
      errors: [
        {
          status: '422',
          title: 'Invalid value',
          detail: 'bad 27129324169',
          source: { pointer: '/personidentifikatorer/3' },
        },
      ],
    };
    const err = new KrrHttpError(422, 'POST /rest/v2/personer', body);
    assert.equal(
      err.message,
      'KRR answered HTTP 422 to POST /rest/v2/personer: bad [number] (/personidentifikatorer/3)',
    );
    assert.equal(err.code, 'KRR_HTTP');
    assert.equal(err.name, 'KrrHttpError');
    assert.deepEqual(err.body, body);
    assert.ok(err instanceof Error);
  });
});

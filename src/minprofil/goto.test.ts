// The return address's allow list: origins allow their every path, prefixes their own paths only;
// nothing else passes (docs/minprofil.md#return-address).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowedGotoUrl, gotoOrigins } from './goto.js';

const ALLOWED = ['https://nav.no', 'https://skatt.example/min-side/', 'https://app.example/tjeneste'];

describe('gotoUrl allow list', () => {
  it('allows any path on an allowed origin', () => {
    assert.equal(allowedGotoUrl('https://nav.no/person/123?x=1', ALLOWED), 'https://nav.no/person/123?x=1');
    assert.equal(allowedGotoUrl('https://nav.no', ALLOWED), 'https://nav.no/');
  });
  it('allows a prefix and what follows it, at a path boundary', () => {
    assert.ok(allowedGotoUrl('https://skatt.example/min-side/oversikt', ALLOWED));
    assert.ok(allowedGotoUrl('https://app.example/tjeneste', ALLOWED));
    assert.ok(allowedGotoUrl('https://app.example/tjeneste/steg2', ALLOWED));
    assert.equal(allowedGotoUrl('https://app.example/tjenesteX', ALLOWED), undefined);
    assert.equal(allowedGotoUrl('https://skatt.example/annet', ALLOWED), undefined);
  });
  it('refuses other hosts, schemes, ports, credentials and non-URLs', () => {
    for (const bad of [
      'https://evil.example/',
      'https://nav.no.evil.example/',
      'https://evil.example/?https://nav.no',
      'http://nav.no/',
      'https://nav.no:8443/',
      'https://nav.no@evil.example/',
      'https://user@nav.no/',
      'javascript:alert(1)',
      '//evil.example/',
      '/minprofil',
      '',
      'x'.repeat(3000),
      'https://nav.no/\r\nLocation: https://evil.example/',
      ' https://nav.no/',
      'https://nav.no/\tx',
    ]) {
      assert.equal(allowedGotoUrl(bad, ALLOWED), undefined, bad);
    }
    assert.equal(allowedGotoUrl(['https://nav.no/'], ALLOWED), undefined);
    assert.equal(allowedGotoUrl('https://nav.no/', []), undefined);
  });
  it('names the origins for form-action', () => {
    assert.deepEqual(gotoOrigins(ALLOWED), [
      'https://nav.no',
      'https://skatt.example',
      'https://app.example',
    ]);
  });
});

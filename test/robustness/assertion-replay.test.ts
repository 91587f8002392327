// An assertion without jti is usable once (docs/tokens.md#used-once), however its signature is
// spelled: base64url leaves the low bits of a part's last character unused, so a 2048-bit RSA
// signature (342 characters, 4 bits unused) has 16 spellings that decode to the same bytes and
// verify. Over a real socket, on both stores.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { base64url } from 'jose';
import { parseClientKeys } from '../../src/client/client-key.js';
import { skipReason, STORE_KINDS } from '../support/stores.js';
import { makeCa } from '../support/test-certificates.js';
import { jwkText, newRsaKey, signAssertion, startTokenServiceApp } from '../support/token-service.js';
import type { TokenServiceApp } from '../support/token-service.js';

const SCOPE = 'krr:global/kontaktinformasjon.read';
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Every spelling of a base64url text's last character that decodes to the same bytes: `text` first. */
function respellings(text: string): string[] {
  const unusedBits = (text.length * 6) % 8;
  const used = BASE64URL.indexOf(text.at(-1)!) & ~((1 << unusedBits) - 1);
  const others: string[] = [];
  for (let low = 0; low < 1 << unusedBits; low++) {
    const spelling = text.slice(0, -1) + BASE64URL[used | low]!;
    if (spelling !== text) others.push(spelling);
  }
  return [text, ...others];
}

for (const kind of STORE_KINDS) {
  describe(`an assertion used once (${kind})`, { skip: await skipReason(kind) }, () => {
    const key = newRsaKey();
    let t: TokenServiceApp;

    before(async () => {
      t = await startTokenServiceApp(kind, await makeCa('Unused CA'), async (_store, clients) => {
        await clients.add({
          clientId: 'replay-client',
          orgno: '991825827',
          scopes: SCOPE,
          keys: parseClientKeys(await jwkText(key, 'replay-kid'), 'replay.json'),
        });
      });
    });
    after(async () => {
      await t?.close();
    });

    it("gives one token for an assertion without jti, whichever of the 16 spellings of its signature's last character is sent", async () => {
      const a = await signAssertion({
        iss: 'replay-client',
        key,
        header: { kid: 'replay-kid' },
        scope: SCOPE,
        jti: false,
      });
      const [head, payload, signature] = a.split('.') as [string, string, string];
      const spellings = respellings(signature);
      assert.equal(spellings.length, 16, 'a 2048-bit signature leaves 4 bits of its last character unused');
      const bytes = base64url.decode(signature);
      for (const s of spellings) assert.deepEqual(base64url.decode(s), bytes, 'the same signature');
      const answers = [];
      for (const s of spellings) answers.push(await t.grant(`${head}.${payload}.${s}`));
      assert.equal(answers[0]!.status, 200, JSON.stringify(answers[0]!.body));
      for (const [i, res] of answers.entries()) {
        if (i === 0) continue;
        assert.equal(res.status, 400, `spelling ${i} of the signature got a token`);
        assert.equal(res.body.error, 'invalid_grant');
        assert.match(String(res.body.error_description), /used before/);
      }
    });

    it('gives one token for an assertion with a jti, also when its signature is spelled otherwise', async () => {
      const a = await signAssertion({
        iss: 'replay-client',
        key,
        header: { kid: 'replay-kid' },
        scope: SCOPE,
      });
      const [head, payload, signature] = a.split('.') as [string, string, string];
      const [first, ...others] = respellings(signature);
      assert.equal((await t.grant(`${head}.${payload}.${first}`)).status, 200);
      for (const s of others) assert.equal((await t.grant(`${head}.${payload}.${s}`)).status, 400);
    });
  });
}

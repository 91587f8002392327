#!/usr/bin/env node
// Makes a Maskinporten JWT-bearer grant (an assertion, docs/tokens.md#the-assertion) signed with a client's
// private key, for curl and scripts. Usage:
//   node scripts/make-assertion.mjs KEYFILE CLIENT_ID SCOPES AUD [--kid KID] [--alg RS256|RS384|RS512]
//        [--lifetime SECONDS] [--consumer-org ORGNO] [--resource URI]
// KEYFILE is a private JWK (its kid is used unless --kid is given) or a PEM private key (with --kid).
// AUD is the token service's issuer, e.g. http://127.0.0.1:8080/ (see its
// /.well-known/oauth-authorization-server). The assertion is printed on one line.
import { createPrivateKey, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    kid: { type: 'string' },
    alg: { type: 'string', default: 'RS256' },
    lifetime: { type: 'string', default: '120' },
    'consumer-org': { type: 'string' },
    resource: { type: 'string' },
  },
});
const [keyFile, clientId, scopes, aud] = positionals;
if (!keyFile || !clientId || !scopes || !aud) {
  console.error(
    'usage: node scripts/make-assertion.mjs KEYFILE CLIENT_ID SCOPES AUD [--kid KID] [--alg RS256]',
  );
  process.exit(2);
}
const text = readFileSync(keyFile, 'utf8').trim();
let key;
let kid = values.kid;
if (text.startsWith('{')) {
  const jwk = JSON.parse(text);
  key = createPrivateKey({ key: jwk, format: 'jwk' });
  kid ??= jwk.kid;
} else {
  key = createPrivateKey(text);
}
if (!kid) {
  console.error('the key has no kid: give the id it is registered under with --kid');
  process.exit(2);
}
const iat = Math.floor(Date.now() / 1000);
/** @type {{ scope: string; consumer_org?: string; resource?: string }} */
const claims = { scope: scopes };
if (values['consumer-org']) claims.consumer_org = values['consumer-org'];
if (values.resource) claims.resource = values.resource;
const assertion = await new SignJWT(claims)
  .setProtectedHeader({ alg: values.alg, kid })
  .setAudience(aud)
  .setIssuer(clientId)
  .setIssuedAt(iat)
  .setExpirationTime(iat + Number(values.lifetime))
  .setJti(randomUUID())
  .sign(key);
console.log(assertion);

// The ID-porten-like sign-in of dev mode through HTTP (inject), on both stores: discovery, JWKS,
// the authorization code flow with PKCE through to GET /rest/v1/person, and its refusals.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { JSONWebKeySet } from 'jose';
import type { LightMyRequestResponse } from 'fastify';
import { demoPersons } from '../demo/demo-data.js';
import { makeIdentifier } from '../identifier/identifier.generate.js';
import { skipReason, STORE_KINDS } from '../../test/support/stores.js';
import { startTestApp } from '../../test/support/test-app.js';
import type { TestApp } from '../../test/support/test-app.js';
import { MAX_CODE_BYTES, MAX_PENDING_BYTES, MAX_REQUEST_CHARS } from './idporten.service.js';

const ISSUER = 'http://127.0.0.1:8080/idporten';
const CLIENT = 'my-test-client';
const REDIRECT = 'http://127.0.0.1:9999/callback?keep=1';
const SCOPE = 'openid krr:user/kontaktinformasjon.read krr:user/spraak.write';
const PERSON = makeIdentifier({ day: 3, month: 4, year: 88 });
const FORM = 'application/x-www-form-urlencoded';

/** A client registered with its redirect URIs (docs/tokens.md#id-porten-clients). */
const REGISTERED_CLIENT = 'registered-client';
const REGISTERED_URI = 'https://client.example/callback';
const CLIENTS_ENV = {
  KRR_IDPORTEN_CLIENTS: JSON.stringify([{ clientId: REGISTERED_CLIENT, redirectUris: [REGISTERED_URI] }]),
  // These tests are about the sign-in itself; the confirm step has its own (confirm-prompt.test.ts).
  KRR_IDPORTEN_CONFIRM_PROMPT: 'false',
};

const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');
const newVerifier = () => randomBytes(32).toString('base64url');

interface Started {
  readonly requestId: string;
  readonly page: string;
}

function form(values: Record<string, string>): string {
  return new URLSearchParams(values).toString();
}

function authorizeUrl(params: Record<string, string | undefined>): string {
  const defined = Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined);
  return `/idporten/authorize?${new URLSearchParams(defined).toString()}`;
}

function oauthError(res: LightMyRequestResponse, status: number, error: string): string {
  assert.equal(res.statusCode, status, res.body);
  assert.equal(res.headers['content-type'], 'application/json');
  const body = JSON.parse(res.body) as { error: string; error_description: string };
  assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description']);
  assert.equal(body.error, error);
  return body.error_description;
}

for (const kind of STORE_KINDS) {
  describe(`ID-porten-like sign-in (${kind})`, { skip: await skipReason(kind) }, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(kind, { env: CLIENTS_ENV });
      await t.write([
        {
          personidentifikator: PERSON,
          status: 'AKTIV',
          reservasjon: 'NEI',
          kontaktinformasjon: { epostadresse: 'ola@example.no' },
          spraak: 'nb',
        },
      ]);
    });
    after(async () => t?.close());

    const get = (url: string) => t.app.inject({ method: 'GET', url });
    const postForm = (url: string, body: string, headers: Record<string, string> = {}) =>
      t.app.inject({ method: 'POST', url, headers: { 'content-type': FORM, ...headers }, payload: body });

    async function start(
      challenge: string,
      extra: Record<string, string | undefined> = {},
    ): Promise<Started> {
      const res = await get(
        authorizeUrl({
          response_type: 'code',
          client_id: CLIENT,
          redirect_uri: REDIRECT,
          scope: SCOPE,
          state: 'st-123',
          nonce: 'n-456',
          code_challenge: challenge,
          code_challenge_method: 'S256',
          ...extra,
        }),
      );
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
      const match = /name="request_id" value="([^"]+)"/.exec(res.body);
      assert.ok(match, 'the page carries the request id');
      return { requestId: match[1]!, page: res.body };
    }

    /** Picks `pid` on the page; the code from the redirect. */
    async function pick(requestId: string, pid: string): Promise<URL> {
      const res = await postForm('/idporten/authorize', form({ request_id: requestId, pid }));
      assert.equal(res.statusCode, 303, res.body);
      return new URL(String(res.headers.location));
    }

    async function codeFor(verifier: string, pid = PERSON): Promise<string> {
      const { requestId } = await start(s256(verifier));
      return (await pick(requestId, pid)).searchParams.get('code')!;
    }

    const exchange = (values: Record<string, string>, headers?: Record<string, string>) =>
      postForm('/idporten/token', form({ grant_type: 'authorization_code', ...values }), headers);

    it('publishes its OpenID configuration and a public-only JWKS', async () => {
      const res = await get('/idporten/.well-known/openid-configuration');
      assert.equal(res.statusCode, 200);
      const meta = JSON.parse(res.body) as Record<string, unknown>;
      assert.equal(meta.issuer, ISSUER);
      assert.equal(meta.authorization_endpoint, `${ISSUER}/authorize`);
      assert.equal(meta.token_endpoint, `${ISSUER}/token`);
      assert.equal(meta.jwks_uri, `${ISSUER}/jwks.json`);
      assert.deepEqual(meta.response_types_supported, ['code']);
      assert.deepEqual(meta.grant_types_supported, ['authorization_code']);
      assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
      assert.deepEqual(meta.id_token_signing_alg_values_supported, ['RS256']);
      assert.deepEqual(meta.ui_locales_supported, ['nb', 'nn', 'en']);
      assert.deepEqual(meta.acr_values_supported, ['idporten-loa-substantial', 'idporten-loa-high']);
      for (const scope of [
        'openid',
        'profile',
        'krr:user/kontaktinformasjon.read',
        'krr:user/digitalpost.read',
        'krr:user/spraak.write',
      ]) {
        assert.ok((meta.scopes_supported as string[]).includes(scope), scope);
      }
      const jwks = JSON.parse((await get('/idporten/jwks.json')).body) as JSONWebKeySet;
      assert.equal(jwks.keys.length, 1);
      const key = jwks.keys[0]!;
      assert.equal(key.kty, 'RSA');
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const)
        assert.equal(key[secret], undefined, secret);
    });

    it('signs in a picked demo person through to GET /rest/v1/person', async () => {
      const verifier = newVerifier();
      const { requestId, page } = await start(s256(verifier));
      for (const demo of demoPersons(Date.now())) assert.ok(page.includes(demo.person.personidentifikator));
      const back = await pick(requestId, PERSON);
      assert.equal(`${back.origin}${back.pathname}`, 'http://127.0.0.1:9999/callback');
      assert.equal(back.searchParams.get('keep'), '1');
      assert.equal(back.searchParams.get('state'), 'st-123');
      assert.equal(back.searchParams.get('iss'), ISSUER);
      const code = back.searchParams.get('code')!;
      assert.ok(code.length >= 32);

      const res = await exchange(
        { code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: CLIENT },
        { 'content-type': `${FORM};charset=UTF-8` },
      );
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'no-store');
      const answer = JSON.parse(res.body) as Record<string, unknown>;
      assert.equal(answer.token_type, 'Bearer');
      assert.equal(answer.scope, SCOPE);
      assert.equal(typeof answer.expires_in, 'number');

      const keys = createLocalJWKSet(JSON.parse((await get('/idporten/jwks.json')).body) as JSONWebKeySet);
      const access = await jwtVerify(answer.access_token as string, keys, { issuer: ISSUER });
      assert.equal(access.protectedHeader.alg, 'RS256');
      assert.equal(access.payload.pid, PERSON);
      assert.equal(access.payload.acr, 'idporten-loa-substantial');
      assert.equal(access.payload.scope, SCOPE);
      assert.equal(access.payload.client_id, CLIENT);
      assert.equal(access.payload.token_type, 'Bearer');
      assert.equal(typeof access.payload.jti, 'string');
      assert.equal(typeof access.payload.iat, 'number');
      const id = await jwtVerify(answer.id_token as string, keys, { issuer: ISSUER, audience: CLIENT });
      assert.equal(id.payload.nonce, 'n-456');
      assert.equal(id.payload.pid, PERSON);
      assert.equal(id.payload.acr, 'idporten-loa-substantial');
      assert.equal(id.payload.locale, 'nb', 'no ui_locales: bokmål');
      assert.notEqual(id.payload.sub, PERSON, 'sub is a pseudonym, not the identifier');
      assert.equal(id.payload.sub, access.payload.sub);

      const me = await t.app.inject({
        method: 'GET',
        url: '/rest/v1/person',
        headers: { authorization: `Bearer ${answer.access_token as string}` },
      });
      assert.equal(me.statusCode, 200, me.body);
      const person = JSON.parse(me.body) as Record<string, unknown>;
      assert.equal(person.personidentifikator, PERSON);
      assert.equal(person.status, 'AKTIV');
      assert.deepEqual(person.kontaktinformasjon, { epostadresse: 'ola@example.no' });
      assert.equal(person.spraak, 'nb');
    });

    it('asks for the level the client asks for, and takes a typed identifier', async () => {
      const verifier = newVerifier();
      const other = makeIdentifier({ day: 9, month: 9, year: 99 });
      const { requestId } = await start(s256(verifier), {
        acr_values: 'idporten-loa-high',
        ui_locales: 'en',
      });
      const code = (await pick(requestId, ` ${other} `)).searchParams.get('code')!;
      const res = await exchange({
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
        client_id: CLIENT,
      });
      const payload = JSON.parse(
        Buffer.from(
          (JSON.parse(res.body) as { access_token: string }).access_token.split('.')[1]!,
          'base64url',
        ).toString(),
      ) as Record<string, unknown>;
      assert.equal(payload.pid, other);
      assert.equal(payload.acr, 'idporten-loa-high');
      const id = JSON.parse(
        Buffer.from(
          (JSON.parse(res.body) as { id_token: string }).id_token.split('.')[1]!,
          'base64url',
        ).toString(),
      ) as Record<string, unknown>;
      assert.equal(id.locale, 'en', 'the language of ui_locales');
    });

    it('accepts client_secret_basic (any secret in dev mode) and refuses a different client_id beside it', async () => {
      const verifier = newVerifier();
      const basic = `Basic ${Buffer.from(`${CLIENT}:whatever`).toString('base64')}`;
      const ok = await exchange(
        { code: await codeFor(verifier), redirect_uri: REDIRECT, code_verifier: verifier },
        { authorization: basic },
      );
      assert.equal(ok.statusCode, 200, ok.body);
      const mismatch = await exchange(
        {
          code: await codeFor(verifier),
          redirect_uri: REDIRECT,
          code_verifier: verifier,
          client_id: 'other',
        },
        { authorization: basic },
      );
      oauthError(mismatch, 400, 'invalid_request');
    });

    it('refuses a wrong, missing or malformed code_verifier', async () => {
      const verifier = newVerifier();
      const wrong = await exchange({
        code: await codeFor(verifier),
        redirect_uri: REDIRECT,
        code_verifier: newVerifier(),
        client_id: CLIENT,
      });
      assert.match(oauthError(wrong, 400, 'invalid_grant'), /code_verifier/);
      const code = await codeFor(verifier);
      oauthError(await exchange({ code, redirect_uri: REDIRECT, client_id: CLIENT }), 400, 'invalid_request');
      oauthError(
        await exchange({ code, redirect_uri: REDIRECT, client_id: CLIENT, code_verifier: 'short' }),
        400,
        'invalid_request',
      );
      // The plain method's "verifier": the challenge itself.
      const plain = await exchange({
        code,
        redirect_uri: REDIRECT,
        client_id: CLIENT,
        code_verifier: s256(verifier),
      });
      oauthError(plain, 400, 'invalid_grant');
    });

    it('refuses the plain method and a missing or malformed code_challenge, as OAuth error redirects', async () => {
      const base = {
        response_type: 'code',
        client_id: CLIENT,
        redirect_uri: REDIRECT,
        scope: SCOPE,
        state: 's',
      };
      for (const params of [
        { ...base, code_challenge: newVerifier(), code_challenge_method: 'plain' },
        { ...base, code_challenge: s256(newVerifier()) },
        { ...base, code_challenge_method: 'S256' },
        { ...base, code_challenge: 'abc', code_challenge_method: 'S256' },
      ]) {
        const res = await get(authorizeUrl(params));
        assert.equal(res.statusCode, 303, res.body);
        const back = new URL(String(res.headers.location));
        assert.equal(back.searchParams.get('error'), 'invalid_request');
        assert.equal(back.searchParams.get('state'), 's');
        assert.equal(back.searchParams.get('code'), null);
      }
      const noOpenid = await get(
        authorizeUrl({
          ...base,
          scope: 'krr:user/kontaktinformasjon.read',
          code_challenge: s256(newVerifier()),
          code_challenge_method: 'S256',
        }),
      );
      assert.equal(new URL(String(noOpenid.headers.location)).searchParams.get('error'), 'invalid_scope');
      const token = await get(
        authorizeUrl({
          ...base,
          response_type: 'token',
          code_challenge: s256(newVerifier()),
          code_challenge_method: 'S256',
        }),
      );
      assert.equal(
        new URL(String(token.headers.location)).searchParams.get('error'),
        'unsupported_response_type',
      );
    });

    it('uses a code once: the second exchange is refused, also after a failed first one', async () => {
      const verifier = newVerifier();
      const code = await codeFor(verifier);
      const values = { code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: CLIENT };
      assert.equal((await exchange(values)).statusCode, 200);
      oauthError(await exchange(values), 400, 'invalid_grant');
      const code2 = await codeFor(verifier);
      oauthError(
        await exchange({ ...values, code: code2, code_verifier: newVerifier() }),
        400,
        'invalid_grant',
      );
      oauthError(await exchange({ ...values, code: code2 }), 400, 'invalid_grant');
      oauthError(await exchange({ ...values, code: 'never-issued' }), 400, 'invalid_grant');
    });

    it('refuses a different redirect_uri or client_id at the token endpoint', async () => {
      const verifier = newVerifier();
      for (const change of [
        { redirect_uri: 'http://127.0.0.1:9999/callback' },
        { redirect_uri: 'http://evil.example/callback?keep=1' },
        { client_id: 'another-client' },
      ]) {
        const res = await exchange({
          code: await codeFor(verifier),
          redirect_uri: REDIRECT,
          code_verifier: verifier,
          client_id: CLIENT,
          ...change,
        });
        oauthError(res, 400, 'invalid_grant');
      }
    });

    it('answers OAuth errors for a wrong grant, a non-form body and repeated parameters', async () => {
      oauthError(
        await postForm('/idporten/token', form({ grant_type: 'client_credentials' })),
        400,
        'unsupported_grant_type',
      );
      oauthError(await postForm('/idporten/token', ''), 400, 'invalid_request');
      const json = await t.app.inject({
        method: 'POST',
        url: '/idporten/token',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ grant_type: 'authorization_code' }),
      });
      oauthError(json, 400, 'invalid_request');
      oauthError(
        await postForm('/idporten/token', 'grant_type=authorization_code&code=a&code=b'),
        400,
        'invalid_request',
      );
      oauthError(
        await postForm('/idporten/token', 'x', { authorization: 'Basic !!!' }),
        401,
        'invalid_client',
      );
    });

    it('shows an error page, never a redirect, when the client or redirect_uri is unusable', async () => {
      const challenge = s256(newVerifier());
      for (const params of [
        { client_id: CLIENT, redirect_uri: 'javascript:alert(1)' },
        { client_id: CLIENT, redirect_uri: 'ftp://127.0.0.1/x' },
        { client_id: CLIENT, redirect_uri: '/relative' },
        { client_id: CLIENT, redirect_uri: 'http://127.0.0.1/cb#frag' },
        { client_id: CLIENT },
        { redirect_uri: REDIRECT },
      ]) {
        const res = await get(
          authorizeUrl({
            response_type: 'code',
            scope: SCOPE,
            code_challenge: challenge,
            code_challenge_method: 'S256',
            ...params,
          }),
        );
        assert.equal(res.statusCode, 400, JSON.stringify(params));
        assert.equal(res.headers.location, undefined);
        assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
        assert.match(res.body, /role="alert"/);
        assert.ok(!res.body.includes('javascript:alert'), 'the bad redirect_uri is not echoed');
      }
    });

    it('never redirects to a redirect_uri not registered for the client: an error page (400) instead', async () => {
      const challenge = s256(newVerifier());
      for (const [label, clientId, redirectUri] of [
        ['a phishing site', CLIENT, 'https://evil.example/phish'],
        ["another client's registered URI", CLIENT, REGISTERED_URI],
        ["a registered client's unregistered URI", REGISTERED_CLIENT, 'https://client.example/other'],
        ['a registered URI with another query', REGISTERED_CLIENT, `${REGISTERED_URI}?x=1`],
        ['a host that only starts like loopback', CLIENT, 'http://127.0.0.1.evil.example/cb'],
        ['a user part before a loopback host', CLIENT, 'http://127.0.0.1@evil.example/cb'],
      ] as const) {
        // An error (response_type=token) and a request that would otherwise succeed: neither goes back.
        for (const responseType of ['token', 'code']) {
          const res = await get(
            authorizeUrl({
              response_type: responseType,
              client_id: clientId,
              redirect_uri: redirectUri,
              scope: SCOPE,
              state: 'st',
              code_challenge: challenge,
              code_challenge_method: 'S256',
            }),
          );
          assert.equal(res.statusCode, 400, `${label} (${responseType}): ${res.statusCode}`);
          assert.equal(res.headers.location, undefined, label);
          assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
          assert.match(res.body, /role="alert"/);
          assert.match(res.body, /not registered/);
          assert.ok(!res.body.includes('evil.example'), 'the redirect_uri is not echoed');
        }
      }
    });

    it('sends errors and codes to a redirect_uri registered for the client, and in dev mode to any loopback one', async () => {
      for (const [clientId, redirectUri] of [
        [REGISTERED_CLIENT, REGISTERED_URI],
        ['any-client', 'http://localhost:4000/cb'],
        ['any-client', 'http://[::1]/cb'],
        ['any-client', 'https://127.0.0.1:8443/cb?x=1'],
      ] as const) {
        const params = {
          client_id: clientId,
          redirect_uri: redirectUri,
          scope: SCOPE,
          state: 'st',
          code_challenge: s256(newVerifier()),
          code_challenge_method: 'S256',
        };
        const refused = await get(authorizeUrl({ ...params, response_type: 'token' }));
        assert.equal(refused.statusCode, 303, `${redirectUri}: ${refused.body}`);
        const back = new URL(String(refused.headers.location));
        assert.equal(back.toString().split('?')[0], redirectUri.split('?')[0]);
        assert.equal(back.searchParams.get('error'), 'unsupported_response_type');
        const { requestId } = await start(params.code_challenge, params);
        const code = await pick(requestId, PERSON);
        assert.equal(code.toString().split('?')[0], redirectUri.split('?')[0]);
        assert.ok(code.searchParams.get('code'));
      }
    });

    it('escapes what the request carries on the page', async () => {
      const evil = '"><script>alert(1)</script>';
      const { page } = await start(s256(newVerifier()), { client_id: evil });
      assert.ok(!page.includes('<script>'));
      assert.ok(page.includes('&quot;>&lt;script>'));
    });

    it('sends every page with a Content-Security-Policy that allows no script and no inline style', async () => {
      const signIn = await get(
        authorizeUrl({
          response_type: 'code',
          client_id: CLIENT,
          redirect_uri: REDIRECT,
          scope: SCOPE,
          code_challenge: s256(newVerifier()),
          code_challenge_method: 'S256',
        }),
      );
      const errorPage = await get(authorizeUrl({ client_id: CLIENT }));
      const expired = await postForm('/idporten/authorize', form({ request_id: 'gone', pid: PERSON }));
      for (const [what, res, status] of [
        ['the sign-in page', signIn, 200],
        ['the error page', errorPage, 400],
        ['the expired page', expired, 400],
      ] as const) {
        assert.equal(res.statusCode, status, what);
        const csp = String(res.headers['content-security-policy']);
        assert.equal(
          csp,
          "default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; base-uri 'none'; frame-ancestors 'none'",
          what,
        );
        assert.doesNotMatch(csp, /unsafe-inline|script-src/, what);
        assert.equal(res.headers['x-content-type-options'], 'nosniff', what);
        assert.equal(res.headers['cache-control'], 'no-store', what);
        assert.doesNotMatch(res.body, /<script|<style|\sstyle=/i, what);
        // The stylesheets the page links are served, as CSS, from this server.
        for (const [, href] of res.body.matchAll(/<link rel="stylesheet" href="([^"]+)"/g)) {
          assert.match(href!, /^\/idporten\/assets\/[a-z]+\.css$/);
          const css = await get(href!);
          assert.equal(css.statusCode, 200, href);
          assert.match(String(css.headers['content-type']), /^text\/css/, href);
          assert.equal(css.headers['cache-control'], 'public, max-age=3600', href);
          assert.ok(css.body.length > 100, href);
        }
      }
      // Nothing else of the packages' folders.
      for (const path of [
        '/idporten/assets/package.json',
        '/idporten/assets/../package.json',
        '/idporten/assets/',
      ])
        assert.equal((await get(path)).statusCode, 404, path);
    });

    it('speaks the language of ui_locales, else of Accept-Language, else English on the sign-in page', async () => {
      const challenge = s256(newVerifier());
      const lang = (html: string) => /<html lang="([a-z]+)"/.exec(html)?.[1];
      const nn = await start(challenge, { ui_locales: 'se nn' });
      assert.equal(lang(nn.page), 'nn');
      assert.match(nn.page, /Logg inn med ein testperson/);
      const viaHeader = await t.app.inject({
        method: 'GET',
        url: authorizeUrl({
          response_type: 'code',
          client_id: CLIENT,
          redirect_uri: REDIRECT,
          scope: SCOPE,
          code_challenge: challenge,
          code_challenge_method: 'S256',
        }),
        headers: { 'accept-language': 'de, nb-NO;q=0.9, en;q=0.5' },
      });
      assert.equal(lang(viaHeader.body), 'nb');
      const both = await t.app.inject({
        method: 'GET',
        url: authorizeUrl({
          response_type: 'code',
          client_id: CLIENT,
          redirect_uri: REDIRECT,
          scope: SCOPE,
          code_challenge: challenge,
          code_challenge_method: 'S256',
          ui_locales: 'en',
        }),
        headers: { 'accept-language': 'nb' },
      });
      assert.equal(lang(both.body), 'en', 'ui_locales first');
      assert.equal(lang((await start(challenge)).page), 'en');
      // The request's language holds for the page shown again after a wrong identifier.
      const bad = await postForm(
        '/idporten/authorize',
        form({ request_id: nn.requestId, pid: '12345678901' }),
      );
      assert.equal(bad.statusCode, 422);
      assert.equal(lang(bad.body), 'nn');
      assert.match(
        bad.body,
        /Ikkje eit gyldig fødselsnummer eller D-nummer: kontrollsifferet stemmer ikkje\./,
      );
      // And the error page of a request that cannot start.
      const refused = await get(authorizeUrl({ redirect_uri: REDIRECT, ui_locales: 'nb' }));
      assert.equal(refused.statusCode, 400);
      assert.equal(lang(refused.body), 'nb');
      assert.match(refused.body, /client_id mangler/);
    });

    it('shows the page again with an error for an invalid typed identifier, then accepts a valid one', async () => {
      const verifier = newVerifier();
      const { requestId } = await start(s256(verifier));
      const bad = await postForm('/idporten/authorize', form({ request_id: requestId, pid: '12345678901' }));
      assert.equal(bad.statusCode, 422);
      assert.match(bad.body, /role="alert"/);
      assert.match(bad.body, /aria-invalid="true"/);
      const back = await pick(requestId, PERSON);
      assert.ok(back.searchParams.get('code'));
      // The request is finished: it cannot give a second code.
      const again = await postForm('/idporten/authorize', form({ request_id: requestId, pid: PERSON }));
      assert.equal(again.statusCode, 400);
      assert.equal(again.headers.location, undefined);
    });

    it('redirects access_denied when the person cancels', async () => {
      const { requestId } = await start(s256(newVerifier()));
      const res = await postForm('/idporten/authorize', form({ request_id: requestId, cancel: '1' }));
      assert.equal(res.statusCode, 303);
      const back = new URL(String(res.headers.location));
      assert.equal(back.searchParams.get('error'), 'access_denied');
      assert.equal(back.searchParams.get('state'), 'st-123');
    });

    it('leaves the KRR endpoints reading bodies as JSON whatever the content type says', async () => {
      const token = await t.token(['krr:global/kontaktinformasjon.read']);
      const res = await t.post('/rest/v2/personer', { personidentifikatorer: [PERSON] }, token, {
        'content-type': FORM,
      });
      assert.equal(res.statusCode, 200, res.body);
      const broken = await t.post('/rest/v2/personer', 'personidentifikatorer=1', token, {
        'content-type': FORM,
      });
      assert.equal(broken.statusCode, 400);
      assert.ok((JSON.parse(broken.body) as { errors?: unknown }).errors);
    });
  });
}

// The pending sign-ins are kept in memory, fed by anyone who can reach the server: bounded in bytes
// (docs/tokens.md#dev-id-porten-sign-in). The service does not depend on the store, so one store.
describe('ID-porten-like sign-in under a flood of pending requests', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp('embedded', { env: { KRR_IDPORTEN_CONFIRM_PROMPT: 'false' } });
  });
  after(async () => t?.close());

  it('keeps pending sign-ins within a byte bound: the oldest of a flood of large requests are dropped', async () => {
    const state = 's'.repeat(6000);
    const nonce = 'n'.repeat(1500);
    const ids: string[] = [];
    for (let i = 0; i < 600; i++) {
      const res = await t.app.inject({
        method: 'GET',
        url: authorizeUrl({
          response_type: 'code',
          client_id: CLIENT,
          redirect_uri: REDIRECT,
          scope: SCOPE,
          state: `${i}-${state}`,
          nonce,
          code_challenge: s256(newVerifier()),
          code_challenge_method: 'S256',
        }),
      });
      assert.equal(res.statusCode, 200, res.body);
      ids.push(/name="request_id" value="([^"]+)"/.exec(res.body)![1]!);
    }
    // Whether a request is still pending, without using it up: an invalid identifier shows the
    // page again (422) while it is, the expired page (400) once it is gone.
    const alive: boolean[] = [];
    for (const id of ids) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/idporten/authorize',
        headers: { 'content-type': FORM },
        payload: form({ request_id: id, pid: '1' }),
      });
      assert.ok(res.statusCode === 422 || res.statusCode === 400, String(res.statusCode));
      alive.push(res.statusCode === 422);
    }
    const kept = alive.filter(Boolean).length;
    assert.equal(alive[0], false, 'the oldest request was dropped');
    assert.equal(alive.at(-1), true, 'the newest request is kept');
    assert.equal(alive.indexOf(true) + kept, ids.length, 'the kept ones are the newest, in a row');
    // Each kept request holds at least its state and nonce.
    const atLeast = kept * (state.length + nonce.length);
    assert.ok(atLeast <= MAX_PENDING_BYTES, `${kept} requests kept: at least ${atLeast} bytes`);
  });

  it('refuses an authorization request larger than the bound, as an OAuth error redirect', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: authorizeUrl({
        response_type: 'code',
        client_id: CLIENT,
        redirect_uri: REDIRECT,
        scope: SCOPE,
        state: 's'.repeat(MAX_REQUEST_CHARS),
        code_challenge: s256(newVerifier()),
        code_challenge_method: 'S256',
      }),
    });
    assert.equal(res.statusCode, 303);
    assert.equal(new URL(String(res.headers.location)).searchParams.get('error'), 'invalid_request');
  });

  it('keeps issued codes within a byte bound: the oldest of a flood of completed sign-ins are dropped', async () => {
    const nonce = 'n'.repeat(7000);
    const issued: Array<{ code: string; verifier: string }> = [];
    for (let i = 0; i < 600; i++) {
      const verifier = newVerifier();
      const started = await t.app.inject({
        method: 'GET',
        url: authorizeUrl({
          response_type: 'code',
          client_id: CLIENT,
          redirect_uri: REDIRECT,
          scope: SCOPE,
          nonce,
          code_challenge: s256(verifier),
          code_challenge_method: 'S256',
        }),
      });
      assert.equal(started.statusCode, 200, started.body);
      const requestId = /name="request_id" value="([^"]+)"/.exec(started.body)![1]!;
      const picked = await t.app.inject({
        method: 'POST',
        url: '/idporten/authorize',
        headers: { 'content-type': FORM },
        payload: form({ request_id: requestId, pid: PERSON }),
      });
      assert.equal(picked.statusCode, 303);
      issued.push({ code: new URL(String(picked.headers.location)).searchParams.get('code')!, verifier });
    }
    const exchange = (x: { code: string; verifier: string }) =>
      t.app.inject({
        method: 'POST',
        url: '/idporten/token',
        headers: { 'content-type': FORM },
        payload: form({
          grant_type: 'authorization_code',
          code: x.code,
          redirect_uri: REDIRECT,
          code_verifier: x.verifier,
          client_id: CLIENT,
        }),
      });
    oauthError(await exchange(issued[0]!), 400, 'invalid_grant');
    assert.equal((await exchange(issued.at(-1)!)).statusCode, 200, 'the newest code is kept');
    // Find the oldest code kept (each exchange uses a code up, so search from the newest back).
    let kept = 1;
    while (kept < issued.length && (await exchange(issued.at(-1 - kept)!)).statusCode === 200) kept++;
    assert.ok(kept < issued.length - 1);
    assert.ok(
      kept * nonce.length <= MAX_CODE_BYTES,
      `${kept} codes kept: at least ${kept * nonce.length} bytes`,
    );
  });
});

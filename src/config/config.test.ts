import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../errors/errors.js';
import { DEFAULT_DEV_ISSUER, loadConfig, withListenPort } from './config.js';

describe('loadConfig', () => {
  it('defaults to the embedded store in ./.krr-data on 127.0.0.1:8080, system clock, synthetic identifiers on', () => {
    const c = loadConfig({}, {});
    assert.deepEqual(c.store, { kind: 'embedded', dataDir: resolve('.krr-data') });
    assert.equal(c.http.host, '127.0.0.1');
    assert.equal(c.http.port, 8080);
    assert.equal(c.clock, undefined);
    assert.equal(c.allowSyntheticIdentifiers, true);
    assert.equal(c.auth.devIssuer, DEFAULT_DEV_ISSUER);
    assert.equal(c.logLevel, 'info');
  });

  it('is frozen all the way down', () => {
    const c = loadConfig({}, {});
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.store) && Object.isFrozen(c.auth.trustedIssuers));
    assert.throws(() => {
      (c.http as { port: number }).port = 1;
    }, TypeError);
  });

  it('takes the database from --database or KRR_DATABASE_URL, the command line first', () => {
    const timeouts = { statementTimeoutSeconds: 30, connectTimeoutSeconds: 5 };
    assert.deepEqual(loadConfig({}, { KRR_DATABASE_URL: 'postgres://a@h/db' }).store, {
      kind: 'postgres',
      url: 'postgres://a@h/db',
      ...timeouts,
    });
    assert.deepEqual(
      loadConfig({ database: 'postgresql://b@h/db' }, { KRR_DATABASE_URL: 'postgres://a@h/db' }).store,
      {
        kind: 'postgres',
        url: 'postgresql://b@h/db',
        ...timeouts,
      },
    );
    // --data-dir on the command line wins over a database URL from the environment.
    assert.equal(
      loadConfig({ dataDir: 'x' }, { KRR_DATABASE_URL: 'postgres://a@h/db' }).store.kind,
      'embedded',
    );
  });

  it('freezes the clock from --clock or KRR_CLOCK', () => {
    assert.equal(loadConfig({ clock: '2018-06-01T12:00:00+02:00' }, {}).clock, Date.UTC(2018, 5, 1, 10));
    assert.equal(loadConfig({}, { KRR_CLOCK: '2018-06-01T10:00:00Z' }).clock, Date.UTC(2018, 5, 1, 10));
  });

  it('serves the test-data API in dev mode, elsewhere only when --testdata-api, KRR_TESTDATA_API or testdataApi says so', () => {
    assert.equal(loadConfig({}, {}).testdataApi, false, 'never on in a production configuration by default');
    assert.equal(loadConfig({ dev: true }, {}).testdataApi, true);
    assert.equal(loadConfig({ dev: true }, { KRR_TESTDATA_API: 'false' }).testdataApi, false);
    assert.equal(loadConfig({}, { KRR_TESTDATA_API: 'true' }).testdataApi, true);
    assert.equal(loadConfig({ testdataApi: true }, {}).testdataApi, true);
    const dir = mkdtempSync(join(tmpdir(), 'krr-config-'));
    const file = join(dir, 'krr.json');
    writeFileSync(file, JSON.stringify({ testdataApi: true }));
    assert.equal(loadConfig({ config: file }, {}).testdataApi, true);
    assert.throws(() => loadConfig({}, { KRR_TESTDATA_API: 'maybe' }), /KRR_TESTDATA_API/);
  });

  it('reads the log level from KRR_LOG_LEVEL', () => {
    assert.equal(loadConfig({}, { KRR_LOG_LEVEL: 'DEBUG' }).logLevel, 'debug');
  });

  it('reads trusted issuers from KRR_TRUSTED_ISSUERS and from a config file', () => {
    const issuers = [{ issuer: 'https://maskinporten.no/', audience: 'https://krr.example/' }];
    // Spelled out without a kind: Maskinporten (docs/tokens.md#issuer-kinds).
    const resolved = issuers.map((i) => ({ ...i, kind: 'maskinporten' }));
    assert.deepEqual(
      loadConfig({}, { KRR_TRUSTED_ISSUERS: JSON.stringify(issuers) }).auth.trustedIssuers,
      resolved,
    );
    const dir = mkdtempSync(join(tmpdir(), 'krr-config-'));
    const file = join(dir, 'krr.json');
    writeFileSync(
      file,
      JSON.stringify({ trustedIssuers: issuers, port: 9090, allowSyntheticIdentifiers: false }),
    );
    const c = loadConfig({ config: file }, {});
    assert.deepEqual(c.auth.trustedIssuers, resolved);
    assert.equal(c.http.port, 9090);
    assert.equal(c.allowSyntheticIdentifiers, false);
    assert.equal(loadConfig({ config: file, port: '7070' }, {}).http.port, 7070);
  });

  const bad: Array<[string, Parameters<typeof loadConfig>[0], NodeJS.ProcessEnv, RegExp]> = [
    ['a clock without an offset', { clock: '2018-06-01T12:00:00' }, {}, /--clock/],
    ['a port out of range', { port: '70000' }, {}, /--port/],
    ['a port that is not a number', { port: 'http' }, {}, /--port/],
    [
      'both --database and --data-dir',
      { database: 'postgres://h/db', dataDir: 'x' },
      {},
      /either --database or --data-dir/,
    ],
    ['a database URL of another kind', { database: 'mysql://h/db' }, {}, /postgres:\/\//],
    ['an unknown log level', {}, { KRR_LOG_LEVEL: 'loud' }, /log level/],
    ['trusted issuers that are not JSON', {}, { KRR_TRUSTED_ISSUERS: '[{' }, /KRR_TRUSTED_ISSUERS/],
    [
      'a trusted issuer without issuer',
      {},
      { KRR_TRUSTED_ISSUERS: '[{"jwksUri":"https://x/jwks"}]' },
      /KRR_TRUSTED_ISSUERS/,
    ],
    ['a bad boolean', {}, { KRR_ALLOW_SYNTHETIC_IDENTIFIERS: 'maybe' }, /true or false/],
    ['a missing config file', { config: '/nonexistent/krr.json' }, {}, /cannot read the config file/],
  ];
  for (const [what, cli, env, message] of bad) {
    it(`refuses ${what} with a ConfigError`, () => {
      assert.throws(
        () => loadConfig(cli, env),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
      );
    });
  }

  it('refuses a config file with unknown settings, naming the place', () => {
    const dir = mkdtempSync(join(tmpdir(), 'krr-config-'));
    const file = join(dir, 'krr.json');
    writeFileSync(file, JSON.stringify({ prot: 8080 }));
    assert.throws(
      () => loadConfig({ config: file }, {}),
      (err: unknown) => err instanceof ConfigError && /not valid/.test(err.message),
    );
  });

  it('refuses a config file that is not JSON without quoting a byte of it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'krr-config-'));
    const file = join(dir, 'passwd');
    writeFileSync(file, 'root:x:0:0:root:/root:/bin/bash\nsecret-looking line\n');
    assert.throws(
      () => loadConfig({ config: file }, {}),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message.includes(file) &&
        /not JSON/.test(err.message) &&
        !/root|secret|bash/.test(err.message.replace(file, '')),
    );
  });

  it('refuses an endless config file (/dev/zero) at its size ceiling, without reading it all', () => {
    assert.throws(
      () => loadConfig({ config: '/dev/zero' }, {}),
      (err: unknown) => err instanceof ConfigError && /larger than \d+ bytes/.test(err.message),
    );
  });

  it('sizes the lookup cache from KRR_LOOKUP_CACHE_BYTES or the file; 0 turns it off', () => {
    assert.equal(loadConfig({}, {}).lookup.cacheBytes, 256 * 1024 * 1024);
    assert.equal(loadConfig({}, { KRR_LOOKUP_CACHE_BYTES: '0' }).lookup.cacheBytes, 0);
    assert.equal(loadConfig({}, { KRR_LOOKUP_CACHE_BYTES: '1048576' }).lookup.cacheBytes, 1048576);
    assert.throws(() => loadConfig({}, { KRR_LOOKUP_CACHE_BYTES: 'lots' }), /KRR_LOOKUP_CACHE_BYTES/);
    assert.throws(() => loadConfig({}, { KRR_LOOKUP_CACHE_BYTES: '-1' }), /KRR_LOOKUP_CACHE_BYTES/);
  });

  it('registers ID-porten clients with their redirect URIs from KRR_IDPORTEN_CLIENTS or the file', () => {
    assert.deepEqual(loadConfig({}, {}).idporten.clients, []);
    const clients = [{ clientId: 'app', redirectUris: ['https://app.example/cb', 'http://10.0.0.1/cb?x=1'] }];
    assert.deepEqual(
      loadConfig({}, { KRR_IDPORTEN_CLIENTS: JSON.stringify(clients) }).idporten.clients,
      clients,
    );
    const dir = mkdtempSync(join(tmpdir(), 'krr-config-'));
    const file = join(dir, 'krr.json');
    writeFileSync(file, JSON.stringify({ idportenClients: clients }));
    assert.deepEqual(loadConfig({ config: file }, {}).idporten.clients, clients);
    const bad = (value: unknown) => () => loadConfig({}, { KRR_IDPORTEN_CLIENTS: JSON.stringify(value) });
    for (const value of [
      { clientId: 'app' },
      [{ clientId: 'app', redirectUris: [] }],
      [{ clientId: 'app', redirectUris: ['/relative'] }],
      [{ clientId: 'app', redirectUris: ['javascript:alert(1)'] }],
      [{ clientId: 'app', redirectUris: ['https://app.example/cb#x'] }],
      [...clients, ...clients],
    ]) {
      assert.throws(bad(value), ConfigError, JSON.stringify(value));
    }
    assert.throws(() => loadConfig({}, { KRR_IDPORTEN_CLIENTS: '[' }), /KRR_IDPORTEN_CLIENTS/);
  });

  it('takes an ID-porten client’s keys for private_key_jwt as jwks or jwksUri, not both', () => {
    const jwk = {
      kty: 'EC',
      crv: 'P-256',
      x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
      y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
    };
    const withJwks = [{ clientId: 'rp', redirectUris: ['https://rp.example/cb'], jwks: { keys: [jwk] } }];
    assert.deepEqual(
      loadConfig({}, { KRR_IDPORTEN_CLIENTS: JSON.stringify(withJwks) }).idporten.clients,
      withJwks,
    );
    const withUri = [
      { clientId: 'rp', redirectUris: ['https://rp.example/cb'], jwksUri: 'https://rp.example/jwks' },
    ];
    assert.deepEqual(
      loadConfig({}, { KRR_IDPORTEN_CLIENTS: JSON.stringify(withUri) }).idporten.clients,
      withUri,
    );
    for (const value of [
      [{ ...withJwks[0], jwksUri: 'https://rp.example/jwks' }],
      [{ ...withUri[0], jwksUri: 'ftp://rp.example/jwks' }],
      [{ ...withUri[0], jwksUri: 'not a url' }],
      [{ ...withJwks[0], jwks: { keys: [] } }],
    ]) {
      assert.throws(
        () => loadConfig({}, { KRR_IDPORTEN_CLIENTS: JSON.stringify(value) }),
        ConfigError,
        JSON.stringify(value),
      );
    }
  });

  it('prompts for confirmation after 90 days by default; idporten.confirmPrompt / KRR_IDPORTEN_CONFIRM_PROMPT turn it off', () => {
    const c = loadConfig({}, {});
    assert.equal(c.idporten.confirmPrompt, true);
    assert.equal(c.idporten.confirmAfterDays, 90);
    assert.equal(loadConfig({}, { KRR_IDPORTEN_CONFIRM_PROMPT: 'false' }).idporten.confirmPrompt, false);
    assert.equal(loadConfig({}, { KRR_IDPORTEN_CONFIRM_AFTER_DAYS: '30' }).idporten.confirmAfterDays, 30);
    const dir = mkdtempSync(join(tmpdir(), 'krr-config-'));
    const file = join(dir, 'krr.json');
    writeFileSync(file, JSON.stringify({ idporten: { confirmPrompt: false, confirmAfterDays: 7 } }));
    const fromFile = loadConfig({ config: file }, {});
    assert.deepEqual([fromFile.idporten.confirmPrompt, fromFile.idporten.confirmAfterDays], [false, 7]);
    assert.equal(
      loadConfig({ config: file }, { KRR_IDPORTEN_CONFIRM_PROMPT: 'true' }).idporten.confirmPrompt,
      true,
    );
    assert.throws(
      () => loadConfig({}, { KRR_IDPORTEN_CONFIRM_PROMPT: 'maybe' }),
      /KRR_IDPORTEN_CONFIRM_PROMPT/,
    );
    assert.throws(
      () => loadConfig({}, { KRR_IDPORTEN_CONFIRM_AFTER_DAYS: '0' }),
      /KRR_IDPORTEN_CONFIRM_AFTER_DAYS/,
    );
    writeFileSync(file, JSON.stringify({ idporten: { confirmAfterDays: 0 } }));
    assert.throws(() => loadConfig({ config: file }, {}), ConfigError);
  });
});

describe('publicUrl and the dev issuer', () => {
  it("default to the server's own base URL; the issuer carries a trailing slash, like Digdir's", () => {
    const c = loadConfig({}, {});
    assert.equal(c.publicUrl, 'http://127.0.0.1:8080');
    assert.equal(c.auth.devIssuer, 'http://127.0.0.1:8080/');
    assert.equal(c.auth.devIssuerDefaulted, true);
    const onPort = loadConfig({ port: '18080', host: 'localhost' }, {});
    assert.equal(onPort.publicUrl, 'http://localhost:18080');
    assert.equal(onPort.auth.devIssuer, 'http://localhost:18080/');
    assert.equal(onPort.auth.devIssuerDefaulted, false);
    assert.equal(loadConfig({}, { KRR_PORT: '9000' }).auth.devIssuer, 'http://127.0.0.1:9000/');
  });

  it('take --public-url, KRR_PUBLIC_URL or publicUrl; devIssuer / KRR_DEV_ISSUER override the issuer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'krr-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(
      file,
      JSON.stringify({ publicUrl: 'https://file.example/krr/', tokenExpiresInSeconds: 60 }),
    );
    const fromFile = loadConfig({ config: file }, {});
    assert.equal(fromFile.publicUrl, 'https://file.example/krr');
    assert.equal(fromFile.auth.devIssuer, 'https://file.example/krr/');
    assert.equal(fromFile.maskinporten.tokenExpiresInSeconds, 60);
    assert.equal(
      loadConfig({ config: file }, { KRR_PUBLIC_URL: 'https://env.example' }).publicUrl,
      'https://env.example',
    );
    assert.equal(
      loadConfig(
        { config: file, publicUrl: 'http://cli.example:1234' },
        { KRR_PUBLIC_URL: 'https://env.example' },
      ).auth.devIssuer,
      'http://cli.example:1234/',
    );
    const overridden = loadConfig(
      { publicUrl: 'http://cli.example' },
      { KRR_DEV_ISSUER: 'https://issuer.example/' },
    );
    assert.equal(overridden.auth.devIssuer, 'https://issuer.example/');
    assert.equal(overridden.publicUrl, 'http://cli.example');
    assert.throws(() => loadConfig({ publicUrl: 'not a url' }, {}), ConfigError);
    assert.throws(() => loadConfig({ publicUrl: 'ftp://x.example' }, {}), ConfigError);
    assert.throws(() => loadConfig({}, { KRR_TOKEN_EXPIRES_IN: '0' }), ConfigError);
    assert.equal(loadConfig({}, {}).maskinporten.tokenExpiresInSeconds, 120);
  });

  it('a --port 0 server takes its chosen port into the derived URL and issuer, not into configured ones', () => {
    const derived = withListenPort(loadConfig({ port: 0 }, {}), 41234);
    assert.equal(derived.http.port, 41234);
    assert.equal(derived.publicUrl, 'http://127.0.0.1:41234');
    assert.equal(derived.auth.devIssuer, 'http://127.0.0.1:41234/');
    assert.ok(Object.isFrozen(derived.auth));
    const configured = withListenPort(loadConfig({ port: 0, publicUrl: 'https://krr.example' }, {}), 41234);
    assert.equal(configured.publicUrl, 'https://krr.example');
    assert.equal(configured.auth.devIssuer, 'https://krr.example/');
    const issuer = withListenPort(loadConfig({ port: 0 }, { KRR_DEV_ISSUER: 'https://i.example/' }), 41234);
    assert.equal(issuer.auth.devIssuer, 'https://i.example/');
    assert.equal(issuer.publicUrl, 'http://127.0.0.1:41234');
  });

  it('trusted client CAs from trustedClientCas or KRR_TRUSTED_CLIENT_CAS (path list)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'krr-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ trustedClientCas: ['/etc/a.pem'] }));
    assert.deepEqual(loadConfig({ config: file }, {}).maskinporten.trustedClientCas, ['/etc/a.pem']);
    assert.deepEqual(
      loadConfig({ config: file }, { KRR_TRUSTED_CLIENT_CAS: '/x/b.pem:/x/c.pem' }).maskinporten
        .trustedClientCas,
      ['/x/b.pem', '/x/c.pem'],
    );
    assert.deepEqual(loadConfig({}, {}).maskinporten.trustedClientCas, []);
  });
});

describe('the outbox: smtp, sms and outbox', () => {
  const withFile = (json: unknown) => {
    const dir = mkdtempSync(join(tmpdir(), 'krr-config-'));
    const file = join(dir, 'krr.json');
    writeFileSync(file, JSON.stringify(json));
    return file;
  };

  it('has no senders and ten attempts by default', () => {
    const c = loadConfig({}, {});
    assert.equal(c.smtp, undefined);
    assert.equal(c.sms, undefined);
    assert.deepEqual(c.outbox, { maxAttempts: 10, firstRetrySeconds: 30, maxRetrySeconds: 3600 });
  });

  it('takes SMTP from KRR_SMTP_URL and KRR_SMTP_FROM: smtp:// with STARTTLS on 587, smtps:// with TLS on 465', () => {
    assert.deepEqual(
      loadConfig(
        {},
        {
          KRR_SMTP_URL: 'smtp://krr%40x:p%3Ass@mail.example.no:2525',
          KRR_SMTP_FROM: 'KRR <ikke-svar@example.no>',
        },
      ).smtp,
      {
        host: 'mail.example.no',
        port: 2525,
        secure: false,
        user: 'krr@x',
        password: 'p:ss',
        from: 'KRR <ikke-svar@example.no>',
      },
    );
    assert.deepEqual(
      loadConfig({}, { KRR_SMTP_URL: 'smtp://mail.example.no', KRR_SMTP_FROM: 'a@b.no' }).smtp,
      {
        host: 'mail.example.no',
        port: 587,
        secure: false,
        from: 'a@b.no',
      },
    );
    assert.deepEqual(
      loadConfig({}, { KRR_SMTP_URL: 'smtps://mail.example.no', KRR_SMTP_FROM: 'a@b.no' }).smtp,
      {
        host: 'mail.example.no',
        port: 465,
        secure: true,
        from: 'a@b.no',
      },
    );
  });

  it('refuses a bad KRR_SMTP_URL or one without a From address, never repeating the password', () => {
    for (const env of [
      { KRR_SMTP_URL: 'http://u:hemmelig@mail.example.no', KRR_SMTP_FROM: 'a@b.no' },
      { KRR_SMTP_URL: 'smtp://u:hemmelig@mail.example.no' },
      { KRR_SMTP_URL: 'smtp//u:hemmelig@', KRR_SMTP_FROM: 'a@b.no' },
    ]) {
      assert.throws(
        () => loadConfig({}, env),
        (err: unknown) =>
          err instanceof ConfigError && /KRR_SMTP/.test(err.message) && !err.message.includes('hemmelig'),
      );
    }
  });

  it('takes smtp, sms and outbox from the config file, the environment over it', () => {
    const file = withFile({
      smtp: { host: 'smtp.example.no', port: 465, user: 'krr', password: 'pw', from: 'a@b.no' },
      sms: { url: 'https://sms.example.no/send', headerName: 'X-Api-Key', headerValue: 'k1' },
      outbox: { maxAttempts: 3, firstRetrySeconds: 5, maxRetrySeconds: 60 },
    });
    const c = loadConfig({ config: file }, {});
    assert.deepEqual(c.smtp, {
      host: 'smtp.example.no',
      port: 465,
      secure: true,
      user: 'krr',
      password: 'pw',
      from: 'a@b.no',
    });
    assert.deepEqual(c.sms, {
      url: 'https://sms.example.no/send',
      headerName: 'X-Api-Key',
      headerValue: 'k1',
    });
    assert.deepEqual(c.outbox, { maxAttempts: 3, firstRetrySeconds: 5, maxRetrySeconds: 60 });

    const e = loadConfig(
      { config: file },
      {
        KRR_SMS_URL: 'http://127.0.0.1:9999/sms',
        KRR_SMS_HEADER: 'Authorization: Bearer abc:def',
        KRR_SMTP_FROM: 'other@b.no',
        KRR_OUTBOX_MAX_ATTEMPTS: '4',
      },
    );
    assert.deepEqual(e.sms, {
      url: 'http://127.0.0.1:9999/sms',
      headerName: 'Authorization',
      headerValue: 'Bearer abc:def',
    });
    assert.equal(e.smtp?.from, 'other@b.no');
    assert.equal(e.outbox.maxAttempts, 4);
    assert.deepEqual(loadConfig({ config: withFile({ smtp: { host: 'h', from: 'a@b.no' } }) }, {}).smtp, {
      host: 'h',
      port: 587,
      secure: false,
      from: 'a@b.no',
    });
  });

  it('refuses a bad SMS URL or header, and retries that make no sense', () => {
    assert.throws(() => loadConfig({}, { KRR_SMS_URL: 'ftp://x' }), /KRR_SMS_URL/);
    assert.throws(
      () => loadConfig({}, { KRR_SMS_URL: 'http://x', KRR_SMS_HEADER: 'no colon' }),
      /KRR_SMS_HEADER/,
    );
    assert.throws(() => loadConfig({}, { KRR_OUTBOX_MAX_ATTEMPTS: '0' }), /KRR_OUTBOX_MAX_ATTEMPTS/);
    assert.throws(
      () => loadConfig({ config: withFile({ outbox: { firstRetrySeconds: 60, maxRetrySeconds: 10 } }) }, {}),
      /maxRetrySeconds/,
    );
    assert.throws(
      () => loadConfig({ config: withFile({ sms: { url: 'x', headerName: 'Bad Name' } }) }, {}),
      /not valid/,
    );
  });
});

describe('loadConfig: Min profil (minprofil)', () => {
  it('is on in dev mode with the stand-in, a 15-minute idle timeout and no return addresses; off elsewhere', () => {
    const dev = loadConfig({ dev: true }, {}).minprofil;
    assert.equal(dev.enabled, true);
    assert.equal(dev.issuer, undefined);
    assert.equal(dev.clientId, 'krr-minprofil');
    assert.deepEqual(dev.clientAuth, { kind: 'none' });
    assert.equal(dev.sessionIdleMinutes, 15);
    assert.deepEqual(dev.gotoUrls, []);
    assert.equal(loadConfig({}, {}).minprofil.enabled, false);
  });

  it('takes issuer, client, secret, idle minutes and return addresses from the environment', () => {
    const m = loadConfig(
      {},
      {
        KRR_MINPROFIL_ISSUER: 'https://idporten.no/',
        KRR_MINPROFIL_CLIENT_ID: 'my-client',
        KRR_MINPROFIL_CLIENT_SECRET: 's3cret',
        KRR_MINPROFIL_SESSION_IDLE_MINUTES: '30',
        KRR_MINPROFIL_GOTO_URLS: 'https://nav.no https://skatt.example/side/',
        KRR_MINPROFIL_COOKIE_SECRET: 'k'.repeat(32),
      },
    ).minprofil;
    assert.equal(m.enabled, true);
    assert.equal(m.issuer, 'https://idporten.no');
    assert.equal(m.clientId, 'my-client');
    assert.deepEqual(m.clientAuth, { kind: 'client_secret_post', secret: 's3cret' });
    assert.equal(m.sessionIdleMinutes, 30);
    assert.deepEqual(m.gotoUrls, ['https://nav.no', 'https://skatt.example/side/']);
    assert.equal(m.cookieSecret, 'k'.repeat(32));
  });

  it('takes the block from the config file, a private key file relative to it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'krr-config-'));
    const file = join(dir, 'krr.json');
    writeFileSync(
      file,
      JSON.stringify({
        minprofil: {
          issuer: 'https://test.idporten.no',
          clientId: 'c',
          privateKeyFile: 'keys/minprofil.jwk',
          privateKeyId: 'k1',
          gotoUrls: ['https://agency.example/back/'],
          sessionIdleMinutes: 5,
        },
      }),
    );
    const m = loadConfig({ config: file }, {}).minprofil;
    assert.deepEqual(m.clientAuth, {
      kind: 'private_key_jwt',
      keyFile: join(dir, 'keys/minprofil.jwk'),
      keyId: 'k1',
    });
    assert.equal(m.sessionIdleMinutes, 5);
    assert.deepEqual(m.gotoUrls, ['https://agency.example/back/']);
  });

  it('refuses what cannot work', () => {
    const refuses = (env: NodeJS.ProcessEnv, pattern: RegExp, dev = false) =>
      assert.throws(
        () => loadConfig({ dev }, env),
        (e: unknown) => e instanceof ConfigError && pattern.test(e.message),
      );
    refuses({ KRR_MINPROFIL_ENABLED: 'true' }, /needs minprofil.issuer/);
    refuses({ KRR_MINPROFIL_ISSUER: 'http://idporten.example' }, /https/);
    refuses({ KRR_MINPROFIL_ISSUER: 'https://idporten.example' }, /clientId is required/);
    refuses(
      { KRR_MINPROFIL_ISSUER: 'https://idporten.example', KRR_MINPROFIL_CLIENT_ID: 'c' },
      /clientSecret or privateKeyFile/,
    );
    refuses(
      {
        KRR_MINPROFIL_ISSUER: 'https://idporten.example',
        KRR_MINPROFIL_CLIENT_ID: 'c',
        KRR_MINPROFIL_CLIENT_SECRET: 's',
        KRR_MINPROFIL_PRIVATE_KEY_FILE: 'k.pem',
      },
      /not both/,
    );
    refuses({ KRR_MINPROFIL_GOTO_URLS: 'https://nav.no/?x=1' }, /gotoUrls/, true);
    refuses({ KRR_MINPROFIL_GOTO_URLS: 'javascript:alert(1)' }, /gotoUrls/, true);
    refuses({ KRR_MINPROFIL_COOKIE_SECRET: 'short' }, /at least 32/, true);
    refuses({ KRR_MINPROFIL_SESSION_IDLE_MINUTES: '0' }, /KRR_MINPROFIL_SESSION_IDLE_MINUTES/, true);
    assert.equal(loadConfig({ dev: true }, { KRR_MINPROFIL_ENABLED: 'false' }).minprofil.enabled, false);
  });
});

describe("the jobs' settings", () => {
  const withFile = (json: unknown) => {
    const dir = mkdtempSync(join(tmpdir(), 'krr-config-'));
    const file = join(dir, 'krr.json');
    writeFileSync(file, JSON.stringify(json));
    return file;
  };

  it("reads the jobs' settings: defaults, the file, the environment over it, --no-jobs over both", () => {
    const d = loadConfig({}, {});
    assert.deepEqual(d.jobs, {
      enabled: true,
      pollSeconds: 5,
      leaseSeconds: 30,
      reminder: { enabled: true, afterMonths: 16, intervalMinutes: 60, pageSize: 1000 },
      retention: { enabled: true, days: 7, intervalMinutes: 60 },
    });
    const file = withFile({
      jobs: {
        enabled: true,
        pollSeconds: 2,
        leaseSeconds: 5,
        reminder: { afterMonths: 15, pageSize: 50 },
        retention: { days: 30 },
      },
    });
    const f = loadConfig({ config: file }, {});
    assert.equal(f.jobs.pollSeconds, 2);
    assert.equal(f.jobs.leaseSeconds, 5);
    assert.equal(f.jobs.reminder.afterMonths, 15);
    assert.equal(f.jobs.reminder.pageSize, 50);
    assert.equal(f.jobs.retention.days, 30);
    const e = loadConfig(
      { config: file },
      { KRR_JOBS: 'false', KRR_REMINDER_AFTER_MONTHS: '14', KRR_RETENTION_DAYS: '3' },
    );
    assert.equal(e.jobs.enabled, false);
    assert.equal(e.jobs.reminder.afterMonths, 14);
    assert.equal(e.jobs.retention.days, 3);
    assert.equal(loadConfig({ jobs: false }, { KRR_JOBS: 'true' }).jobs.enabled, false);
  });

  it("refuses jobs' settings out of range, naming the setting", () => {
    assert.throws(
      () => loadConfig({}, { KRR_REMINDER_AFTER_MONTHS: '18' }),
      /KRR_REMINDER_AFTER_MONTHS.*1 to 17/,
    );
    assert.throws(() => loadConfig({}, { KRR_RETENTION_DAYS: '0' }), /KRR_RETENTION_DAYS/);
    assert.throws(() => loadConfig({}, { KRR_JOBS: 'maybe' }), /KRR_JOBS/);
    assert.throws(() => loadConfig({ config: withFile({ jobs: { leaseSeconds: 1 } }) }, {}), ConfigError);
    assert.throws(
      () => loadConfig({ config: withFile({ jobs: { reminder: { afterMonths: 20 } } }) }, {}),
      ConfigError,
    );
  });

  it("reads the audit trail's retention: 24 months, the file's, the environment's over it", () => {
    assert.equal(loadConfig({}, {}).audit.retentionMonths, 24);
    const file = withFile({ audit: { retentionMonths: 36 } });
    assert.equal(loadConfig({ config: file }, {}).audit.retentionMonths, 36);
    assert.equal(
      loadConfig({ config: file }, { KRR_AUDIT_RETENTION_MONTHS: '60' }).audit.retentionMonths,
      60,
    );
    assert.throws(() => loadConfig({}, { KRR_AUDIT_RETENTION_MONTHS: '0' }), /KRR_AUDIT_RETENTION_MONTHS/);
    assert.throws(() => loadConfig({ config: withFile({ audit: { retentionMonths: 0 } }) }, {}), ConfigError);
  });

  it("reads how the server stops: drain 5 s and grace 20 s, the file's, the environment's over it", () => {
    assert.deepEqual(loadConfig({}, {}).shutdown, { drainSeconds: 5, graceSeconds: 20 });
    const file = withFile({ shutdown: { drainSeconds: 0, graceSeconds: 60 } });
    assert.deepEqual(loadConfig({ config: file }, {}).shutdown, { drainSeconds: 0, graceSeconds: 60 });
    assert.deepEqual(
      loadConfig({ config: file }, { KRR_SHUTDOWN_DRAIN_SECONDS: '3', KRR_SHUTDOWN_GRACE_SECONDS: '7' })
        .shutdown,
      { drainSeconds: 3, graceSeconds: 7 },
    );
    assert.throws(() => loadConfig({}, { KRR_SHUTDOWN_GRACE_SECONDS: '0' }), /KRR_SHUTDOWN_GRACE_SECONDS/);
    assert.throws(() => loadConfig({}, { KRR_SHUTDOWN_DRAIN_SECONDS: '301' }), /KRR_SHUTDOWN_DRAIN_SECONDS/);
    assert.throws(() => loadConfig({ config: withFile({ shutdown: { later: 1 } }) }, {}), ConfigError);
  });
});

describe("loadConfig: the PostgreSQL store's timeouts (docs/operations.md#timeouts)", () => {
  const postgresStore = (env: NodeJS.ProcessEnv, file?: object) => {
    let config: string | undefined;
    if (file) {
      config = join(mkdtempSync(join(tmpdir(), 'krr-config-')), 'krr.json');
      writeFileSync(config, JSON.stringify(file));
    }
    const store = loadConfig(config ? { config } : {}, {
      KRR_DATABASE_URL: 'postgres://a@h/db',
      ...env,
    }).store;
    assert.equal(store.kind, 'postgres');
    return store;
  };

  it('defaults to a statement timeout of 30 s and a connect timeout of 5 s', () => {
    const store = postgresStore({});
    assert.equal(store.statementTimeoutSeconds, 30);
    assert.equal(store.connectTimeoutSeconds, 5);
  });

  it("takes the environment over the config file's `database`; 0 turns the statement timeout off", () => {
    const file = { database: { statementTimeoutSeconds: 12, connectTimeoutSeconds: 3 } };
    assert.deepEqual(
      [postgresStore({}, file).statementTimeoutSeconds, postgresStore({}, file).connectTimeoutSeconds],
      [12, 3],
    );
    const env = { KRR_DATABASE_STATEMENT_TIMEOUT_SECONDS: '0', KRR_DATABASE_CONNECT_TIMEOUT_SECONDS: '9' };
    assert.deepEqual(
      [postgresStore(env, file).statementTimeoutSeconds, postgresStore(env, file).connectTimeoutSeconds],
      [0, 9],
    );
  });

  for (const [what, env, file, message] of [
    [
      'a statement timeout that is not a number',
      { KRR_DATABASE_STATEMENT_TIMEOUT_SECONDS: 'soon' },
      undefined,
      /^KRR_DATABASE_STATEMENT_TIMEOUT_SECONDS must be a whole number from 0 to 3600$/,
    ],
    [
      'a negative statement timeout',
      { KRR_DATABASE_STATEMENT_TIMEOUT_SECONDS: '-1' },
      undefined,
      /KRR_DATABASE_STATEMENT_TIMEOUT_SECONDS/,
    ],
    [
      'a connect timeout of 0',
      { KRR_DATABASE_CONNECT_TIMEOUT_SECONDS: '0' },
      undefined,
      /^KRR_DATABASE_CONNECT_TIMEOUT_SECONDS must be a whole number from 1 to 300$/,
    ],
    [
      'a connect timeout of 0 in the file',
      {},
      { database: { connectTimeoutSeconds: 0 } },
      /\/database\/connectTimeoutSeconds/,
    ],
    ['an unknown key in `database`', {}, { database: { idleSeconds: 3 } }, /\/database/],
  ] as const) {
    it(`refuses ${what} with a ConfigError`, () => {
      assert.throws(
        () => postgresStore(env, file),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
      );
    });
  }
});

describe('loadConfig: read replicas (docs/operations.md#replicas)', () => {
  const fileWith = (file: object) => {
    const config = join(mkdtempSync(join(tmpdir(), 'krr-config-')), 'krr.json');
    writeFileSync(config, JSON.stringify(file));
    return config;
  };
  const primary = { KRR_DATABASE_URL: 'postgres://a@h/db' };
  const replicasOf = (cli: Parameters<typeof loadConfig>[0], env: NodeJS.ProcessEnv) => {
    const store = loadConfig(cli, { ...primary, ...env }).store;
    assert.equal(store.kind, 'postgres');
    return { urls: store.readUrls, lag: store.maxReplicaLagSeconds };
  };

  it('has none by default', () => {
    assert.deepEqual(replicasOf({}, {}), { urls: undefined, lag: undefined });
    // commander gives an empty list for a repeatable option that was not given.
    assert.deepEqual(replicasOf({ readDatabase: [] }, {}), { urls: undefined, lag: undefined });
  });

  it('takes --read-database (repeated) over KRR_READ_DATABASE_URLS over the file', () => {
    const config = fileWith({ database: { readUrls: ['postgres://f@r0/db'], maxReplicaLagSeconds: 2.5 } });
    assert.deepEqual(replicasOf({ config }, {}), { urls: ['postgres://f@r0/db'], lag: 2.5 });
    assert.deepEqual(
      replicasOf({ config }, { KRR_READ_DATABASE_URLS: ' postgres://e@r1/db, postgresql://e@r2/db ,' }),
      { urls: ['postgres://e@r1/db', 'postgresql://e@r2/db'], lag: 2.5 },
    );
    assert.deepEqual(
      replicasOf(
        { config, readDatabase: ['postgres://c@r3/db', 'postgres://c@r4/db'] },
        { KRR_READ_DATABASE_URLS: 'postgres://e@r1/db', KRR_DATABASE_MAX_REPLICA_LAG_SECONDS: '0.5' },
      ),
      { urls: ['postgres://c@r3/db', 'postgres://c@r4/db'], lag: 0.5 },
    );
  });

  it('refuses a URL that is not PostgreSQL without quoting it (it may hold a password)', () => {
    assert.throws(
      () => replicasOf({ readDatabase: ['postgres://a@r/db', 'mysql://user:secret@r/db'] }, {}),
      (err: unknown) =>
        err instanceof ConfigError && /read database 1/.test(err.message) && !err.message.includes('secret'),
    );
  });

  it('refuses a lag bound out of range', () => {
    for (const value of ['0', '-1', 'soon', '3601'])
      assert.throws(
        () => replicasOf({}, { KRR_DATABASE_MAX_REPLICA_LAG_SECONDS: value }),
        (err: unknown) =>
          err instanceof ConfigError && /KRR_DATABASE_MAX_REPLICA_LAG_SECONDS/.test(err.message),
        value,
      );
  });

  it('refuses replicas with the embedded store, which has none', () => {
    for (const [cli, env] of [
      [{ readDatabase: ['postgres://a@r/db'] }, {}],
      [{ dataDir: '/tmp/x' }, { KRR_READ_DATABASE_URLS: 'postgres://a@r/db' }],
      [{ config: fileWith({ database: { readUrls: ['postgres://a@r/db'] } }) }, {}],
    ] as const)
      assert.throws(
        () => loadConfig(cli, env),
        (err: unknown) => err instanceof ConfigError && /embedded store/.test(err.message),
      );
  });
});

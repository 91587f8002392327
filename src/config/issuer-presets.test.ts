// Trusted issuers by preset name (Digdir's Maskinporten and ID-porten), from the config file and
// from KRR_TRUSTED_ISSUERS.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig, MAX_CLOCK_SKEW_SECONDS } from './config.js';
import { ConfigError } from '../errors/errors.js';
import { ISSUER_PRESETS, resolveTrustedIssuer } from './issuer-presets.js';

describe('trusted issuer presets', () => {
  it("names Digdir's issuers exactly as their metadata does", () => {
    assert.deepEqual(resolveTrustedIssuer('maskinporten'), {
      issuer: 'https://maskinporten.no/',
      metadataUrl: 'https://maskinporten.no/.well-known/oauth-authorization-server',
      kind: 'maskinporten',
    });
    assert.deepEqual(resolveTrustedIssuer('maskinporten-test'), {
      issuer: 'https://test.maskinporten.no/',
      metadataUrl: 'https://test.maskinporten.no/.well-known/oauth-authorization-server',
      kind: 'maskinporten',
    });
    assert.deepEqual(resolveTrustedIssuer('idporten'), {
      issuer: 'https://idporten.no',
      metadataUrl: 'https://idporten.no/.well-known/openid-configuration',
      kind: 'idporten',
    });
    assert.deepEqual(resolveTrustedIssuer('idporten-test'), {
      issuer: 'https://test.idporten.no',
      metadataUrl: 'https://test.idporten.no/.well-known/openid-configuration',
      kind: 'idporten',
    });
    for (const { issuer, metadataUrl } of Object.values(ISSUER_PRESETS))
      assert.ok(metadataUrl.startsWith(issuer.replace(/\/$/, '')));
  });

  it('takes an audience with a preset, and an issuer spelled out as it is', () => {
    assert.deepEqual(resolveTrustedIssuer({ preset: 'maskinporten', audience: 'https://krr.example/' }), {
      issuer: 'https://maskinporten.no/',
      metadataUrl: 'https://maskinporten.no/.well-known/oauth-authorization-server',
      audience: 'https://krr.example/',
      kind: 'maskinporten',
    });
    const own = { issuer: 'https://issuer.example/', jwksUri: 'https://issuer.example/jwks' };
    assert.deepEqual(resolveTrustedIssuer(own), { ...own, kind: 'maskinporten' });
  });

  it('gives every trusted issuer a kind: the presets theirs, one spelled out Maskinporten unless it names one', () => {
    const kinds = (entries: unknown[]) =>
      loadConfig({}, { KRR_TRUSTED_ISSUERS: JSON.stringify(entries) }).auth.trustedIssuers.map((i) => i.kind);
    assert.deepEqual(kinds(['maskinporten', 'maskinporten-test', 'idporten', 'idporten-test']), [
      'maskinporten',
      'maskinporten',
      'idporten',
      'idporten',
    ]);
    assert.deepEqual(kinds([{ preset: 'idporten', audience: 'a' }]), ['idporten']);
    assert.deepEqual(
      kinds([
        { issuer: 'https://own.example/' },
        { issuer: 'https://person.example', kind: 'idporten' },
        { issuer: 'https://system.example/', kind: 'maskinporten' },
      ]),
      ['maskinporten', 'idporten', 'maskinporten'],
    );
    assert.throws(() => kinds([{ issuer: 'https://own.example/', kind: 'both' }]), ConfigError);
    assert.throws(() => kinds([{ preset: 'idporten', kind: 'maskinporten' }]), ConfigError);
  });

  it('refuses an unknown preset, naming the known ones', () => {
    assert.throws(
      () => resolveTrustedIssuer('maskinport'),
      (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /maskinporten, maskinporten-test, idporten, idporten-test/);
        return true;
      },
    );
  });

  it('reads presets from KRR_TRUSTED_ISSUERS and from the config file', async () => {
    const fromEnv = loadConfig(
      {},
      { KRR_TRUSTED_ISSUERS: JSON.stringify(['maskinporten', { preset: 'idporten', audience: 'a' }]) },
    );
    assert.deepEqual(
      fromEnv.auth.trustedIssuers.map((i) => [i.issuer, i.audience]),
      [
        ['https://maskinporten.no/', undefined],
        ['https://idporten.no', 'a'],
      ],
    );
    const dir = await mkdtemp(join(tmpdir(), 'krr-presets-'));
    try {
      const file = join(dir, 'krr.json');
      await writeFile(file, JSON.stringify({ trustedIssuers: ['maskinporten-test', 'idporten-test'] }));
      assert.deepEqual(
        loadConfig({ config: file }, {}).auth.trustedIssuers.map((i) => i.issuer),
        ['https://test.maskinporten.no/', 'https://test.idporten.no'],
      );
      await writeFile(file, JSON.stringify({ trustedIssuers: ['nope'] }));
      assert.throws(() => loadConfig({ config: file }, {}), /unknown trusted issuer preset "nope"/);
      await writeFile(file, JSON.stringify({ clockSkewSeconds: MAX_CLOCK_SKEW_SECONDS + 1 }));
      assert.throws(() => loadConfig({ config: file }, {}), ConfigError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// Privacy (docs/errors.md#logs, docs/errors.md#audit-trail): KRR_LOG_LEVEL sets the level; a full scenario
// (lookups v1/v2 with registered and unknown identifiers, 400/401/403/404/405/413/422/429, the feed, the
// mailbox operations) at debug and trace level leaves no identifier, e-mail address, phone number, mailbox
// address or token (nor any segment of a token) in any log line; and the audit trail records every lookup,
// also 200 at once.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { generateSelfSignedCertificate } from '../../src/certificate/certificate-generator.js';
import { loadConfig } from '../../src/config/config.js';
import { buildApp } from '../../src/app/app.js';
import { makeIdentifier } from '../../src/identifier/identifier.generate.js';
import { ProviderService } from '../../src/provider/provider.service.js';
import { openTestStore, skipReason, STORE_KINDS } from '../support/stores.js';
import { startTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';
import { TokenVerifier } from '../../src/auth/token-verifier.js';
import { AuditRepository } from '../../src/audit/audit.repository.js';

class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
  levels(): Set<number> {
    return new Set(this.lines.map((l) => (JSON.parse(l) as { level: number }).level));
  }
}

const DATA = ['krr:global/kontaktinformasjon.read', 'krr:global/digitalpost.read'];
const FEED = 'krr:global/hentendring.read';
const MAILBOX = 'krr:global/postkasse.write';
const DIGIPOST = '984661185';

const id = (day: number, month: number, year: number) => makeIdentifier({ day, month, year });
const ALICE = id(11, 3, 81);
const RESERVED = id(12, 4, 82);
const DELETED = id(13, 5, 83);
const WALKER = id(14, 6, 84);
const UNKNOWN = id(15, 7, 85);
const BAD_CHECK = `${ALICE.slice(0, 9)}${(Number(ALICE.slice(9)) + 1) % 100}`.padEnd(11, '0');
const EMAIL = 'alice.secret@example.no';
const MOBILE = '+4791234567';
const MAILBOX_ADDRESS = 'alice.hemmelig#7QXZ';
const IDENTIFIERS = [ALICE, RESERVED, DELETED, WALKER, UNKNOWN, BAD_CHECK];

for (const kind of STORE_KINDS) {
  for (const level of ['debug', 'trace'] as const) {
    describe(
      `no personal data or token in the logs at ${level} level (${kind})`,
      { skip: await skipReason(kind) },
      () => {
        let t: TestApp;
        const logs = new LogCapture();
        const tokens: string[] = [];
        let clients = 0;
        /** A token of a client of its own, so that the rate limit is met only where the test means it. */
        const token = async (scopes: readonly string[], extra: Parameters<TestApp['token']>[1] = {}) => {
          const minted = await t.token(scopes, { clientId: `client-${++clients}`, ...extra });
          tokens.push(minted);
          return minted;
        };

        before(async () => {
          t = await startTestApp(kind, {
            logLevel: level,
            logDestination: logs,
            env: { KRR_RATE_LIMIT_MAX: '6', KRR_RATE_LIMIT_WINDOW_SECONDS: '3600' },
          });
          const certificate = (
            await generateSelfSignedCertificate({ commonName: 'digipost', keyUsage: 'encryption' })
          ).certificateDerBase64;
          await new ProviderService(t.store.db).add({ orgno: DIGIPOST, name: 'Digipost', certificate });
          await t.write([
            {
              personidentifikator: ALICE,
              status: 'AKTIV',
              reservasjon: 'NEI',
              kontaktinformasjon: { epostadresse: EMAIL, mobiltelefonnummer: MOBILE },
            },
            { personidentifikator: RESERVED, status: 'AKTIV', reservasjon: 'JA' },
            { personidentifikator: DELETED, status: 'SLETTET', reservasjon: 'NEI' },
            { personidentifikator: WALKER, status: 'AKTIV', reservasjon: 'NEI' },
          ]);
        });
        after(async () => t?.close());

        it(`KRR_LOG_LEVEL=${level} sets the level of the app`, async () => {
          const config = loadConfig({ dev: true }, { KRR_LOG_LEVEL: level.toUpperCase() });
          assert.equal(config.logLevel, level);
          const store = await openTestStore(kind);
          const capture = new LogCapture();
          const app = await buildApp({
            config,
            db: store.db,
            verifier: new TokenVerifier({ trustedIssuers: [], clockSkewSeconds: 30 }),
            clock: { now: () => Date.now() },
            logDestination: capture,
          });
          try {
            assert.equal(app.log.level, level);
            await app.inject({
              method: 'POST',
              url: '/rest/v2/personer',
              headers: { authorization: 'Bearer a.b.c' },
            });
            assert.ok(capture.levels().has(20), `debug lines are written at ${level} level`);
          } finally {
            await app.close();
            await store.dispose();
          }
        });

        it('runs the scenario with every kind of answer', async () => {
          const seen = new Map<string, number>();
          const expect = async (
            label: string,
            status: number,
            res: Promise<{ statusCode: number; body: string }>,
          ) => {
            const answer = await res;
            assert.equal(answer.statusCode, status, `${label}: ${answer.body}`);
            seen.set(label, answer.statusCode);
            return answer;
          };
          const data = await token(DATA);
          const v1 = await expect(
            'v1',
            200,
            t.post('/rest/v1/personer', { personidentifikatorer: [ALICE, UNKNOWN] }, data),
          );
          assert.ok(v1.body.includes(EMAIL), 'the caller gets the data');
          await expect(
            'v2',
            200,
            t.post(
              '/rest/v2/personer',
              { personidentifikatorer: [ALICE, RESERVED, DELETED, UNKNOWN], inkluderIkkeRegistrerte: true },
              await token(DATA),
            ),
          );
          await expect(
            'v2 informasjonsbehov',
            200,
            t.post(
              '/rest/v2/personer',
              { personidentifikatorer: [ALICE], informasjonsbehov: ['Kontaktinfo', 'VarslingsStatus'] },
              await token(DATA),
            ),
          );
          await expect(
            '400 not JSON',
            400,
            t.post('/rest/v2/personer', `{"personidentifikatorer":["${ALICE}"`, await token(DATA)),
          );
          await expect(
            '400 not strings',
            400,
            t.post('/rest/v2/personer', { personidentifikatorer: [Number(ALICE)] }, await token(DATA)),
          );
          await expect('401 none', 401, t.post('/rest/v2/personer', { personidentifikatorer: [ALICE] }));
          const tampered = `${await token(DATA)}x`;
          await expect(
            '401 tampered',
            401,
            t.post('/rest/v2/personer', { personidentifikatorer: [ALICE] }, tampered),
          );
          const expired = await token(DATA, { expiresInSeconds: -600 });
          await expect(
            '401 expired',
            401,
            t.post('/rest/v2/personer', { personidentifikatorer: [ALICE] }, expired),
          );
          await expect(
            '403',
            403,
            t.post('/rest/v2/personer', { personidentifikatorer: [ALICE] }, await token(['openid'])),
          );
          await expect(
            '422',
            422,
            t.post(
              '/rest/v2/personer',
              { personidentifikatorer: [BAD_CHECK, `${ALICE.slice(0, 10)}`] },
              await token(DATA),
            ),
          );
          const huge = { personidentifikatorer: Array.from({ length: 120_000 }, () => ALICE) };
          await expect('413', 413, t.post('/rest/v2/personer', huge, await token(DATA)));
          await expect(
            '404',
            404,
            t.app.inject({ method: 'GET', url: `/rest/v1/person/${ALICE}?epost=${EMAIL}&mobil=${MOBILE}` }),
          );
          const inQuery = await token(DATA);
          await expect(
            '405',
            405,
            t.app.inject({ method: 'GET', url: `/rest/v2/personer?access_token=${inQuery}&fnr=${ALICE}` }),
          );
          await expect(
            'token in the query',
            401,
            t.post(`/rest/v2/personer?access_token=${inQuery}`, { personidentifikatorer: [ALICE] }),
          );
          const feed = await token([FEED, ...DATA]);
          const page = await expect(
            'feed',
            200,
            t.post('/rest/v2/krr/hentEndringer', { fraEndringsId: 0 }, feed),
          );
          assert.ok(page.body.includes(ALICE));
          const provider = await token([MAILBOX], { consumer: DIGIPOST });
          const op = (name: string, body: unknown) => t.post(`/rest/v1/postkasse/${name}`, body, provider);
          await expect('kanVelge', 200, op('kanVelge', { personidentifikator: WALKER }));
          const mailbox = {
            personidentifikator: WALKER,
            virksomhetsidentifikator: DIGIPOST,
            postkasseadresse: MAILBOX_ADDRESS,
          };
          await expect('opprettOgVelg', 200, op('opprettOgVelg', mailbox));
          await expect(
            'oppdater',
            200,
            op('oppdater', { ...mailbox, postkasseadresse: `${MAILBOX_ADDRESS}2` }),
          );
          await expect(
            'slett',
            200,
            op('slett', { personidentifikator: WALKER, virksomhetsidentifikator: DIGIPOST }),
          );
          await expect('mailbox 422-like', 200, op('kanVelge', { personidentifikator: BAD_CHECK }));
          // One client over its limit (6 per window).
          const greedy = await token(DATA);
          for (let i = 0; i < 6; i++)
            await expect(
              `greedy ${i}`,
              200,
              t.post('/rest/v2/personer', { personidentifikatorer: [ALICE] }, greedy),
            );
          await expect('429', 429, t.post('/rest/v2/personer', { personidentifikatorer: [ALICE] }, greedy));
          assert.ok(seen.size >= 25);
        });

        it('wrote log lines with request ids, at debug level too, and none holds personal data or a token', () => {
          assert.ok(logs.lines.length >= 50, `${logs.lines.length} log lines`);
          assert.ok(logs.levels().has(20), 'debug lines were written');
          const withReqId = logs.lines.filter((l) => (JSON.parse(l) as { reqId?: string }).reqId);
          assert.ok(withReqId.length >= 50);
          const secrets = [
            ...IDENTIFIERS,
            ...IDENTIFIERS.map((i) => i.slice(0, 10)),
            EMAIL,
            EMAIL.split('@')[0]!,
            MOBILE,
            MOBILE.slice(3),
            MAILBOX_ADDRESS,
            ...tokens,
            ...tokens.flatMap((tok) => tok.split('.')),
          ];
          for (const line of logs.lines)
            for (const secret of secrets)
              assert.ok(
                !line.includes(secret),
                `a log line carries personal data or a token: ${line.slice(0, 300)}`,
              );
        });
      },
    );
  }

  describe(`the audit trail under concurrent load (${kind})`, { skip: await skipReason(kind) }, () => {
    let t: TestApp;
    const persons = Array.from({ length: 150 }, (_, i) => id(1 + (i % 28), 1 + Math.floor(i / 28), 70));

    before(async () => {
      t = await startTestApp(kind);
      await t.write(
        persons.map((p) => ({
          personidentifikator: p,
          status: 'AKTIV' as const,
          reservasjon: 'NEI' as const,
        })),
      );
    });
    after(async () => t?.close());

    it('records each of 200 concurrent lookups once, with its identifiers, client and status', async () => {
      const audit = new AuditRepository(t.store.db);
      const before = (await audit.latest(1_000_000)).length;
      const unknown = (i: number) => id(1 + (i % 28), 1 + (i % 12), 60);
      const requests = Array.from({ length: 200 }, (_, i) => {
        const identifiers =
          i % 10 === 9
            ? [`${persons[i % 150]!.slice(0, 10)}x`]
            : i % 3 === 0
              ? [persons[i % 150]!, unknown(i)]
              : [persons[i % 150]!];
        const url = i % 2 === 0 ? '/rest/v2/personer' : '/rest/v1/personer';
        return { i, identifiers, url, status: i % 10 === 9 ? 422 : 200 };
      });
      const tokens = await Promise.all(requests.map((r) => t.token(DATA, { clientId: `load-${r.i}` })));
      const answers = await Promise.all(
        requests.map((r, n) => t.post(r.url, { personidentifikatorer: r.identifiers }, tokens[n])),
      );
      for (const [n, res] of answers.entries()) assert.equal(res.statusCode, requests[n]!.status, res.body);

      const rows = await audit.latest(1_000_000);
      assert.equal(rows.length - before, 200, 'one audit row per lookup');
      const got = rows
        .slice(0, 200)
        .map((r) => `${r.clientId} ${r.endpoint} ${[...r.identifiers].sort().join(',')} ${r.status}`)
        .sort();
      const wanted = requests
        .map((r) => `load-${r.i} ${r.url} ${[...new Set(r.identifiers)].sort().join(',')} ${r.status}`)
        .sort();
      assert.deepEqual(got, wanted);
    });
  });
}

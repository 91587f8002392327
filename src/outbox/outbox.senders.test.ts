// The senders against real receivers: a real SMTP server and a real HTTP server started here.
// What they throw is stored and logged, so it must name neither recipient nor text.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DeliveryError, DevInboxSender, SmsSender, SmtpSender, smsNumber } from './outbox.senders.js';
import type { StoredOutboxMessage } from './outbox.js';
import { startSmtpServer } from '../../test/support/smtp-server.js';
import type { TestSmtpServer } from '../../test/support/smtp-server.js';
import { startHttpReceiver } from '../../test/support/http-receiver.js';
import type { TestHttpReceiver } from '../../test/support/http-receiver.js';

const stored = (over: Partial<StoredOutboxMessage>): StoredOutboxMessage => ({
  id: 41,
  kind: 'engangskode',
  channel: 'epost',
  recipient: 'kari.nordmann@example.no',
  subject: 'Engangskode til Min profil – Kontakt- og reservasjonsregisteret',
  text: 'Koden din er 123456. Den gjelder i 10 minutter.\nHilsen Digdir, Ålesund',
  createdAt: new Date(),
  attempts: 0,
  deliveredAt: null,
  deliveredTo: null,
  failedAt: null,
  ...over,
});

/** The error `fn` rejects with, which must be a DeliveryError free of the message's personal data. */
async function deliveryError(fn: () => Promise<void>, message: StoredOutboxMessage): Promise<string> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof DeliveryError, `a DeliveryError, not ${String(caught)}`);
  const secrets = [message.recipient, message.text, '123456'];
  if (message.channel === 'sms') secrets.push(smsNumber(message.recipient).slice(1));
  for (const secret of secrets) {
    assert.ok(!caught.message.includes(secret), `"${caught.message}" names personal data`);
  }
  return caught.message;
}

describe('the SMTP sender', () => {
  let smtp: TestSmtpServer;
  before(async () => {
    smtp = await startSmtpServer({ user: 'krr', password: 's3cret' });
  });
  after(async () => smtp?.close());

  const sender = () =>
    new SmtpSender({
      host: smtp.host,
      port: smtp.port,
      secure: false,
      user: 'krr',
      password: 's3cret',
      from: 'KRR <ikke-svar@krr.example.no>',
    });

  it('delivers recipient, subject and text, signed in with the configured user', async () => {
    const message = stored({});
    const s = sender();
    await s.deliver(message);
    await s.close?.();
    const mail = await smtp.nextTo('kari.nordmann@example.no');
    assert.deepEqual(mail, {
      from: 'ikke-svar@krr.example.no',
      to: ['kari.nordmann@example.no'],
      fromHeader: '"KRR" <ikke-svar@krr.example.no>',
      subject: message.subject,
      text: message.text,
      messageId: `<outbox-41.${message.createdAt.getTime()}@krr.example.no>`,
      user: 'krr',
    });
    const again = sender();
    await again.deliver(message);
    await again.close?.();
    const resent = await smtp.nextTo('kari.nordmann@example.no');
    assert.equal(resent.messageId, mail.messageId, 'sent again, it has the same Message-ID');
  });

  it('fails without personal data when the server refuses the message or the password', async () => {
    const message = stored({});
    smtp.failNext(1);
    const s = sender();
    assert.match(await deliveryError(() => s.deliver(message), message), /^smtp: \w+ 451$/);
    assert.equal(smtp.refused, 1);
    const wrong = new SmtpSender({
      host: smtp.host,
      port: smtp.port,
      secure: false,
      user: 'krr',
      password: 'wrong',
      from: 'ikke-svar@krr.example.no',
    });
    assert.match(await deliveryError(() => wrong.deliver(message), message), /^smtp: EAUTH 535$/);
  });

  it(
    'fails without personal data when the server takes the connection and never greets',
    { timeout: 30_000 },
    async () => {
      const message = stored({});
      const sockets = new Set<Socket>();
      const silent = createNetServer((socket) => sockets.add(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const port = (silent.address() as AddressInfo).port;
        const s = new SmtpSender({
          host: '127.0.0.1',
          port,
          secure: false,
          from: 'ikke-svar@krr.example.no',
          timeoutMs: 500,
        });
        assert.match(await deliveryError(() => s.deliver(message), message), /^smtp: /);
        await s.close?.();
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
    },
  );

  it('fails without personal data when no server answers', async () => {
    const closed = await startSmtpServer();
    await closed.close();
    const message = stored({});
    const s = new SmtpSender({
      host: '127.0.0.1',
      port: closed.port,
      secure: false,
      from: 'a@krr.example.no',
    });
    assert.equal(await deliveryError(() => s.deliver(message), message), 'smtp: ESOCKET');
  });
});

describe('the SMS sender', () => {
  let gateway: TestHttpReceiver;
  before(async () => {
    gateway = await startHttpReceiver();
  });
  after(async () => gateway?.close());

  it('POSTs the documented JSON body with the configured header', async () => {
    const message = stored({ id: 77, channel: 'sms', recipient: '999 99 999', subject: '' });
    await new SmsSender({
      url: `${gateway.url}sms/send`,
      headerName: 'X-Api-Key',
      headerValue: 'k-123',
    }).deliver(message);
    const post = await gateway.next();
    assert.equal(post.method, 'POST');
    assert.equal(post.path, '/sms/send');
    assert.equal(post.headers['x-api-key'], 'k-123');
    assert.equal(post.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(post.rawBody), { to: '+4799999999', text: message.text, reference: '77' });
  });

  it('fails without personal data on any answer but 2xx, and when no one answers', async () => {
    const message = stored({ channel: 'sms', recipient: '+4798765432', subject: '' });
    const sms = new SmsSender({ url: gateway.url });
    gateway.failNext(1);
    assert.equal(await deliveryError(() => sms.deliver(message), message), 'sms: HTTP 500');
    gateway.failNext(1, 302);
    assert.equal(await deliveryError(() => sms.deliver(message), message), 'sms: HTTP 302');
    await sms.deliver(message);
    assert.deepEqual(
      gateway.received.slice(-3).map((p) => p.status),
      [500, 302, 200],
    );

    const closed = await startHttpReceiver();
    await closed.close();
    const nowhere = new SmsSender({ url: closed.url });
    assert.equal(await deliveryError(() => nowhere.deliver(message), message), 'sms: ECONNREFUSED');
  });

  it(
    'fails with "sms: timeout" when the gateway takes the request and never answers',
    { timeout: 30_000 },
    async () => {
      const message = stored({ channel: 'sms', recipient: '+4798765432', subject: '' });
      const silent = createServer(() => {});
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const port = (silent.address() as AddressInfo).port;
        const sms = new SmsSender({ url: `http://127.0.0.1:${port}/sms/send`, timeoutMs: 500 });
        assert.equal(await deliveryError(() => sms.deliver(message), message), 'sms: timeout');
      } finally {
        silent.closeAllConnections();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
    },
  );

  it('writes numbers in E.164 form', () => {
    assert.equal(smsNumber('99999999'), '+4799999999');
    assert.equal(smsNumber('+47 999 99 999'), '+4799999999');
    assert.equal(smsNumber('0047-41234567'), '+4741234567');
    assert.equal(smsNumber('+46701234567'), '+46701234567');
    assert.equal(smsNumber('46 70 123 45 67'), '+46701234567');
  });
});

describe('the dev inbox sender', () => {
  it('accepts every message of its channel and names the dev inbox', async () => {
    const sink = new DevInboxSender('sms');
    assert.equal(sink.channel, 'sms');
    assert.equal(sink.destination, 'dev-inbox');
    await sink.deliver();
  });
});

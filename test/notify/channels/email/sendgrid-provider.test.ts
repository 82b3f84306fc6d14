import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeHtml } from '../../../../src/notify/channels/email/render-email.js';
import { createSendGridProvider } from '../../../../src/notify/channels/email/sendgrid-provider.js';
import { unsubscribeHeaders } from '../../../../src/notify/channels/email/unsubscribe-links.js';
import { emailMessage, sender } from '../../../helpers/email-fixtures.js';
import { freePort } from '../../../helpers/free-port.js';
import { startSendGridServer, type SendGridServer } from '../../../helpers/sendgrid-server.js';
import { describeEmailProvider } from './provider.contract.js';

describeEmailProvider('sendgrid', async () => {
  const sg = await startSendGridServer();
  return {
    provider: createSendGridProvider({ apiKey: sg.apiKey }, { baseUrl: sg.url }),
    unreachable: createSendGridProvider(
      { apiKey: sg.apiKey },
      { baseUrl: `http://127.0.0.1:${await freePort()}` },
    ),
    received: () =>
      sg.messages.map((m) => ({
        to: m.to,
        notificationId: m.customArgs.notification_id!,
        subject: m.subject,
      })),
    refuseNext: () => sg.script({ status: 400 }),
    close: () => sg.close(),
  };
});

describe('SendGrid provider', () => {
  let sg: SendGridServer;
  beforeAll(async () => {
    sg = await startSendGridServer();
  });
  afterAll(() => sg.close());
  const provider = () => createSendGridProvider({ apiKey: sg.apiKey }, { baseUrl: sg.url });

  it('sends a request the strict double accepts, custom_args carrying the notification', async () => {
    const before = sg.messages.length;
    const [result] = await provider().send([emailMessage(7, { userId: 'fan/7' })]);
    expect(result).toMatchObject({
      status: 'delivered',
      detail: expect.stringMatching(/^sendgrid 202 /),
    });
    const [got] = sg.messages.slice(before);
    expect(got).toMatchObject({
      to: 'fan7@example.com',
      from: sender,
      replyTo: { email: 'help@backline.example' },
      subject: 'A new show',
      text: 'A new show',
      html: '<p>A new show</p>',
      categories: ['show-announced'],
      headers: { 'X-Backline-Notification': 'n-7' },
      customArgs: {
        notification_id: 'n-7',
        project: 'p1',
        user_id: 'fan/7',
        template: 'show-announced',
      },
    });
  });

  it('sends a campaign of 2,500 as 3 requests of at most 1,000 personalizations', async () => {
    const requestsBefore = sg.requests.length;
    const messages = Array.from({ length: 2500 }, (_, i) => emailMessage(i));
    const results = await provider().send(messages);
    expect(results.every((r) => r.status === 'delivered')).toBe(true);
    const sizes = sg.requests
      .slice(requestsBefore)
      .map((r) => (r.personalizations as unknown[]).length);
    expect(sizes.sort((a, b) => b - a)).toEqual([1000, 1000, 500]);
    const ids = new Set(sg.notificationIds());
    for (let i = 0; i < 2500; i++) expect(ids.has(`n-${i}`)).toBe(true);
  });

  it('sends messages with different bodies in separate requests', async () => {
    const before = sg.requests.length;
    await provider().send([
      emailMessage(1, { html: '<p>one</p>' }),
      emailMessage(2, { html: '<p>two</p>' }),
      emailMessage(3, { html: '<p>one</p>' }),
    ]);
    expect(sg.requests.length - before).toBe(2);
  });

  it('sends bodies that differ by the recipient’s unsubscribe link as one, with substitutions', async () => {
    const before = sg.requests.length;
    const link = (i: number) => `https://news.example/v1/unsubscribe/tok${i}.sig&x=${i}`;
    const body = (i: number) => ({
      html: `<p>Hi</p><a href="${escapeHtml(link(i))}">Unsubscribe</a> ${escapeHtml(link(i))}`,
      text: `Hi\n\nUnsubscribe: ${link(i)}`,
      unsubscribeUrl: link(i),
      headers: unsubscribeHeaders(link(i)),
    });
    const results = await provider().send([
      ...[1, 2, 3].map((i) => emailMessage(i, body(i))),
      // An unquoted attribute encodes the link whole: that body is not shared.
      emailMessage(4, { ...body(4), html: `<a href=${link(4).replace(/\W/g, '_')}>x</a>` }),
    ]);
    expect(results.every((r) => r.status === 'delivered')).toBe(true);
    const requests = sg.requests.slice(before);
    expect(requests.map((r) => (r.personalizations as unknown[]).length).sort()).toEqual([1, 3]);
    const got = sg.messages.slice(-4).sort((a, b) => a.to.localeCompare(b.to));
    for (const [k, i] of [1, 2, 3].entries()) {
      const { html, text } = body(i);
      expect(got[k]).toMatchObject({ to: `fan${i}@example.com`, html, text });
      expect(got[k]!.headers['List-Unsubscribe']).toBe(`<${link(i)}>`);
    }
    expect(got[3]!.text).toBe(body(4).text);
  });

  it('fails only the personalizations a 400 names, and sends the rest of the batch', async () => {
    const before = sg.messages.length;
    const results = await provider().send([
      emailMessage(1),
      emailMessage(2, { to: 'fan2@@example.com' }),
      emailMessage(3),
    ]);
    expect(results.map((r) => r.status)).toEqual(['delivered', 'failed', 'delivered']);
    expect(results[1]).toMatchObject({ reason: /personalizations\.1\.to\.0\.email/ });
    expect(sg.messages.slice(before).map((m) => m.to)).toEqual([
      'fan1@example.com',
      'fan3@example.com',
    ]);
  });

  it('maps 400 to failed, 429 to retry after Retry-After, 5xx and 401 to retry', async () => {
    const send = async () => (await provider().send([emailMessage(1)]))[0];
    expect(await send()).toMatchObject({ status: 'delivered' });
    expect(await provider().send([emailMessage(1, { to: 'not-an-address' })])).toEqual([
      {
        status: 'failed',
        reason: 'sendgrid 400: personalizations.0.to.0.email Does not contain a valid address.',
      },
    ]);
    sg.script({ status: 429, retryAfterS: 7 }, { status: 500 }, { status: 503 });
    expect(await send()).toMatchObject({ status: 'retry', reason: /^sendgrid 429/, afterMs: 7000 });
    expect(await send()).toMatchObject({ status: 'retry', reason: /^sendgrid 500/ });
    expect(await send()).toMatchObject({ status: 'retry', reason: /^sendgrid 503/ });
    const wrongKey = createSendGridProvider({ apiKey: 'SG.wrong' }, { baseUrl: sg.url });
    expect((await wrongKey.send([emailMessage(1)]))[0]).toMatchObject({
      status: 'retry',
      reason: /^sendgrid 401/,
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpProvider } from '../../../src/notify/email/smtp-provider.js';
import { emailMessage } from '../../helpers/email-fixtures.js';
import { freePort } from '../../helpers/free-port.js';
import { headerOf, startSmtpReceiver, type SmtpReceiver } from '../../helpers/smtp-receiver.js';
import { describeEmailProvider } from './provider.contract.js';

describeEmailProvider('smtp', async () => {
  const smtp = await startSmtpReceiver();
  const provider = createSmtpProvider({ url: smtp.url });
  const unreachable = createSmtpProvider(
    { url: `smtp://127.0.0.1:${await freePort()}` },
    { timeoutMs: 2000 },
  );
  return {
    provider,
    unreachable,
    received: () =>
      smtp.mails.map((m) => ({
        to: m.to[0]!,
        notificationId: headerOf(m.raw, 'X-Backline-Notification')!,
        subject: headerOf(m.raw, 'Subject')!,
      })),
    refuseNext: () => smtp.reject(550),
    async close() {
      await provider.close?.();
      await unreachable.close?.();
      await smtp.close();
    },
  };
});

describe('SMTP provider', () => {
  let smtp: SmtpReceiver;
  beforeAll(async () => {
    smtp = await startSmtpReceiver();
  });
  afterAll(() => smtp.close());

  it('sends one message per transaction with the backline headers, from and reply-to', async () => {
    const provider = createSmtpProvider({ url: smtp.url });
    const before = smtp.mails.length;
    const results = await provider.send([emailMessage(1), emailMessage(2)]);
    await provider.close?.();
    expect(results.map((r) => r.status)).toEqual(['delivered', 'delivered']);
    expect(results[0]).toMatchObject({ detail: expect.stringMatching(/^smtp 250 OK: queued/) });
    const mails = smtp.mails.slice(before);
    expect(mails.map((m) => m.to)).toEqual(
      expect.arrayContaining([['fan1@example.com'], ['fan2@example.com']]),
    );
    const raw = mails.find((m) => m.to[0] === 'fan1@example.com')!.raw;
    expect(headerOf(raw, 'X-Backline-Notification')).toBe('n-1');
    expect(headerOf(raw, 'X-Backline-Project')).toBe('p1');
    expect(headerOf(raw, 'X-Backline-Template')).toBe('show-announced');
    expect(headerOf(raw, 'From')).toBe('Backline Shows <shows@backline.example>');
    expect(headerOf(raw, 'Reply-To')).toBe('help@backline.example');
    expect(raw).toContain('<p>A new show</p>');
  });

  it('maps a permanent reply (550) to failed and a transient one (451) to retry', async () => {
    const provider = createSmtpProvider({ url: smtp.url });
    smtp.reject(550, 451);
    const [first] = await provider.send([emailMessage(1)]);
    const [second] = await provider.send([emailMessage(2)]);
    await provider.close?.();
    expect(first).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^smtp 550/) });
    expect(second).toMatchObject({ status: 'retry', reason: expect.stringMatching(/^smtp 451/) });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpProvider } from '../../../../src/notify/channels/email/smtp-provider.js';
import { emailMessage } from '../../../helpers/email-fixtures.js';
import { freePort } from '../../../helpers/free-port.js';
import { createSelfSignedCert, type SelfSignedCert } from '../../../helpers/self-signed-cert.js';
import { headerOf, startSmtpReceiver, type SmtpReceiver } from '../../../helpers/smtp-receiver.js';
import { describeEmailProvider } from './provider.contract.js';

// The contract runs against a submission server as production uses one: AUTH over STARTTLS.
describeEmailProvider('smtp', async () => {
  const cert = createSelfSignedCert();
  const smtp = await startSmtpReceiver({ auth: { user: 'backline', pass: 'pw' }, tls: cert });
  const provider = createSmtpProvider({
    url: `smtp://backline:pw@127.0.0.1:${smtp.port}`,
    requireTls: true,
    caFile: cert.certFile,
  });
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

describe('SMTP provider on a submission server (AUTH over STARTTLS, as on port 587)', () => {
  const credentials = { user: 'backline', pass: 's3cret pass' };
  let cert: SelfSignedCert;
  let submission: SmtpReceiver;
  let plain: SmtpReceiver;
  const urlWith = (pass: string) =>
    `smtp://${credentials.user}:${encodeURIComponent(pass)}@127.0.0.1:${submission.port}`;
  const sendOne = async (provider: ReturnType<typeof createSmtpProvider>) => {
    const [result] = await provider.send([emailMessage(1)]);
    await provider.close?.();
    return result;
  };

  beforeAll(async () => {
    cert = createSelfSignedCert();
    submission = await startSmtpReceiver({ auth: credentials, tls: cert });
    plain = await startSmtpReceiver();
  });
  afterAll(async () => {
    await submission.close();
    await plain.close();
  });

  it('sends authenticated over STARTTLS, trusting the CA from caFile', async () => {
    const provider = createSmtpProvider({
      url: urlWith(credentials.pass),
      requireTls: true,
      caFile: cert.certFile,
    });
    expect(await sendOne(provider)).toMatchObject({ status: 'delivered' });
    const mail = submission.mails.at(-1)!;
    expect(mail).toMatchObject({ user: 'backline', secure: true, to: ['fan1@example.com'] });
    expect(headerOf(mail.raw, 'X-Backline-Notification')).toBe('n-1');
  });

  it('answers retry with EAUTH for a wrong password, and the server takes nothing', async () => {
    const before = submission.mails.length;
    const provider = createSmtpProvider({
      url: urlWith('wrong'),
      requireTls: true,
      caFile: cert.certFile,
    });
    expect(await sendOne(provider)).toEqual({
      status: 'retry',
      reason: expect.stringMatching(/^smtp EAUTH: Invalid login: 535 /),
    });
    expect(submission.failedLogins).toContain('backline');
    expect(submission.mails.length).toBe(before);
  });

  it('does not send when the certificate is not trusted', async () => {
    const before = submission.mails.length;
    const provider = createSmtpProvider({ url: urlWith(credentials.pass), requireTls: true });
    expect(await sendOne(provider)).toEqual({
      status: 'retry',
      reason: expect.stringMatching(/self-signed certificate/),
    });
    expect(submission.mails.length).toBe(before);
  });

  it('with requireTls, sends nothing in clear to a server without STARTTLS', async () => {
    const strict = createSmtpProvider({ url: plain.url, requireTls: true });
    expect(await sendOne(strict)).toEqual({
      status: 'retry',
      reason: expect.stringMatching(/^smtp ETLS: /),
    });
    expect(plain.mails).toHaveLength(0);
    expect(await sendOne(createSmtpProvider({ url: plain.url }))).toMatchObject({
      status: 'delivered',
    });
    expect(plain.mails.map((m) => m.secure)).toEqual([false]);
  });

  it('fails at creation when caFile cannot be read', () => {
    expect(() =>
      createSmtpProvider({ url: plain.url, caFile: '/nonexistent/smtp-ca.pem' }),
    ).toThrow(/ENOENT/);
  });
});

import nodemailer from 'nodemailer';
import type { EmailMessage, EmailProvider, ProviderResult } from './providers.js';

export const defaultSmtpOptions = {
  maxConnections: 5, // pooled SMTP connections
  timeoutMs: 15_000, // connect, greeting and socket inactivity
};

interface SmtpError {
  code?: string;
  responseCode?: number;
  response?: string;
  permanent?: boolean;
  message?: string;
}

/**
 * Email over SMTP with nodemailer's pooled transport, one message per SMTP transaction,
 * each with `X-Backline-Notification`, `X-Backline-Project` and `X-Backline-Template`
 * headers. A permanent reply (5xx but 503) → failed; 4xx, 503 and connection errors → retry.
 *
 * @example
 * const smtp = createSmtpProvider({ url: 'smtp://user:pass@smtp.example.com:587' });
 * await smtp.send([message]); // [{ status: 'delivered', detail: 'smtp 250 OK …' }]
 */
export function createSmtpProvider(
  settings: { url: string },
  options: Partial<typeof defaultSmtpOptions> = {},
): EmailProvider {
  const opts = { ...defaultSmtpOptions, ...options };
  const transport = nodemailer.createTransport({
    url: settings.url,
    pool: true,
    maxConnections: opts.maxConnections,
    connectionTimeout: opts.timeoutMs,
    greetingTimeout: opts.timeoutMs,
    socketTimeout: opts.timeoutMs,
  });

  async function sendOne(m: EmailMessage): Promise<ProviderResult> {
    try {
      const info = await transport.sendMail({
        from: { name: m.from.name ?? '', address: m.from.email },
        ...(m.replyTo ? { replyTo: { name: m.replyTo.name ?? '', address: m.replyTo.email } } : {}),
        to: m.to,
        subject: m.subject,
        ...(m.text ? { text: m.text } : {}),
        ...(m.html ? { html: m.html } : {}),
        headers: {
          'X-Backline-Notification': m.notificationId,
          'X-Backline-Project': m.project,
          'X-Backline-Template': m.template,
        },
      });
      return { status: 'delivered', detail: `smtp ${info.response}` };
    } catch (err) {
      const { code, responseCode, response, permanent, message } = err as SmtpError;
      const reason = `smtp ${responseCode ?? code ?? 'error'}: ${response ?? message ?? ''}`.trim();
      return permanent ? { status: 'failed', reason } : { status: 'retry', reason };
    }
  }

  return {
    name: 'smtp',
    send: (messages) => Promise.all(messages.map(sendOne)),
    async close() {
      transport.close();
    },
  };
}

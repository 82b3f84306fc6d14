import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import nodemailer from 'nodemailer';
import type { EmailMessage, EmailProvider, ProviderResult } from './providers.js';

export const defaultSmtpOptions = {
  maxConnections: 5, // pooled SMTP connections
  timeoutMs: 15_000, // connect, greeting and socket inactivity
};

export interface SmtpSettings {
  /** `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://user:pass@host:465`. */
  url: string;
  /** Send only after STARTTLS: a server that does not offer it gets no message in clear. */
  requireTls?: boolean;
  /** A PEM file of CA certificates (or a self-signed one) trusted besides the system's. */
  caFile?: string;
}

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
 * headers. A permanent reply (5xx but 503) → failed; 4xx, 503, refused credentials, TLS and
 * connection errors → retry. The CA file is read once, here, so a wrong path fails at start.
 *
 * @example
 * const smtp = createSmtpProvider({ url: 'smtp://user:pass@smtp.example.com:587', requireTls: true });
 * await smtp.send([message]); // [{ status: 'delivered', detail: 'smtp 250 OK …' }]
 */
export function createSmtpProvider(
  settings: SmtpSettings,
  options: Partial<typeof defaultSmtpOptions> = {},
): EmailProvider {
  const opts = { ...defaultSmtpOptions, ...options };
  // Node's `ca` replaces the system's roots: keep them, so a private CA adds to them.
  const ca = settings.caFile ? [...rootCertificates, readFileSync(settings.caFile, 'utf8')] : [];
  const transport = nodemailer.createTransport({
    url: settings.url,
    requireTLS: settings.requireTls ?? false,
    ...(ca.length > 0 ? { tls: { ca } } : {}),
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
          ...m.headers,
          'X-Backline-Notification': m.notificationId,
          'X-Backline-Project': m.project,
          'X-Backline-Template': m.template,
        },
      });
      return { status: 'delivered', detail: `smtp ${info.response}` };
    } catch (err) {
      return failure(err as SmtpError);
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

/** Setup faults: the server refused backline's credentials or TLS, not the message. */
const setupCodes = new Set(['EAUTH', 'ETLS']);

function failure(err: SmtpError): ProviderResult {
  const { code, responseCode, response, permanent, message } = err;
  // Failing messages for good over a wrong password or certificate would lose them while the
  // settings are fixed (SendGrid's 401 and 403 are retried for the same reason).
  if (code && setupCodes.has(code)) return { status: 'retry', reason: `smtp ${code}: ${message}` };
  const reason = `smtp ${responseCode ?? code ?? 'error'}: ${response ?? message ?? ''}`.trim();
  return permanent ? { status: 'failed', reason } : { status: 'retry', reason };
}

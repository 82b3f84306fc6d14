import type { EmailProvider } from '../src/notify/channels/email/providers.js';
import { createSendGridProvider } from '../src/notify/channels/email/sendgrid-provider.js';
import { createSesProvider } from '../src/notify/channels/email/ses-provider.js';
import { startSendGridServer } from '../test/helpers/sendgrid-server.js';
import { startSesServer } from '../test/helpers/ses-server.js';

export type EmailProviderName = 'sendgrid' | 'ses';
export const emailProviders: readonly EmailProviderName[] = ['sendgrid', 'ses'];

/**
 * An email provider's loopback double (the tests' strict ones: SendGrid's checks the key and
 * the v3 schema; SES's recomputes each SigV4 signature and checks the v2 schema), with what
 * the bench needs of it: the provider backline would make for it, in this process, and the
 * `email` settings that point the real server at it and at it alone.
 */
export interface EmailDouble {
  provider: EmailProviderName;
  /** Accepted messages, one per recipient. */
  messages: ReadonlyArray<{ to: string }>;
  /** Requests that reached the double, accepted or not. */
  calls(): number;
  refused(): number;
  /** The provider as the server's email channel makes it. */
  client(): EmailProvider;
  /** `email.<provider>` and `email.failover.order: [<provider>]` of the server's config. */
  settings: Record<string, unknown>;
  close(): Promise<void>;
}

/**
 * Starts `provider`'s double on a loopback port.
 *
 * @example
 * const ses = await startEmailDouble('ses');
 * await startServer({ email: { from, ...ses.settings } });
 * ses.messages.length; // what the server sent
 */
export async function startEmailDouble(provider: EmailProviderName): Promise<EmailDouble> {
  if (provider === 'sendgrid') {
    const sg = await startSendGridServer();
    return {
      provider,
      messages: sg.messages,
      calls: () => sg.received,
      refused: () => sg.received - sg.requests.length,
      client: () => createSendGridProvider({ apiKey: sg.apiKey }, { baseUrl: sg.url }),
      settings: {
        sendgrid: { apiKey: sg.apiKey, baseUrl: sg.url },
        failover: { order: ['sendgrid'] },
      },
      close: sg.close,
    };
  }
  const ses = await startSesServer();
  const credentials = ses.settings;
  return {
    provider,
    messages: ses.messages,
    calls: () => ses.received,
    refused: () => ses.refusals.length,
    client: () => createSesProvider(credentials),
    settings: { ses: credentials, failover: { order: ['ses'] } },
    close: ses.close,
  };
}

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/compose/config.js';
import { openEmailProvider } from '../../src/compose/notify.js';
import { decodeTag, sesTags } from '../../src/notify/channels/email/ses-provider.js';
import { emailMessage } from '../helpers/email-fixtures.js';
import { startSendGridServer, type SendGridServer } from '../helpers/sendgrid-server.js';
import { startSesServer, type SesServer } from '../helpers/ses-server.js';

const log = pino({ level: 'silent' });

describe('email providers in email.failover.order', () => {
  let sg: SendGridServer;
  let ses: SesServer;
  beforeAll(async () => {
    [sg, ses] = await Promise.all([startSendGridServer(), startSesServer()]);
  });
  afterAll(async () => {
    await Promise.all([sg.close(), ses.close()]);
  });

  const emailConfig = (order: string[]) =>
    configSchema.parse({
      email: {
        sendgrid: { apiKey: sg.apiKey, baseUrl: sg.url },
        ses: ses.settings,
        failover: { order, failuresToOpen: 2, coolDownMs: 60_000 },
      },
    }).email;

  it('sends through the first in order; the next takes over while it keeps failing', async () => {
    const provider = (await openEmailProvider(emailConfig(['ses', 'sendgrid']), log))!;
    expect(provider.name).toBe('ses|sendgrid');
    expect((await provider.send([emailMessage(1)]))[0]).toMatchObject({ detail: /^ses / });
    ses.script({ status: 503 }, { status: 503 });
    expect((await provider.send([emailMessage(2)]))[0]).toMatchObject({ status: 'retry' });
    // The second failed batch in a row opens the breaker: SendGrid sends it.
    expect((await provider.send([emailMessage(3)]))[0]).toMatchObject({ detail: /^sendgrid 202/ });
    expect((await provider.send([emailMessage(4)]))[0]).toMatchObject({ detail: /^sendgrid 202/ });
    const viaSes = ses.messages.map((m) => decodeTag(m.tags[sesTags.notification]!));
    expect(viaSes).toEqual(['n-1']);
    expect(sg.notificationIds()).toEqual(['n-3', 'n-4']);
    await provider.close?.();
  });

  it('leaves out a configured provider not in the order', async () => {
    const provider = (await openEmailProvider(emailConfig(['sendgrid']), log))!;
    expect(provider.name).toBe('sendgrid');
  });

  it('refuses an order naming a provider twice', () => {
    expect(() => emailConfig(['ses', 'ses'])).toThrow(/each provider once/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFailover } from '../../../../src/notify/channels/email/failover.js';
import { createSendGridProvider } from '../../../../src/notify/channels/email/sendgrid-provider.js';
import { createSmtpProvider } from '../../../../src/notify/channels/email/smtp-provider.js';
import { emailMessage } from '../../../helpers/email-fixtures.js';
import { startSendGridServer, type SendGridServer } from '../../../helpers/sendgrid-server.js';
import { startSmtpReceiver, type SmtpReceiver } from '../../../helpers/smtp-receiver.js';

let sg: SendGridServer;
let smtp: SmtpReceiver;
beforeAll(async () => {
  [sg, smtp] = await Promise.all([startSendGridServer(), startSmtpReceiver()]);
});
afterAll(async () => {
  await Promise.all([sg.close(), smtp.close()]);
});

function setup() {
  let clock = 1_000_000;
  const switches: string[] = [];
  const email = createFailover(
    {
      primary: createSendGridProvider({ apiKey: sg.apiKey }, { baseUrl: sg.url }),
      secondary: createSmtpProvider({ url: smtp.url }),
      onSwitch: (to) => switches.push(to),
    },
    { failuresToOpen: 3, coolDownMs: 30_000 },
    () => clock,
  );
  const send = async (i: number) => (await email.send([emailMessage(i)]))[0]!;
  return { email, send, switches, advance: (ms: number) => (clock += ms) };
}

const via = (result: { status: string; detail?: string }) =>
  result.status === 'delivered' ? result.detail!.split(' ')[0] : result.status;

describe('email failover', () => {
  it('fails over to SMTP after 3 failed SendGrid batches, and back after the cool-down', async () => {
    const { email, send, switches, advance } = setup();
    sg.always({ status: 500 });
    expect([via(await send(1)), via(await send(2))]).toEqual(['retry', 'retry']);
    expect(email.route()).toBe('primary');
    // The third failure trips the breaker, and that batch goes out through SMTP at once.
    expect(via(await send(3))).toBe('smtp');
    expect(email.route()).toBe('secondary');
    const requests = sg.received;
    expect(via(await send(4))).toBe('smtp');
    expect(sg.received).toBe(requests); // SendGrid is left alone during the cool-down

    advance(30_001);
    expect(via(await send(5))).toBe('smtp'); // the probe failed: SMTP, cool-down again
    expect(sg.received).toBe(requests + 1);
    expect(via(await send(6))).toBe('smtp');

    sg.always({ status: 202 });
    advance(30_001);
    expect(via(await send(7))).toBe('sendgrid'); // SendGrid recovered: the probe switches back
    expect(email.route()).toBe('primary');
    expect(via(await send(8))).toBe('sendgrid');
    expect(switches).toEqual(['secondary', 'primary']);
    const smtpIds = smtp.mails.map((m) => /X-Backline-Notification: (\S+)/.exec(m.raw)?.[1]);
    expect(smtpIds).toEqual(expect.arrayContaining(['n-3', 'n-4', 'n-5', 'n-6']));
    expect(sg.notificationIds()).toEqual(expect.arrayContaining(['n-7', 'n-8']));
    await email.close?.();
  });

  it('does not count refusals of a message (400) as an outage', async () => {
    const { email, send } = setup();
    sg.always({ status: 202 });
    for (let i = 0; i < 4; i++) sg.script({ status: 400 });
    for (let i = 0; i < 4; i++) expect((await send(i)).status).toBe('failed');
    expect(email.route()).toBe('primary');
    sg.script({ status: 500 }, { status: 500 });
    await send(10);
    await send(11);
    expect(via(await send(12))).toBe('sendgrid'); // a success resets the count
    expect(email.route()).toBe('primary');
    await email.close?.();
  });
});

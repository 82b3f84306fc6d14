import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import {
  sesEvent,
  startSesServer,
  type SesMessage,
  type SesServer,
} from '../helpers/ses-server.js';
import { removeDir, startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { serverApi } from '../helpers/server-api.js';
import { startSnsSender, type SnsSender } from '../helpers/sns-sender.js';

const topic = 'arn:aws:sns:eu-west-1:123456789012:backline-ses-events';
const dataDir = tempDir('backline-ses-webhook-');
let ses: SesServer;
let sns: SnsSender;
let server: ServerProcess;

beforeAll(async () => {
  [ses, sns] = await Promise.all([startSesServer(), startSnsSender()]);
  server = await startServer({
    dataDir,
    // The sender's TLS certificate is trusted as a CA would be; its host is the allowed one.
    env: { NODE_EXTRA_CA_CERTS: sns.tlsCertFile },
    config: {
      email: {
        from: { email: 'shows@example.com' },
        ses: {
          ...ses.settings,
          configurationSet: 'backline-events',
          sns: { topicArns: [topic], certHostPattern: '^127\\.0\\.0\\.1$' },
        },
        failover: { order: ['ses'] },
      },
    },
  });
});
afterAll(async () => {
  await server?.stop();
  await Promise.all([ses?.close(), sns?.close()]);
  removeDir(dataDir);
});

const webhook = () => `${server.url}/v1/webhooks/ses`;
const api = serverApi(() => server);

/** Signs `user` up: the dev project's `welcome` rule emails them through the SES double. */
async function welcomeEmailOf(user: string): Promise<SesMessage> {
  const email = `${user}@example.com`;
  expect((await api('PUT', `/v1/users/${user}/preferences`, { email })).status).toBe(200);
  const signup = { id: `signup-${user}`, type: 'user.signup', ts: Date.now(), userId: user };
  expect((await api('POST', '/v1/events', { events: [signup] })).status).toBe(200);
  const sent = () => ses.messages.find((m) => m.to === email);
  await eventually(() => sent() !== undefined, 20_000, `the welcome email to ${email}`);
  return sent()!;
}

const refusedTotal = async () => {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return [...text.matchAll(/^backline_webhook_refused_total\{[^}]*\} (\d+)/gm)].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  );
};

describe('SES events through SNS over the real server', () => {
  it('confirms the subscription by visiting its SubscribeURL', async () => {
    const res = await sns.post(webhook(), sns.subscription(topic, 'token-1'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ type: 'SubscriptionConfirmation', confirmed: true });
    expect(sns.confirmations).toEqual(['token-1']);
  });

  it('turns delivery and open (signature versions 1 and 2) into email events', async () => {
    const message = await welcomeEmailOf('fan1');
    expect(message.configurationSet).toBe('backline-events');
    const delivery = sesEvent(message, 'Delivery', { smtpResponse: '250 2.0.0 OK' });
    const first = await sns.post(
      webhook(),
      sns.notification(topic, delivery, { version: '1', subject: 'Amazon SES Email Event' }),
    );
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ tracked: 1, suppressed: 0, ignored: 0 });
    const open = sesEvent(message, 'Open', { userAgent: 'Mail' });
    const second = await sns.post(webhook(), sns.notification(topic, open, { version: '2' }));
    expect(await second.json()).toMatchObject({ tracked: 1 });
    const total = async (event: string) =>
      (
        (await api('GET', `/v1/analytics/trends?event=${event}`)).body.series as Array<{
          total: number;
        }>
      )[0]?.total ?? 0;
    await eventually(async () => (await total('email.delivered')) === 1, 20_000, 'delivered');
    await eventually(async () => (await total('email.open')) === 1, 20_000, 'open');
  });

  it('disables email on a permanent bounce, with the reason in the decision log', async () => {
    const message = await welcomeEmailOf('fan2');
    const bounce = sesEvent(message, 'Bounce', {
      bounceType: 'Permanent',
      bounceSubType: 'General',
      bouncedRecipients: [{ emailAddress: message.to, status: '5.1.1' }],
    });
    const res = await sns.post(webhook(), sns.notification(topic, bounce, { version: '2' }));
    expect(await res.json()).toMatchObject({ tracked: 1, suppressed: 1 });
    const decisions = async () =>
      (
        (await api('GET', '/v1/users/fan2/decisions')).body.decisions as Array<{
          outcome: string;
          reason: string;
        }>
      ).filter((d) => d.outcome === 'suppressed' && d.reason.startsWith('email_disabled: bounce'));
    await eventually(async () => (await decisions()).length === 1, 20_000, 'the suppression');
    // A transient bounce of another user disables nothing.
    const other = await welcomeEmailOf('fan3');
    const transient = sesEvent(other, 'Bounce', { bounceType: 'Transient' });
    const again = await sns.post(webhook(), sns.notification(topic, transient));
    expect(await again.json()).toMatchObject({ tracked: 1, suppressed: 0 });
  });

  it('refuses a tampered message, a wrong host, an expired certificate and another topic', async () => {
    const message = await welcomeEmailOf('fan4');
    const event = sesEvent(message, 'Complaint', { complaintFeedbackType: 'abuse' });
    const before = await refusedTotal();
    const tampered = { ...sns.notification(topic, event), Message: event.replace('abuse', 'x') };
    const wrongHost = sns.notification(topic, event, {
      certBase: sns.base.replace('127.0.0.1', 'localhost'),
    });
    const expired = sns.notification(topic, event, { cert: 'expired.pem' });
    const otherTopic = sns.notification(`${topic}-other`, event);
    for (const bad of [tampered, wrongHost, expired, otherTopic]) {
      const res = await sns.post(webhook(), bad);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe('BAD_SIGNATURE');
    }
    // Without SNS's type header the body is not read.
    const bare = await fetch(webhook(), { method: 'POST', body: JSON.stringify(tampered) });
    expect(bare.status).toBe(401);
    expect(await refusedTotal()).toBe(before + 5);
    // Nothing of them was taken: the complaint, properly signed, still disables email.
    const good = await sns.post(webhook(), sns.notification(topic, event));
    expect(await good.json()).toMatchObject({ tracked: 1, suppressed: 1 });
  });
});

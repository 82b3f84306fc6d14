import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import {
  createWebhookSigner,
  sendgridEvent,
  startSendGridServer,
  type SendGridServer,
} from '../helpers/sendgrid-server.js';
import { serverApi } from '../helpers/server-api.js';
import { removeDir, startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import {
  sesEvent,
  sesTag,
  startSesServer,
  type SesMessage,
  type SesServer,
} from '../helpers/ses-server.js';
import { startSnsSender, type SnsSender } from '../helpers/sns-sender.js';

/**
 * Issue #13's acceptance: a campaign of 20,000 users through the SendGrid and SES doubles
 * (SendGrid goes down for a moment part way, the failover sends through SES meanwhile), with scripted
 * bounces, opens, clicks, complaints and unsubscribes arriving through both providers'
 * signed webhooks; the report's numbers equal what the doubles saw and the script said.
 */
const recipients = 20_000;
const topic = 'arn:aws:sns:eu-west-1:123456789012:backline-ses-events';
const dataDir = tempDir('backline-campaign-scale-');
const signer = createWebhookSigner();
let sg: SendGridServer;
let ses: SesServer;
let sns: SnsSender;
let server: ServerProcess;

beforeAll(async () => {
  [sg, ses, sns] = await Promise.all([startSendGridServer(), startSesServer(), startSnsSender()]);
  server = await startServer({
    dataDir,
    env: {
      SENDGRID_API_KEY: sg.apiKey,
      SENDGRID_BASE_URL: sg.url,
      NODE_EXTRA_CA_CERTS: sns.tlsCertFile,
    },
    config: {
      email: {
        from: { email: 'news@example.com' },
        rateLimit: { perSecond: 50_000, burst: 50_000 },
        sendgrid: { webhookPublicKey: signer.publicKey, webhookMaxInFlight: 64 },
        ses: {
          ...ses.settings,
          configurationSet: 'backline-events',
          sns: { topicArns: [topic], certHostPattern: '^127\\.0\\.0\\.1$' },
        },
        failover: { order: ['sendgrid', 'ses'], coolDownMs: 1000 },
      },
    },
  });
}, 120_000);
afterAll(async () => {
  await server?.stop();
  await Promise.all([sg?.close(), ses?.close(), sns?.close()]);
  removeDir(dataDir);
});

const api = serverApi(() => server);
const users = Array.from({ length: recipients }, (_, i) => `fan-${String(i).padStart(5, '0')}`);

/** Runs `task` over `items`, `width` at a time. */
async function each<T>(items: readonly T[], width: number, task: (item: T) => Promise<unknown>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: width }, worker));
}

/** A message either double took: its notification, template and how to post events of it. */
interface Sent {
  notificationId: string;
  template: string;
  post: (events: string[]) => void;
}

describe('a campaign of 20,000 users through the SendGrid and SES doubles', () => {
  it('reports exactly what the doubles saw and the providers’ events said', async () => {
    for (const template of ['news_a', 'news_b'])
      await api('PUT', `/v1/templates/${template}`, {
        subject: `News (${template})`,
        html: `<p>{{title}}</p>`,
        text: '{{title}}',
      });
    await each(users, 64, (user) =>
      api('PUT', `/v1/users/${user}/preferences`, { email: `${user}@example.com` }),
    );
    for (let i = 0; i < users.length; i += 1000) {
      const events = users.slice(i, i + 1000).map((userId) => ({
        id: `optin-${userId}`,
        type: 'newsletter.optin',
        ts: Date.now(),
        userId,
      }));
      expect((await api('POST', '/v1/events', { events })).status).toBe(200);
    }
    // SendGrid takes 5 calls (of up to 1,000 messages), then fails twelve: three failures in
    // a row open the failover (calls run at once, so a success may come between), SES takes
    // the calls of the next second, then a probe finds SendGrid up and it takes the rest.
    sg.script(
      ...Array.from({ length: 5 }, () => ({ status: 202 as const })),
      ...Array.from({ length: 12 }, () => ({ status: 503 as const })),
    );

    const created = await api('POST', '/v1/campaigns', {
      name: 'newsletter',
      audience: { kind: 'segment', types: ['newsletter.optin'], sinceMs: 86_400_000 },
      notification: {
        category: 'newsletter',
        title: 'This week',
        body: 'b',
        channels: ['email'],
        variants: [{ template: 'news_a' }, { template: 'news_b' }],
      },
      ratePerSecond: 10_000,
    });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    const taken = () => sg.messages.length + ses.messages.length;
    await eventually(() => taken() === recipients, 120_000, 'every email taken by a double');
    expect(sg.messages.length).toBeGreaterThan(0);
    expect(ses.messages.length).toBeGreaterThan(0);

    const sent: Sent[] = [];
    const sgBatch: Array<Record<string, unknown>> = [];
    const snsPosts: string[] = [];
    for (const m of sg.messages)
      sent.push({
        notificationId: m.customArgs.notification_id!,
        template: m.customArgs.template!,
        post: (events) => sgBatch.push(...events.map((e) => sendgridEvent(e, m))),
      });
    for (const m of ses.messages)
      sent.push({
        notificationId: sesTag(m, 'backline_notification'),
        template: sesTag(m, 'backline_template'),
        // SES's Send event says no more than the accepted call did: only the rest go.
        post: (events) =>
          snsPosts.push(...events.filter((e) => e !== 'processed').map((e) => sesOf(m, e))),
      });
    expect(new Set(sent.map((s) => s.notificationId)).size).toBe(recipients);

    // Expected counts come from the scripted events alone, each notification counted once.
    const expected = {
      delivered: 0,
      opened: 0,
      clicked: 0,
      bounced: 0,
      complained: 0,
      unsubscribed: 0,
    };
    const measureOf: Record<string, keyof typeof expected> = {
      ...{ delivered: 'delivered', open: 'opened', click: 'clicked', bounce: 'bounced' },
      ...{ spamreport: 'complained', unsubscribe: 'unsubscribed' },
    };
    const perTemplate = new Map<string, { delivered: number; opened: number; clicked: number }>();
    sent.forEach((s, i) => {
      const events = scriptFor(i);
      s.post(events);
      const measures = new Set(events.map((e) => measureOf[e]).filter((m) => m !== undefined));
      for (const m of measures) expected[m] += 1;
      const t = perTemplate.get(s.template) ?? { delivered: 0, opened: 0, clicked: 0 };
      perTemplate.set(s.template, t);
      for (const m of ['delivered', 'opened', 'clicked'] as const) if (measures.has(m)) t[m] += 1;
    });

    // As the providers post: SendGrid in batches of several hundred events, SNS one by one,
    // both many at once.
    const sgPosts = Array.from({ length: Math.ceil(sgBatch.length / 600) }, (_, i) =>
      JSON.stringify(sgBatch.slice(i * 600, (i + 1) * 600)),
    );
    await each(sgPosts, 8, async (payload) => {
      const res = await fetch(`${server.url}/v1/webhooks/sendgrid`, {
        method: 'POST',
        headers: signer.headers(payload),
        body: payload,
      });
      expect(res.status).toBe(200);
    });
    await each(snsPosts, 32, async (message) => {
      const res = await sns.post(`${server.url}/v1/webhooks/ses`, sns.notification(topic, message));
      expect(res.status).toBe(200);
    });

    type Report = {
      status: string;
      targeted: number;
      routed: number;
      channels: { email: Record<string, number> };
      variants: {
        variants: Array<{ template: string; delivered: number; opened: number; clicked: number }>;
      };
    };
    const report = async () => (await api('GET', `/v1/campaigns/${id}`)).body as Report;
    const want = { sent: recipients, ...expected, failed: 0 };
    await eventually(
      async () =>
        JSON.stringify(pick((await report()).channels.email, want)) === JSON.stringify(want),
      60_000,
      'the report to equal the doubles and the script',
    );
    const final = await report();
    expect(final).toMatchObject({ status: 'done', targeted: recipients, routed: recipients });
    expect(final.channels.email).toMatchObject(want);
    for (const v of final.variants.variants)
      expect(pick(v, perTemplate.get(v.template)!)).toEqual(perTemplate.get(v.template));
  }, 300_000);
});

/**
 * The provider events of the i-th message: every 25th bounces, the rest are delivered; of
 * those every 3rd is opened, every 9th opened twice and clicked, every 50th (from the 1st) a
 * complaint and every 40th (from the 2nd) an unsubscribe.
 */
function scriptFor(i: number): string[] {
  if (i % 25 === 0) return ['processed', 'bounce'];
  const events = ['processed', 'delivered'];
  if (i % 3 === 0) events.push('open');
  if (i % 9 === 0) events.push('open', 'click');
  if (i % 50 === 1) events.push('spamreport');
  if (i % 40 === 2) events.push('unsubscribe');
  return events;
}

/** SES's event for `event` (SendGrid's name) of a message, as an SNS message body. */
function sesOf(message: SesMessage, event: string): string {
  const types: Record<string, [string, Record<string, unknown>?]> = {
    delivered: ['Delivery'],
    bounce: ['Bounce', { bounceType: 'Permanent', bounceSubType: 'General' }],
    open: ['Open'],
    click: ['Click', { link: 'https://example.com' }],
    spamreport: ['Complaint', { complaintFeedbackType: 'abuse' }],
    unsubscribe: ['Subscription'],
  };
  const [eventType, detail] = types[event]!;
  return sesEvent(message, eventType, detail);
}

function pick<T extends object>(from: Record<string, unknown>, like: T): T {
  return Object.fromEntries(Object.keys(like).map((k) => [k, from[k]])) as T;
}

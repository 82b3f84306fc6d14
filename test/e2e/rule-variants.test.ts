import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import {
  createWebhookSigner,
  sendgridEvent,
  startSendGridServer,
  type AcceptedMessage,
  type SendGridServer,
} from '../helpers/sendgrid-server.js';
import { removeDir, startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { serverApi } from '../helpers/server-api.js';

const dataDir = tempDir('backline-variants-');
const signer = createWebhookSigner();
let sg: SendGridServer;
let server: ServerProcess;

beforeAll(async () => {
  sg = await startSendGridServer();
  server = await startServer({
    dataDir,
    env: { SENDGRID_API_KEY: sg.apiKey, SENDGRID_BASE_URL: sg.url },
    config: {
      email: {
        from: { email: 'shows@example.com' },
        sendgrid: { webhookPublicKey: signer.publicKey },
      },
    },
  });
});
afterAll(async () => {
  await server?.stop();
  await sg?.close();
  removeDir(dataDir);
});

const api = serverApi(() => server);

const variants = [
  { template: 'tour_a', weight: 1 },
  { template: 'tour_b', weight: 1 },
];
const users = Array.from({ length: 160 }, (_, i) => `fan-${i}`);

describe('A/B test of a rule’s email templates over the real server', () => {
  it('sends each user one variant for good, and reports the providers’ counts with a winner', async () => {
    for (const { template } of variants) {
      const put = await api('PUT', `/v1/templates/${template}`, {
        subject: `Tour news (${template})`,
        html: `<p>{{title}} ${template}</p>`,
        text: `{{title}} ${template}`,
      });
      expect(put.status).toBe(200);
    }
    const rule = {
      trigger: { kind: 'event', types: ['tour.signup'] },
      audience: { kind: 'user' },
      notification: {
        category: 'tour',
        title: 'The tour',
        body: 'dates',
        channels: ['email'],
        variants,
      },
    };
    expect((await api('PUT', '/v1/rules/tour_news', rule)).status).toBe(200);
    for (const user of users)
      await api('PUT', `/v1/users/${user}/preferences`, { email: `${user}@example.com` });
    const events = users.map((user, i) => ({
      id: `tour-${i}`,
      type: 'tour.signup',
      ts: Date.now(),
      userId: user,
    }));
    expect((await api('POST', '/v1/events', { events })).status).toBe(200);
    const sent = () => sg.messages.filter((m) => m.customArgs.template?.startsWith('tour_'));
    await eventually(() => sent().length === users.length, 30_000, 'an email to every fan');

    // The same user gets the same variant on the next firing.
    const byUser = new Map(sent().map((m) => [m.customArgs.user_id!, m.customArgs.template!]));
    const again = { id: 'tour-again', type: 'tour.signup', ts: Date.now(), userId: users[0] };
    await api('POST', '/v1/events', { events: [again] });
    await eventually(() => sent().length === users.length + 1, 30_000, 'the second email');
    expect(sent().at(-1)!.customArgs.template).toBe(byUser.get(users[0]!));

    // Fans of `tour_a` open 3 in 5 and click 1 in 5, of `tour_b` open 1 in 5 and click none;
    // a few open twice. Every message is processed and delivered.
    const first = sent().slice(0, users.length);
    const expected = new Map(
      variants.map((v) => [v.template, { sent: 0, delivered: 0, opened: 0, clicked: 0 }]),
    );
    const batch: Array<Record<string, unknown>> = [];
    first.forEach((message: AcceptedMessage, i) => {
      const counts = expected.get(message.customArgs.template!)!;
      const isA = message.customArgs.template === 'tour_a';
      batch.push(sendgridEvent('processed', message), sendgridEvent('delivered', message));
      counts.sent += 1;
      counts.delivered += 1;
      if (i % 5 < (isA ? 3 : 1)) {
        batch.push(sendgridEvent('open', message));
        if (i % 10 === 0) batch.push(sendgridEvent('open', message));
        counts.opened += 1;
      }
      if (isA && i % 5 === 0) {
        batch.push(sendgridEvent('click', message, { url: 'https://example.com/tour' }));
        counts.clicked += 1;
      }
    });
    const payload = JSON.stringify(batch);
    const posted = await fetch(`${server.url}/v1/webhooks/sendgrid`, {
      method: 'POST',
      headers: signer.headers(payload),
      body: payload,
    });
    expect(posted.status).toBe(200);

    type Report = {
      variants: Array<{
        template: string;
        sent: number;
        delivered: number;
        opened: number;
        clicked: number;
        openRate: { rate: number; low: number; high: number };
      }>;
      opens: { winner: string | null; p: number };
      clicks: { winner: string | null };
    };
    const report = async () => (await api('GET', '/v1/rules/tour_news/variants')).body as Report;
    await eventually(
      async () => (await report()).variants.reduce((n, v) => n + v.delivered, 0) === users.length,
      30_000,
      'the delivered events in the report',
    );
    const answer = await report();
    expect(
      answer.variants.map(({ template, sent, delivered, opened, clicked }) => ({
        template,
        sent,
        delivered,
        opened,
        clicked,
      })),
    ).toEqual(variants.map((v) => ({ template: v.template, ...expected.get(v.template)! })));
    for (const v of answer.variants) {
      expect(v.openRate.rate).toBeCloseTo(v.opened / v.delivered, 12);
      expect(v.openRate.low).toBeLessThan(v.openRate.rate);
      expect(v.openRate.high).toBeGreaterThan(v.openRate.rate);
    }
    expect(answer.opens.winner).toBe('tour_a');
    expect(answer.opens.p).toBeLessThan(0.001);
    // Both variants got a fair share of the fans.
    for (const counts of expected.values()) expect(counts.sent).toBeGreaterThan(50);

    expect((await api('GET', '/v1/rules/welcome/variants')).status).toBe(400);
    expect((await api('GET', '/v1/rules/nope/variants')).status).toBe(404);
  });
});

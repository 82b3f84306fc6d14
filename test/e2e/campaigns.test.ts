import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportPushClick } from '../../src/client/index.js';
import { eventually } from '../helpers/eventually.js';
import { startPushService, type PushService } from '../helpers/push-service.js';
import {
  createWebhookSigner,
  sendgridEvent,
  startSendGridServer,
  type SendGridServer,
} from '../helpers/sendgrid-server.js';
import { serverApi } from '../helpers/server-api.js';
import { removeDir, startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { connect, type SocketClient } from '../helpers/socket-client.js';

const dataDir = tempDir('backline-campaigns-');
const signer = createWebhookSigner();
let sg: SendGridServer;
let push: PushService;
let server: ServerProcess;
const sockets: SocketClient[] = [];

const start = () =>
  startServer({
    dataDir,
    env: {
      SENDGRID_API_KEY: sg.apiKey,
      SENDGRID_BASE_URL: sg.url,
      // The push double listens on loopback over http:, which only this setting lets through.
      BACKLINE_PUSH_ALLOW_INSECURE_LOOPBACK: '1',
    },
    config: {
      email: {
        from: { email: 'news@example.com' },
        sendgrid: { webhookPublicKey: signer.publicKey },
      },
    },
  });

beforeAll(async () => {
  [sg, push] = await Promise.all([startSendGridServer(), startPushService()]);
  server = await start();
});
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await server?.stop();
  await Promise.all([sg?.close(), push?.close()]);
  removeDir(dataDir);
});

const api = serverApi(() => server);

interface Report extends Record<string, unknown> {
  id: string;
  status: string;
  targeted: number;
  routed: number;
  queued: number;
  inboxOnly: number;
  suppressed: number;
  firstSendAt: number | null;
  lastSendAt: number | null;
  channels: Record<string, Record<string, number>>;
}

const report = async (id: string) => (await api('GET', `/v1/campaigns/${id}`)).body as Report;

async function create(spec: object): Promise<string> {
  const res = await api('POST', '/v1/campaigns', spec);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return (res.body as { id: string }).id;
}

async function tokenOf(userId: string): Promise<string> {
  const res = await api('POST', `/v1/users/${encodeURIComponent(userId)}/token`);
  return (res.body as { token: string }).token;
}

const listOf = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);

describe('campaigns over the real server', () => {
  it('refuses a bad campaign naming the bad part, and an unknown one', async () => {
    const notification = { category: 'news', title: 't', body: 'b' };
    const bad = [
      { name: 'Tour!', audience: { kind: 'list', users: ['a'] }, notification },
      { name: 'tour', audience: { kind: 'user' }, notification },
      { name: 'tour', audience: { kind: 'list', users: ['a'] }, notification, sendAt: 'soon' },
      { name: 'tour', audience: { kind: 'list', users: ['a'] }, notification, localTime: true },
      { name: 'tour', audience: { kind: 'list', users: ['a'] }, notification, ratePerSecond: 0 },
      {
        name: 'tour',
        audience: { kind: 'list', users: ['a'] },
        notification: { ...notification, steps: [{ kind: 'send' }] },
      },
    ];
    for (const spec of bad) {
      const res = await api('POST', '/v1/campaigns', spec);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('BAD_CAMPAIGN');
    }
    expect((await api('GET', '/v1/campaigns/123')).body.code).toBe('UNKNOWN_CAMPAIGN');
    expect((await api('POST', '/v1/campaigns/123/cancel')).body.code).toBe('UNKNOWN_CAMPAIGN');
  });

  it('reaches each user on their channel; the report follows reads, push clicks and email events', async () => {
    const users = ['ann', 'ben', 'cat', 'dan', 'eve', 'fay'];
    // ann is online (in-app), ben has a browser subscribed (web push), cat and dan have an
    // address (email), eve has none of these (inbox only), fay turned the category off.
    const ann = await connect(`${server.wsUrl}/v1/user?token=${await tokenOf('ann')}`);
    sockets.push(ann);
    expect(await ann.nextMessage()).toMatchObject({ t: 'counts' });
    const { publicKey } = (await api('GET', '/v1/push/vapid-public-key')).body as {
      publicKey: string;
    };
    const browser = push.subscribe({ applicationServerKey: publicKey });
    const benToken = await tokenOf('ben');
    const subscribed = await fetch(`${server.url}/v1/users/ben/push-subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${benToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(browser.subscription),
    });
    expect(subscribed.status).toBe(201);
    for (const user of ['cat', 'dan'])
      await api('PUT', `/v1/users/${user}/preferences`, { email: `${user}@example.com` });
    await api('PUT', '/v1/users/fay/preferences', {
      categories: { news: { in_app: false, web_push: false, email: false } },
    });

    const id = await create({
      name: 'tour',
      audience: { kind: 'list', users },
      notification: {
        category: 'news',
        title: '{{campaign.name}} for {{userId}}',
        body: 'Dates are out',
      },
    });
    await eventually(async () => (await report(id)).status === 'done', 20_000, 'the campaign done');

    const frame = (await ann.nextMessage()) as { t: string; n: { id: string; title: string } };
    expect(frame).toMatchObject({ t: 'notification', n: { title: 'tour for ann' } });
    ann.send({ t: 'read', ids: [frame.n.id] });

    await eventually(() => push.receivedFor(browser.id).length === 1, 20_000, 'the push');
    const pushed = JSON.parse(push.receivedFor(browser.id)[0]!.plaintext) as { id: string };
    await reportPushClick({
      url: server.url,
      token: benToken,
      userId: 'ben',
      notificationId: pushed.id,
    });

    await eventually(() => sg.messages.length === 2, 20_000, 'the two emails');
    const byUser = new Map(sg.messages.map((m) => [m.customArgs.user_id!, m]));
    const events = [
      ...['processed', 'delivered', 'open', 'open', 'click'].map((e) =>
        sendgridEvent(e, byUser.get('cat')!, e === 'click' ? { url: 'https://example.com' } : {}),
      ),
      sendgridEvent('processed', byUser.get('dan')!),
      sendgridEvent('bounce', byUser.get('dan')!, { reason: '550 5.1.1 no such user' }),
    ];
    const payload = JSON.stringify(events);
    const posted = await fetch(`${server.url}/v1/webhooks/sendgrid`, {
      method: 'POST',
      headers: signer.headers(payload),
      body: payload,
    });
    expect(posted.status).toBe(200);

    const expected = {
      in_app: { sent: 1, delivered: 1, opened: 1 },
      web_push: { sent: 1, delivered: 1, opened: 1, clicked: 1 },
      email: { sent: 2, delivered: 1, opened: 1, clicked: 1, bounced: 1 },
    };
    const matches = (r: Report) =>
      Object.entries(expected).every(([channel, counts]) =>
        Object.entries(counts).every(([k, v]) => r.channels[channel]![k] === v),
      );
    await eventually(async () => matches(await report(id)), 20_000, 'the report’s counts');
    const final = await report(id);
    expect(final).toMatchObject({ targeted: 6, routed: 6, queued: 0, inboxOnly: 1, suppressed: 1 });
    expect(final).toMatchObject({ sent: 4, opened: 3, clicked: 2, bounced: 1 });
    const listed = (await api('GET', '/v1/campaigns')).body.campaigns as Array<{ id: string }>;
    expect(listed.map((c) => c.id)).toContain(id);
  });

  it('cancels: what is not yet routed is dropped, and a finished campaign cannot be', async () => {
    const users = listOf('slow', 300);
    const notification = { category: 'news', title: 'Slow', body: 'b' };
    const id = await create({
      name: 'slow',
      audience: { kind: 'list', users },
      notification,
      ratePerSecond: 20,
    });
    await eventually(async () => (await report(id)).routed >= 20, 20_000, 'the first second');
    const cancelled = await api('POST', `/v1/campaigns/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    const atCancel = (await report(id)).routed;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const later = await report(id);
    expect(later.status).toBe('cancelled');
    // A step already routing when the cancel came finishes its one second's worth.
    expect(later.routed).toBeLessThanOrEqual(atCancel + 20);
    expect(later.routed).toBeLessThan(users.length);
    expect((await api('POST', `/v1/campaigns/${id}/cancel`)).status).toBe(200);

    const done = await create({
      name: 'tiny',
      audience: { kind: 'list', users: ['t1'] },
      notification,
    });
    await eventually(async () => (await report(done)).status === 'done', 20_000, 'done');
    expect((await api('POST', `/v1/campaigns/${done}/cancel`)).body.code).toBe('CAMPAIGN_FINISHED');
  });

  it('plans a local time in each recipient’s own time zone', async () => {
    // Zones without daylight saving time, so the offsets hold whatever the date.
    const zones = {
      tokyo: ['Asia/Tokyo', 9 * 60],
      delhi: ['Asia/Kolkata', 330],
      phoenix: ['America/Phoenix', -7 * 60],
    } as const;
    for (const [user, [timeZone]] of Object.entries(zones))
      await api('PUT', `/v1/users/${user}/preferences`, { timeZone });
    // Two hours ahead on the UTC clock: already passed in Tokyo and Delhi, not in Phoenix.
    const wall = new Date(Date.now() + 2 * 3_600_000);
    wall.setUTCMinutes(0, 0, 0);
    const sendAt = wall.toISOString().slice(0, 16);
    const id = await create({
      name: 'morning',
      audience: { kind: 'list', users: Object.keys(zones) },
      notification: { category: 'news', title: 'Good morning', body: 'b' },
      sendAt,
      localTime: true,
    });
    await eventually(async () => (await report(id)).targeted === 3, 20_000, 'the plan');
    const now = Date.now();
    const instants = Object.values(zones).map(([, offsetMin]) => {
      const at = wall.getTime() - offsetMin * 60_000;
      return at < now - 60_000 ? at + 86_400_000 : at;
    });
    const planned = await report(id);
    expect(planned).toMatchObject({ status: 'sending', routed: 0 });
    expect(planned.firstSendAt).toBe(Math.min(...instants));
    expect(planned.lastSendAt).toBe(Math.max(...instants));
    expect((await api('POST', `/v1/campaigns/${id}/cancel`)).status).toBe(200);
  });

  it('plans sendAt "best" at each recipient’s own hour, learned from their past activity', async () => {
    const hourMs = 3_600_000;
    const now = Date.now();
    const thisHour = Math.floor(now / hourMs) % 24;
    // Habits three and six hours ahead of now, six days each: past the five days it takes.
    const habits = { owl: (thisHour + 3) % 24, lark: (thisHour + 6) % 24 };
    const events = Object.entries(habits).flatMap(([userId, hour]) =>
      Array.from({ length: 6 }, (_, day) => {
        const dayStart = now - (now % 86_400_000) - (day + 1) * 86_400_000;
        return {
          id: `habit-${userId}-${day}`,
          type: 'track.play',
          ts: dayStart + hour * hourMs + 600_000,
          userId,
        };
      }),
    );
    expect((await api('POST', '/v1/events', { events })).status).toBe(200);
    const id = await create({
      name: 'best',
      audience: { kind: 'list', users: Object.keys(habits) },
      notification: { category: 'news', title: 'At your hour', body: 'b' },
      sendAt: 'best',
    });
    await eventually(async () => (await report(id)).targeted === 2, 20_000, 'the plan');
    const planned = await report(id);
    // Each one's next such hour (today or tomorrow), at a minute of it the user keeps.
    const startOf = (hour: number) => {
      const today = now - (now % 86_400_000) + hour * hourMs;
      return today > now ? today : today + 86_400_000;
    };
    const within = (at: number | null, hour: number) =>
      at !== null && at >= startOf(hour) && at < startOf(hour) + hourMs;
    const [first, last] = Object.values(habits).sort((a, b) => startOf(a) - startOf(b)) as [
      number,
      number,
    ];
    expect(within(planned.firstSendAt, first), JSON.stringify(planned)).toBe(true);
    expect(within(planned.lastSendAt, last), JSON.stringify(planned)).toBe(true);
    expect((await api('POST', `/v1/campaigns/${id}/cancel`)).status).toBe(200);
  });

  it('resumes after a restart and notifies every recipient once', async () => {
    const users = listOf('restart', 400);
    const id = await create({
      name: 'restart',
      audience: { kind: 'list', users },
      notification: { category: 'news', title: 'Once', body: 'b' },
      ratePerSecond: 100,
    });
    await eventually(async () => (await report(id)).routed >= 100, 20_000, 'a first part routed');
    await server.stop();
    server = await start();
    await eventually(async () => (await report(id)).status === 'done', 30_000, 'the rest routed');
    // Each user's one notification (inbox only: no channel reaches them), whatever a step
    // interrupted by the stop routed again.
    await eventually(
      async () => (await report(id)).inboxOnly === users.length,
      20_000,
      'decisions',
    );
    const again = await report(id);
    expect(again).toMatchObject({ targeted: 400, routed: 400, failed: 0, queued: 0 });
  });
});

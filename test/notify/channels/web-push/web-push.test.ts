import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import webpush from 'web-push';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { wireNotification } from '../../../../src/notify/notification.js';
import {
  createWebPushChannel,
  type PushResultEvent,
} from '../../../../src/notify/channels/web-push/web-push.js';
import type { Channel } from '../../../../src/notify/channel.js';
import type { Notification } from '../../../../src/notify/notification.js';
import {
  createPushSubscriptions,
  parsePushSubscription,
  type PushSubscriptions,
} from '../../../../src/notify/channels/web-push/push-subscriptions.js';
import { loadVapidKeys } from '../../../../src/notify/channels/web-push/vapid.js';
import { createMemoryStateStore } from '../../../../src/state/memory-state-store.js';
import {
  doubleEndpoints,
  startPushService,
  type PushService,
} from '../../../helpers/push-service.js';

const project = 'p1';
const vapid = loadVapidKeys(mkdtempSync(join(tmpdir(), 'backline-vapid-')));
let service: PushService;
let subscriptions: PushSubscriptions;
let events: Array<{ project: string; userId: string; event: PushResultEvent }>;
let push: Channel;

beforeAll(async () => {
  service = await startPushService();
});
afterAll(() => service.close());
beforeEach(() => {
  subscriptions = createPushSubscriptions(createMemoryStateStore());
  events = [];
  push = createWebPushChannel({
    subscriptions,
    vapid,
    endpoints: doubleEndpoints,
    onResult: (p, userId, event) => events.push({ project: p, userId, event }),
  });
});

let seq = 0;
const notification = (fields: Partial<Notification> = {}): Notification => ({
  id: `n${++seq}`,
  ts: 1_800_000_000_000 + seq,
  project,
  userId: 'u1',
  rule: 'show-announced',
  category: 'shows',
  title: 'Show tonight',
  body: 'Doors at 8 — ünïcödé welcome',
  data: { showId: 7, url: '/shows/7' },
  priority: 'normal',
  dedupKey: undefined,
  channels: ['web_push'],
  template: undefined,
  variables: {},
  ...fields,
});

/** A browser subscribing with backline's VAPID key and registering with backline. */
async function subscribe(userId = 'u1', target: PushService = service) {
  const browser = target.subscribe({ applicationServerKey: vapid.publicKey });
  await subscriptions.add(project, userId, parsePushSubscription(browser.subscription));
  return browser.id;
}

describe('web push channel', () => {
  it('delivers the notification JSON, encrypted for the browser (RFC 8291)', async () => {
    const id = await subscribe();
    const n = notification();
    expect(await push.send(n)).toEqual({ status: 'delivered', detail: 'subscriptions=1/1' });
    const [received] = service.receivedFor(id);
    expect(JSON.parse(received!.plaintext)).toEqual(wireNotification(n));
    expect(JSON.parse(received!.plaintext)).toEqual({
      id: n.id,
      category: 'shows',
      title: 'Show tonight',
      body: 'Doors at 8 — ünïcödé welcome',
      data: { showId: 7, url: '/shows/7' },
      ts: n.ts,
    });
    expect(received!.claims.sub).toBe('mailto:ops@backline.invalid');
    expect(events).toEqual([
      {
        project,
        userId: 'u1',
        event: expect.objectContaining({
          type: 'push.delivered',
          userId: 'u1',
          props: {
            notificationId: n.id,
            status: 201,
            endpointHost: new URL(service.origin).host,
            reason: 'ok',
          },
        }),
      },
    ]);
  });

  it('sends TTL, Urgency and Topic: defaults from priority and dedupKey, or data.push', async () => {
    const id = await subscribe();
    await push.send(notification({ priority: 'critical', dedupKey: 'show-7' }));
    await push.send(notification({ priority: 'low', dedupKey: 'reminder/show 7' }));
    await push.send(
      notification({ data: { push: { ttl: '60', urgency: 'very-low', topic: 'scores' } } }),
    );
    await push.send(notification({ data: { push: { ttl: -1, urgency: 'asap' } } }));
    const headers = service.receivedFor(id).map((r) => r.headers);
    expect(headers.map((h) => [h.ttl, h.urgency])).toEqual([
      ['86400', 'high'],
      ['86400', 'low'],
      ['60', 'very-low'],
      ['86400', 'normal'], // out-of-range values fall back rather than lose the notification
    ]);
    expect(headers[0]!.topic).toBe('show-7');
    expect(headers[1]!.topic).toMatch(/^[A-Za-z0-9_-]{32}$/); // hashed: `/` and ` ` are not allowed
    expect(headers[2]!.topic).toBe('scores');
    expect(headers[3]!.topic).toBeUndefined();
  });

  it('removes a subscription the push service answers 410 Gone for', async () => {
    const id = await subscribe();
    service.answer(id, { status: 410 });
    const result = await push.send(notification());
    expect(result).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^gone/) });
    expect(await subscriptions.list(project, 'u1')).toEqual([]);
    expect(await push.reachable(project, 'u1')).toBe(false);
    expect(events.map((e) => [e.event.type, e.event.props.status])).toEqual([['push.gone', 410]]);
  });

  it('removes one answered 404 too, and keeps the others', async () => {
    const gone = await subscribe();
    const kept = await subscribe();
    service.answer(gone, { status: 404 });
    expect(await push.send(notification())).toEqual({
      status: 'delivered',
      detail: 'subscriptions=1/2',
    });
    const left = await subscriptions.list(project, 'u1');
    expect(left.map((s) => s.endpoint)).toEqual([`${service.origin}/push/${kept}`]);
  });

  it('fails for good on 413 and keeps the subscription', async () => {
    const id = await subscribe();
    service.answer(id, { status: 413 });
    expect(await push.send(notification())).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/^payload_too_large: the push service refused \d+ bytes/),
    });
    expect(await subscriptions.list(project, 'u1')).toHaveLength(1);
  });

  it('retries a 429 after its Retry-After (seconds or HTTP-date)', async () => {
    const id = await subscribe();
    service.answer(
      id,
      { status: 429, retryAfter: '7' },
      { status: 429, retryAfter: new Date(Date.now() + 30_000).toUTCString() },
    );
    expect(await push.send(notification())).toEqual({
      status: 'retry',
      reason: 'http_429',
      afterMs: 7000,
    });
    const second = await push.send(notification());
    expect(second.status === 'retry' && second.afterMs).toBeGreaterThan(27_000);
    expect(second.status === 'retry' && second.afterMs).toBeLessThanOrEqual(30_000);
    expect(events.map((e) => e.event.type)).toEqual(['push.retry', 'push.retry']);
  });

  it('retries a 5xx (without Retry-After, delivery backs off on its own)', async () => {
    const id = await subscribe();
    service.answer(id, { status: 500 }, { status: 503, retryAfter: '2' });
    expect(await push.send(notification())).toEqual({
      status: 'retry',
      reason: 'http_500',
      afterMs: undefined,
    });
    expect(await push.send(notification())).toMatchObject({ status: 'retry', afterMs: 2000 });
  });

  it('retries when the push service cannot be reached', async () => {
    const down = await startPushService();
    await subscribe('u1', down);
    await down.close();
    expect(await push.send(notification())).toMatchObject({
      status: 'retry',
      reason: expect.stringMatching(/^network: /),
    });
    expect(events.map((e) => [e.event.type, e.event.props.status])).toEqual([['push.retry', 0]]);
  });

  it('refuses a payload over 3993 bytes with a clear reason, sending nothing', async () => {
    const id = await subscribe();
    const result = await push.send(notification({ body: 'x'.repeat(4000) }));
    expect(result).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/^payload_too_large: the notification is \d+ bytes as JSON/),
    });
    expect(result.status === 'failed' && result.reason).toContain('at most 3993');
    expect(service.receivedFor(id)).toEqual([]);
    expect(service.refused.filter((r) => r.subscriptionId === id)).toEqual([]);
    // Just under the limit still goes: the limit is the plaintext RFC 8291 allows, not less.
    const base = Buffer.byteLength(JSON.stringify(wireNotification(notification({ body: '' }))));
    expect(await push.send(notification({ body: 'y'.repeat(3993 - base) }))).toMatchObject({
      status: 'delivered',
    });
  });

  it('fails (and keeps the subscription) when the push service refuses our VAPID key', async () => {
    // A subscription made for another application server key, e.g. before keys were rotated.
    const otherKey = webpush.generateVAPIDKeys().publicKey;
    const browser = service.subscribe({ applicationServerKey: otherKey });
    await subscriptions.add(project, 'u1', parsePushSubscription(browser.subscription));
    expect(await push.send(notification())).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/^http_403/),
    });
    expect(await subscriptions.list(project, 'u1')).toHaveLength(1);
  });

  it('retries when no subscription took it but one may later', async () => {
    const failing = await subscribe();
    const busy = await subscribe();
    service.answer(failing, { status: 400 });
    service.answer(busy, { status: 503, retryAfter: '5' });
    expect(await push.send(notification())).toEqual({
      status: 'retry',
      reason: 'http_503',
      afterMs: 5000,
    });
  });

  it('is reachable only for a user with a subscription', async () => {
    expect(await push.reachable(project, 'u1')).toBe(false);
    expect(await push.send(notification())).toEqual({
      status: 'failed',
      reason: 'no_subscription',
    });
    await subscribe();
    expect(await push.reachable(project, 'u1')).toBe(true);
    expect(await push.reachable(project, 'u2')).toBe(false);
  });

  it('drops an expired subscription without sending', async () => {
    const browser = service.subscribe({ applicationServerKey: vapid.publicKey });
    await subscriptions.add(
      project,
      'u1',
      parsePushSubscription({ ...browser.subscription, expirationTime: Date.now() - 1000 }),
    );
    expect(await push.reachable(project, 'u1')).toBe(false); // the router falls back to email
    expect(await push.send(notification())).toEqual({ status: 'failed', reason: 'gone: expired' });
    expect(service.receivedFor(browser.id)).toEqual([]);
    expect(await subscriptions.list(project, 'u1')).toEqual([]);
  });
});

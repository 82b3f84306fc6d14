import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../src/cluster/memory-bus.js';
import { createMemoryPresence } from '../../src/cluster/memory-presence.js';
import { createCaps } from '../../src/notify/caps.js';
import type { Channel } from '../../src/notify/channel.js';
import { createInAppChannel } from '../../src/notify/channels/in-app/in-app.js';
import { createWebPushChannel } from '../../src/notify/channels/web-push/web-push.js';
import type { DecisionLog } from '../../src/notify/decision-log.js';
import { createDelivery } from '../../src/notify/delivery.js';
import { createInbox } from '../../src/notify/inbox.js';
import type {
  ChannelName,
  Notification,
  NotificationIntent,
} from '../../src/notify/notification.js';
import {
  createOutboundUrlGuard,
  type OutboundUrlGuard,
} from '../../src/notify/channels/web-push/outbound-url.js';
import { createPreferences } from '../../src/notify/preferences.js';
import {
  createPushSubscriptions,
  parsePushSubscription,
} from '../../src/notify/channels/web-push/push-subscriptions.js';
import { createRouter } from '../../src/notify/router.js';
import { loadVapidKeys } from '../../src/notify/channels/web-push/vapid.js';
import { createRulesService } from '../../src/rules/rules-service.js';
import { createMemoryStateStore } from '../../src/state/memory-state-store.js';
import { createTimers, type Timer } from '../../src/state/timers.js';
import { doubleEndpoints, startPushService, type PushService } from '../helpers/push-service.js';
import { event, noSegments, rule } from '../rules/rules-fixtures.js';
import { openDecisionLog } from '../helpers/decision-log.js';

/**
 * Web push end to end inside the process: a rule fires, the router picks web push for a
 * user without a live socket, delivery retries through persistent timers, and the
 * push-service double decrypts what arrives.
 */
const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'backline-web-push-'));
const project = 'p1';
const vapid = loadVapidKeys(join(dir, 'data'));
let store: Awaited<ReturnType<typeof openDecisionLog>>;
let decisions: DecisionLog;
let service: PushService;

beforeAll(async () => {
  store = await openDecisionLog(dir);
  decisions = store.decisions;
  service = await startPushService();
});
afterAll(async () => {
  await service.close();
  await store.close();
});

let presence = createMemoryPresence();
let setup: ReturnType<typeof build>;
beforeEach(() => {
  presence = createMemoryPresence();
  setup = build();
});

function build(endpoints: OutboundUrlGuard = doubleEndpoints) {
  const state = createMemoryStateStore();
  const timers = createTimers(state, log, { checkEveryMs: 20 });
  const subscriptions = createPushSubscriptions(state);
  const inApp = createInAppChannel({ bus: createMemoryBus(), presence });
  const channels = new Map<ChannelName, Channel>([
    ['in_app', inApp],
    ['web_push', createWebPushChannel({ subscriptions, vapid, endpoints })],
  ]);
  // A small base, so the delay between attempts is the push service's Retry-After.
  const delivery = createDelivery({ channels, timers, decisions, log }, { retryBaseMs: 50 });
  const inbox = createInbox(state);
  const router = createRouter({
    state,
    preferences: createPreferences(state),
    caps: createCaps(state, () => []),
    inbox,
    channels,
    delivery,
    decisions,
    timers,
  });
  return { state, timers, subscriptions, delivery, inbox, router };
}

async function subscribe(userId: string) {
  const browser = service.subscribe({ applicationServerKey: vapid.publicKey });
  await setup.subscriptions.add(project, userId, parsePushSubscription(browser.subscription));
  return browser.id;
}

async function why(userId: string, notification: string) {
  await decisions.durable();
  return (await decisions.query(project, userId, { notification }))
    .map((d) => `${d.attempt}:${d.outcome}:${d.channel}:${d.reason}`)
    .sort();
}

const showAnnounced = rule({
  name: 'show-announced',
  trigger: { kind: 'event', types: ['show.announced'] },
  audience: { kind: 'user' },
  notification: {
    category: 'shows',
    title: '{{props.artist}} announced a show',
    body: 'At {{props.venue}}',
    data: { showId: '{{props.showId}}' },
    priority: 'high',
    channels: ['in_app', 'web_push'],
  },
});

const intent = (userId: string, fields: Partial<NotificationIntent> = {}): NotificationIntent => ({
  project,
  userId,
  rule: 'r',
  category: 'shows',
  title: 'A show',
  body: '',
  data: {},
  priority: 'normal',
  dedupKey: undefined,
  channels: ['in_app', 'web_push'],
  template: undefined,
  variables: {},
  ...fields,
});

describe('web push through rules, router and delivery', () => {
  it('a rule fires for a user without a live socket: the push decrypts to the notification', async () => {
    const id = await subscribe('u1');
    const rules = createRulesService(
      {
        state: setup.state,
        timers: setup.timers,
        segments: noSegments,
        route: setup.router.route,
        log,
      },
      { [project]: [showAnnounced] },
    );
    const props = { artist: 'Nova', venue: 'The Docks', showId: 's7' };
    rules.onEvents(project, [event('show.announced', { userId: 'u1' }, props)]);
    await rules.idle();

    const [item] = (await setup.inbox.list(project, 'u1')).items;
    expect(item).toMatchObject({ title: 'Nova announced a show', body: 'At The Docks' });
    const [pushed] = service.receivedFor(id);
    expect(JSON.parse(pushed!.plaintext)).toEqual({
      id: item!.id,
      category: 'shows',
      title: 'Nova announced a show',
      body: 'At The Docks',
      data: { showId: 's7' },
      ts: item!.ts,
    });
    expect(pushed!.headers.urgency).toBe('high');
    expect(await why('u1', item!.id)).toEqual([
      '0:sent:web_push:first reachable channel',
      '1:delivered:web_push:subscriptions=1/1',
    ]);
  });

  it('the router prefers in-app while the user holds a socket, and pushes nothing', async () => {
    const id = await subscribe('u2');
    await presence.join(project, 'u2', 'socket-1');
    const n = await setup.router.route(intent('u2', { title: 'Live' }));
    expect(await why('u2', n.id)).toContain('1:delivered:in_app:online');
    expect(service.receivedFor(id)).toEqual([]);
  });

  it('retries a 429 with Retry-After: 1 no sooner than 1 s later, then delivers', async () => {
    const id = await subscribe('u3');
    service.answer(id, { status: 429, retryAfter: '1' });
    const n: Notification = {
      ...intent('u3', { title: 'Retried', body: 'after Retry-After', channels: ['web_push'] }),
      id: `n-429-${Date.now()}`,
      ts: Date.now(),
    };
    await setup.delivery.send('web_push', n);
    // The retry is a persistent timer; it is checked by hand at chosen times, as the timers'
    // interval would, so the outcome does not depend on how fast the machine runs.
    const pending = await setup.state.list<Timer>('timer/');
    expect(pending).toHaveLength(1);
    const retry = pending[0]![1];
    expect(retry.dueAt - service.receivedFor(id)[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(await setup.timers.fireDue(retry.dueAt - 1)).toBe(0);
    expect(service.receivedFor(id)).toHaveLength(1);
    expect(await setup.timers.fireDue(retry.dueAt)).toBe(1);
    const [first, second] = service.receivedFor(id);
    expect([first!.status, second!.status]).toEqual([429, 201]);
    expect(JSON.parse(second!.plaintext)).toMatchObject({ id: n.id, title: 'Retried' });
    expect(await why('u3', n.id)).toEqual([
      '1:retrying:web_push:http_429; next attempt in 1000 ms',
      '2:delivered:web_push:subscriptions=1/1',
    ]);
  });

  it('records a 410 as failed and forgets the subscription', async () => {
    const id = await subscribe('u4');
    service.answer(id, { status: 410 });
    const n = await setup.router.route(intent('u4', { title: 'Gone', channels: ['web_push'] }));
    expect(await why('u4', n.id)).toEqual([
      '0:sent:web_push:first reachable channel',
      '1:failed:web_push:gone: 410',
    ]);
    expect(await setup.subscriptions.list(project, 'u4')).toEqual([]);
  });

  it('records a push to an endpoint that now resolves to loopback as failed, and sends nothing', async () => {
    // Public when subscribed, this machine when sent to (DNS rebinding).
    let answers = 0;
    const guard = createOutboundUrlGuard({
      resolve: () =>
        Promise.resolve([{ address: answers++ === 0 ? '93.184.216.34' : '127.0.0.1', family: 4 }]),
    });
    setup = build(guard);
    const browser = service.subscribe({ applicationServerKey: vapid.publicKey });
    const endpoint = browser.subscription.endpoint.replace('http://127.0.0.1', 'https://localhost');
    await guard.check(endpoint);
    await setup.subscriptions.add(
      project,
      'u5',
      parsePushSubscription({ ...browser.subscription, endpoint }),
    );
    const n = await setup.router.route(intent('u5', { title: 'Rebound', channels: ['web_push'] }));
    expect(await why('u5', n.id)).toEqual([
      '0:sent:web_push:first reachable channel',
      expect.stringMatching(/^1:failed:web_push:endpoint_refused: loopback: localhost resolves to/),
    ]);
    expect(service.receivedFor(browser.id)).toEqual([]);
  });
});

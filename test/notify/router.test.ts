import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCaps, type Cap } from '../../src/notify/caps.js';
import type { Channel } from '../../src/notify/channel.js';
import type { DecisionLog } from '../../src/notify/decision-log.js';
import { createDelivery } from '../../src/notify/delivery.js';
import { createInbox } from '../../src/notify/inbox.js';
import type { ChannelName, NotificationIntent } from '../../src/notify/notification.js';
import { createPreferences } from '../../src/notify/preferences.js';
import { quietUntil } from '../../src/notify/quiet-hours.js';
import { createRouter, routedId } from '../../src/notify/router.js';
import { createMemoryStateStore } from '../../src/state/memory-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import { createTimers } from '../../src/state/timers.js';
import { openDecisionLog } from '../helpers/decision-log.js';
import { connect, type SocketClient } from '../helpers/socket-client.js';
import { project, startUserApp, type UserApp } from '../helpers/user-app.js';

const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'backline-router-'));
let store: Awaited<ReturnType<typeof openDecisionLog>>;
let app: UserApp;
let decisions: DecisionLog;

beforeAll(async () => {
  store = await openDecisionLog(dir);
  decisions = store.decisions;
  app = await startUserApp({ decisions });
});
afterAll(async () => {
  app.close();
  await store.close();
});

let clock = Date.parse('2026-11-25T12:00:30Z');
let caps: Cap[] = [];
let setup: ReturnType<typeof build>;

/** `wrap` stands between the router's parts and their state (to fail a write, as Redis gone does). */
function build(wrap: (state: StateStore) => StateStore = (state) => state) {
  const state = wrap(createMemoryStateStore());
  const timers = createTimers(state, log);
  const channels = new Map<ChannelName, Channel>([['in_app', app.inApp]]);
  const delivery = createDelivery({ channels, timers, decisions, log });
  const preferences = createPreferences(state);
  const inbox = createInbox(state);
  const router = createRouter({
    state,
    preferences,
    caps: createCaps(state, () => caps),
    inbox,
    channels,
    delivery,
    decisions,
    timers,
    now: () => clock,
  });
  return { router, timers, preferences, inbox, state };
}

let users = 0;
let user = '';
beforeEach(() => {
  caps = [];
  clock = Date.parse('2026-11-25T12:00:30Z');
  setup = build();
  user = `user-${++users}`;
});

const intent = (fields: Partial<NotificationIntent> = {}): NotificationIntent => ({
  project,
  userId: user,
  rule: 'r1',
  category: 'shows',
  title: 'A show',
  body: 'Tonight',
  data: {},
  priority: 'normal',
  dedupKey: undefined,
  channels: ['in_app', 'web_push', 'email'],
  template: undefined,
  variables: {},
  ...fields,
});

async function online(): Promise<SocketClient> {
  const client = await connect(`${app.wsUrl}/v1/user?token=${app.tokenFor(user)}`);
  expect(await client.nextMessage()).toMatchObject({ t: 'counts' });
  return client;
}

async function why(notification: string) {
  await decisions.durable();
  return (await decisions.query(project, user, { notification }))
    .map((d) => `${d.outcome}:${d.channel}:${d.reason.split(':')[0]}`)
    .sort();
}

describe('router', () => {
  it('delivers in-app to a user holding a live socket and records why', async () => {
    const socket = await online();
    const n = await setup.router.route(intent());
    expect(await socket.nextMessage()).toMatchObject({
      t: 'notification',
      n: { id: n.id, title: 'A show' },
    });
    expect(await why(n.id)).toEqual([
      'delivered:in_app:online',
      'sent:in_app:first reachable channel',
    ]);
    socket.close();
  });

  it('keeps it in the inbox when no channel reaches the user', async () => {
    const n = await setup.router.route(intent());
    expect((await setup.inbox.list(project, user)).items.map((i) => i.id)).toEqual([n.id]);
    expect(await why(n.id)).toEqual(['sent::inbox_only']);
  });

  it('delivers live to a socket that opened while the notification was routed inbox-only', async () => {
    // The socket opens (and its resume reads the inbox) after the router found no channel
    // and before the inbox holds the notification: neither the resume nor a live push
    // would bring it, until the next reconnect.
    let socket: SocketClient | undefined;
    setup = build((state) => ({
      ...state,
      async put(key, value) {
        if (key.startsWith('inbox/')) socket ??= await online();
        return state.put(key, value);
      },
    }));
    const n = await setup.router.route(intent());
    expect(await socket!.nextMessage(5000)).toMatchObject({ t: 'notification', n: { id: n.id } });
    expect(await why(n.id)).toEqual([
      'delivered:in_app:online',
      'sent:in_app:connected while routed',
    ]);
    socket!.close();
  });

  it('sends a de-duplication key once per user', async () => {
    const first = await setup.router.route(intent({ dedupKey: 'show-7' }));
    const second = await setup.router.route(intent({ dedupKey: 'show-7' }));
    expect((await setup.inbox.list(project, user)).items).toHaveLength(1);
    expect(await why(first.id)).toEqual(['sent::inbox_only']);
    expect(await why(second.id)).toEqual(['suppressed::duplicate']);
  });

  it('sends a de-duplication key once when its routes run at once', async () => {
    const socket = await online();
    const routed = await Promise.all(
      [1, 2, 3].map(() => setup.router.route(intent({ dedupKey: 'show-8' }))),
    );
    const first = routed[0]!;
    expect(await socket.nextMessage()).toMatchObject({ t: 'notification', n: { id: first.id } });
    const decided = await Promise.all([...new Set(routed.map((n) => n.id))].map(why));
    expect(decided.flat().sort()).toEqual([
      'delivered:in_app:online',
      'sent:in_app:first reachable channel',
      'suppressed::duplicate',
      'suppressed::duplicate',
    ]);
    expect((await setup.inbox.list(project, user)).items.map((i) => i.id)).toEqual([first.id]);
    await socket.expectNoMessage(200);
    socket.close();
  });

  it('finishes, once, a notification whose route stopped after its de-duplication claim', async () => {
    let failures = 1;
    setup = build((state) => ({
      ...state,
      async put(key, value) {
        if (key.startsWith('inbox/') && failures-- > 0) throw new Error('connection lost');
        return state.put(key, value);
      },
    }));
    const socket = await online();
    const key = { dedupKey: 'show-7' };
    await expect(setup.router.route(intent(key))).rejects.toThrow('connection lost');
    const again = await setup.router.route(intent(key)); // the firing run again after the crash
    expect(await socket.nextMessage()).toMatchObject({ t: 'notification', n: { id: again.id } });
    const third = await setup.router.route(intent(key));
    expect((await setup.inbox.list(project, user)).items.map((item) => item.id)).toEqual([
      again.id,
    ]);
    expect(await why(third.id)).toEqual(['suppressed::duplicate']);
    await socket.expectNoMessage(200);
  });

  it('answers the id a de-duplication key went out under, to a repeat too', async () => {
    const first = await setup.router.route(intent({ dedupKey: 'show-9' }));
    const repeat = await setup.router.route(intent({ dedupKey: 'show-9' }));
    expect(repeat.id).not.toBe(first.id);
    expect(await routedId(setup.state, project, user, 'show-9')).toBe(first.id);
    expect(await routedId(setup.state, project, user, 'show-10')).toBeUndefined();
  });

  it('delivers an intent kept out of the inbox live only, and suppresses it when nothing reaches the user', async () => {
    const unreachable = await setup.router.route(intent({ inbox: false }));
    expect(await why(unreachable.id)).toEqual(['suppressed::unreachable']);
    const socket = await online();
    const live = await setup.router.route(intent({ inbox: false }));
    expect(await socket.nextMessage()).toMatchObject({ t: 'notification', n: { id: live.id } });
    expect((await setup.inbox.list(project, user)).items).toEqual([]);
    socket.close();
  });

  it('suppresses the (N+1)th of a capped category within the period', async () => {
    caps = [{ category: 'promo', max: 2, periodMs: 3600_000 }];
    const sent = [];
    for (let i = 0; i < 3; i++) sent.push(await setup.router.route(intent({ category: 'promo' })));
    expect(await why(sent[2]!.id)).toEqual(['suppressed::cap']);
    clock += 3600_000;
    const later = await setup.router.route(intent({ category: 'promo' }));
    expect(await why(later.id)).toEqual(['sent::inbox_only']);
  });

  it('counts a cap exactly when a user’s routes run at once, in call order', async () => {
    caps = [{ category: 'promo', max: 2, periodMs: 3600_000 }];
    const routed = await Promise.all(
      Array.from({ length: 5 }, () => setup.router.route(intent({ category: 'promo' }))),
    );
    const decided = await Promise.all(routed.map((n) => why(n.id)));
    expect(decided.map((d) => d.join())).toEqual([
      'sent::inbox_only',
      'sent::inbox_only',
      'suppressed::cap',
      'suppressed::cap',
      'suppressed::cap',
    ]);
  });

  it('honours a category turned off, unless the notification is critical', async () => {
    await setup.preferences.put(project, user, {
      categories: { shows: { in_app: false, web_push: false, email: false } },
    });
    const normal = await setup.router.route(intent());
    expect(await why(normal.id)).toEqual(['suppressed::preference']);
    const socket = await online();
    const critical = await setup.router.route(intent({ priority: 'critical' }));
    expect(await socket.nextMessage()).toMatchObject({ t: 'notification', n: { id: critical.id } });
    socket.close();
  });

  it('defers during quiet hours to the next allowed minute in the user zone', async () => {
    // 12:00:30 UTC is 21:00:30 in Tokyo: inside 20:00–07:00 there, so due 07:00 Tokyo = 22:00 UTC.
    await setup.preferences.put(project, user, {
      quietHours: { start: '20:00', end: '07:00' },
      timeZone: 'Asia/Tokyo',
    });
    expect(
      quietUntil(clock, { quietHours: { start: '20:00', end: '07:00' }, timeZone: 'Asia/Tokyo' }),
    ).toBe(Date.parse('2026-11-25T22:00:00Z'));
    const n = await setup.router.route(intent());
    expect(await why(n.id)).toEqual(['deferred::quiet_hours']);
    expect((await setup.inbox.list(project, user)).items).toHaveLength(0);
    expect(await setup.timers.fireDue(Date.parse('2026-11-25T21:59:00Z'))).toBe(0);
    clock = Date.parse('2026-11-25T22:00:05Z');
    expect(await setup.timers.fireDue(clock)).toBe(1);
    expect((await setup.inbox.list(project, user)).items.map((i) => i.id)).toEqual([n.id]);
    expect(await why(n.id)).toEqual(['deferred::quiet_hours', 'sent::inbox_only']);
  });

  it('collects low-priority notifications into one digest per period', async () => {
    await setup.preferences.put(project, user, { digest: 'hourly' });
    const a = await setup.router.route(intent({ priority: 'low', title: 'First' }));
    const b = await setup.router.route(intent({ priority: 'low', title: 'Second' }));
    expect(await why(a.id)).toEqual(['digested::digest']);
    expect(await why(b.id)).toEqual(['digested::digest']);
    clock = Date.parse('2026-11-25T13:00:01Z');
    expect(await setup.timers.fireDue(clock)).toBe(1);
    const { items } = await setup.inbox.list(project, user);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ category: 'digest', title: '2 updates' });
    expect(items[0]!.body).toContain('First');
    expect(items[0]!.body).toContain('Second');
  });
});

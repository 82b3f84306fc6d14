import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyRegistry } from '../../../src/auth/key-registry.js';
import { createUserAuthenticator } from '../../../src/auth/user-authenticator.js';
import { createUserTokens } from '../../../src/auth/user-token.js';
import { createWebPushChannel } from '../../../src/notify/channels/web-push/web-push.js';
import { createPushSubscriptions } from '../../../src/notify/channels/web-push/push-subscriptions.js';
import { loadVapidKeys } from '../../../src/notify/channels/web-push/vapid.js';
import { createMetrics } from '../../../src/ops/metrics.js';
import { createMemoryStateStore } from '../../../src/state/memory-state-store.js';
import { registerHttpPush, type PushClickEvent } from '../../../src/transport/http/push.js';
import { loadUws } from '../../../src/transport/uws.js';
import { listenOnLoopback } from '../../helpers/loopback-app.js';
import { keys, makeNotification, project, userAppConfig } from '../../helpers/user-app.js';
import { memoryRateLimits } from '../../helpers/rate-limits.js';
import { doubleEndpoints, startPushService, type PushService } from '../../helpers/push-service.js';

const { uws } = loadUws(false);
const vapid = loadVapidKeys(mkdtempSync(join(tmpdir(), 'backline-vapid-')));
const subscriptions = createPushSubscriptions(createMemoryStateStore());
const tracked: Array<{ project: string; event: PushClickEvent }> = [];
const tokens = createUserTokens(randomBytes(32));
let server: Awaited<ReturnType<typeof listenOnLoopback>>;
let base = '';
let service: PushService;

/** The push routes on a real uWS app in this process, on a free loopback port. */
beforeAll(async () => {
  const app = uws.App();
  const config = userAppConfig();
  const auth = createKeyRegistry(config.projects);
  const log = pino({ level: 'silent' });
  const rateLimits = memoryRateLimits(config.limits);
  registerHttpPush(app, {
    auth,
    users: createUserAuthenticator({ projects: [{ id: project }], legacyTokens: tokens }),
    subscriptions,
    vapid,
    endpoints: doubleEndpoints,
    track: async (project, event) => tracked.push({ project, event }),
    metrics: createMetrics(),
    log,
    rateLimits,
  });
  server = await listenOnLoopback(uws, app);
  base = server.origin;
  service = await startPushService();
});
afterAll(async () => {
  server.close();
  await service.close();
});

const tokenFor = (userId: string) => tokens.issue(project, userId, 3600_000).token;

async function call(method: string, path: string, bearer?: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    json: (text ? JSON.parse(text) : undefined) as Record<string, unknown>,
  };
}

const browser = () => service.subscribe({ applicationServerKey: vapid.publicKey });

describe('push clicks over HTTP', () => {
  it('turns the user’s report of a click into one push.click event per notification', async () => {
    const path = '/v1/users/erin/push-clicks';
    const click = { notificationId: '000001764-abc', action: 'open' };
    expect((await call('POST', path, tokenFor('erin'), click)).status).toBe(204);
    expect(tracked.at(-1)).toEqual({
      project,
      event: {
        id: 'push-click-000001764-abc',
        type: 'push.click',
        ts: expect.any(Number),
        userId: 'erin',
        props: click,
      },
    });
    const count = tracked.length;
    expect((await call('POST', path, tokenFor('frank'), click)).json.code).toBe('FORBIDDEN');
    expect((await call('POST', path, tokenFor('erin'), {})).json.code).toBe('BAD_FRAME');
    const long = { notificationId: 'x'.repeat(129) };
    expect((await call('POST', path, tokenFor('erin'), long)).json.code).toBe('BAD_FRAME');
    expect(tracked).toHaveLength(count);
  });
});

describe('push subscriptions over HTTP', () => {
  it('serves the VAPID public key without a key', async () => {
    expect(await call('GET', '/v1/push/vapid-public-key')).toEqual({
      status: 200,
      json: { publicKey: vapid.publicKey },
    });
  });

  it('takes a PushSubscription from the user, and the channel then reaches that browser', async () => {
    const { id, subscription } = browser();
    const path = '/v1/users/alice/push-subscriptions';
    const created = await call('POST', path, tokenFor('alice'), subscription);
    expect(created.status).toBe(201);
    expect(created.json.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await call('POST', path, tokenFor('alice'), subscription)).toEqual(created);
    expect(await subscriptions.list(project, 'alice')).toHaveLength(1);

    const push = createWebPushChannel({ subscriptions, vapid, endpoints: doubleEndpoints });
    const n = makeNotification('alice', 1, { channels: ['web_push'] });
    expect(await push.send(n)).toMatchObject({ status: 'delivered' });
    expect(JSON.parse(service.receivedFor(id)[0]!.plaintext)).toMatchObject({ id: n.id });
  });

  it('takes one from the admin key, for a user id that needs URL encoding', async () => {
    const { subscription } = browser();
    const res = await call(
      'POST',
      '/v1/users/bob%20smith/push-subscriptions',
      keys.admin,
      subscription,
    );
    expect(res.status).toBe(201);
    expect(await subscriptions.list(project, 'bob smith')).toHaveLength(1);
  });

  it('refuses other callers: no credential, a read key, another user’s token', async () => {
    const { subscription } = browser();
    const path = '/v1/users/carol/push-subscriptions';
    expect((await call('POST', path, undefined, subscription)).json.code).toBe('UNAUTHORIZED');
    expect((await call('POST', path, keys.read, subscription)).json.code).toBe('FORBIDDEN');
    expect((await call('POST', path, tokenFor('dave'), subscription)).json.code).toBe('FORBIDDEN');
    expect((await call('DELETE', path, tokenFor('dave'), subscription)).status).toBe(403);
    expect(await subscriptions.list(project, 'carol')).toEqual([]);
  });

  it('refuses a bad subscription with 400 BAD_SUBSCRIPTION naming the field', async () => {
    const { subscription } = browser();
    const path = '/v1/users/erin/push-subscriptions';
    const bad = { ...subscription, keys: { ...subscription.keys, auth: 'short' } };
    expect(await call('POST', path, tokenFor('erin'), bad)).toEqual({
      status: 400,
      json: { code: 'BAD_SUBSCRIPTION', msg: expect.stringMatching(/^keys\.auth: /) },
    });
    expect((await call('POST', path, tokenFor('erin'), '{nope')).json.code).toBe('BAD_JSON');
    expect((await call('POST', path, tokenFor('erin'))).json.code).toBe('BAD_SUBSCRIPTION');
    const slash = await call(
      'POST',
      '/v1/users/a%2Fb/push-subscriptions',
      keys.admin,
      subscription,
    );
    expect(slash.json.code).toBe('BAD_QUERY');
  });

  it('deletes by endpoint: 204, then 404', async () => {
    const { subscription } = browser();
    const path = '/v1/users/frank/push-subscriptions';
    await call('POST', path, tokenFor('frank'), subscription);
    const body = { endpoint: subscription.endpoint };
    expect((await call('DELETE', path, tokenFor('frank'), body)).status).toBe(204);
    expect(await subscriptions.list(project, 'frank')).toEqual([]);
    expect(await call('DELETE', path, keys.admin, body)).toEqual({
      status: 404,
      json: { code: 'NOT_FOUND', msg: expect.any(String) },
    });
    expect((await call('DELETE', path, keys.admin, {})).json.code).toBe('BAD_SUBSCRIPTION');
    expect((await call('DELETE', path, keys.admin)).json.code).toBe('BAD_SUBSCRIPTION');
  });
});

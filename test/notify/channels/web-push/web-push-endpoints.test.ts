import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWebPushChannel } from '../../../../src/notify/channels/web-push/web-push.js';
import {
  createOutboundUrlGuard,
  type OutboundUrlGuard,
  type Resolver,
} from '../../../../src/notify/channels/web-push/outbound-url.js';
import {
  createPushSubscriptions,
  parsePushSubscription,
  type PushSubscriptions,
} from '../../../../src/notify/channels/web-push/push-subscriptions.js';
import { loadVapidKeys } from '../../../../src/notify/channels/web-push/vapid.js';
import { createMetrics, type Metrics } from '../../../../src/ops/metrics.js';
import { createMemoryStateStore } from '../../../../src/state/memory-state-store.js';
import { makeNotification, project } from '../../../helpers/user-app.js';
import { startPushService, type PushService } from '../../../helpers/push-service.js';

/**
 * The outbound URL policy at send time: the web push channel judges every endpoint again and
 * connects only to addresses its own lookup judged, so a name that resolved to a public
 * address when it was subscribed and resolves to this machine now reaches nothing.
 */
const vapid = loadVapidKeys(mkdtempSync(join(tmpdir(), 'backline-vapid-')));
let service: PushService;
/** A bare TCP listener on loopback: counts every connection, whatever is sent on it. */
let listener: Server;
let connections = 0;
let port = 0;
let subscriptions: PushSubscriptions;
let metrics: Metrics;

beforeAll(async () => {
  service = await startPushService();
  listener = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as { port: number }).port;
});
afterAll(async () => {
  await service.close();
  await new Promise((resolve) => listener.close(resolve));
});
beforeEach(() => {
  connections = 0;
  subscriptions = createPushSubscriptions(createMemoryStateStore());
  metrics = createMetrics(new Registry());
});

const channel = (endpoints: OutboundUrlGuard) =>
  createWebPushChannel({ subscriptions, vapid, endpoints, metrics });

async function refusedCount(reason: string): Promise<number> {
  const { values } = await metrics.pushEndpointsRefused.get();
  return values.find((v) => v.labels.stage === 'send' && v.labels.reason === reason)?.value ?? 0;
}

/** A browser's subscription at `endpoint`, with real keys. */
async function subscribeAt(userId: string, endpoint: string) {
  const { subscription } = service.subscribe({ applicationServerKey: vapid.publicKey });
  await subscriptions.add(project, userId, parsePushSubscription({ ...subscription, endpoint }));
}

describe('web push channel: the outbound URL policy at send time', () => {
  it('refuses a name that resolves to loopback at send time (DNS rebinding) and counts it', async () => {
    // `localhost` really is on this machine; this DNS says otherwise once, at subscribe time.
    let answers = 0;
    const rebinding: Resolver = () =>
      Promise.resolve([{ address: answers++ === 0 ? '93.184.216.34' : '127.0.0.1', family: 4 }]);
    const guard = createOutboundUrlGuard({ resolve: rebinding });
    const endpoint = `https://localhost:${port}/push/rebound`;
    await guard.check(endpoint); // judged public when subscribed
    await subscribeAt('u1', endpoint);

    const result = await channel(guard).send(makeNotification('u1', 1, { channels: ['web_push'] }));
    expect(result).toEqual({
      status: 'failed',
      reason: expect.stringMatching(
        /^endpoint_refused: loopback: localhost resolves to 127\.0\.0\.1/,
      ),
    });
    expect(answers).toBe(2); // the channel asked its own resolver, not the system's
    expect(connections).toBe(0);
    expect(await refusedCount('loopback')).toBe(1);
  });

  it('refuses a stored endpoint on an internal address without connecting', async () => {
    const guard = createOutboundUrlGuard();
    // Stored before the policy existed: the form was valid, the address never was.
    await subscribeAt('u1', `http://127.0.0.1:${port}/internal/admin?cmd=drop`);
    await subscribeAt('u1', `https://[::ffff:127.0.0.1]:${port}/push/x`);
    const result = await channel(guard).send(makeNotification('u1', 1, { channels: ['web_push'] }));
    expect(result).toMatchObject({ status: 'failed' });
    expect(result.status === 'failed' && result.reason).toContain('endpoint_refused: scheme');
    expect(result.status === 'failed' && result.reason).toContain('endpoint_refused: loopback');
    expect(connections).toBe(0);
    expect(await refusedCount('scheme')).toBe(1);
    expect(await refusedCount('loopback')).toBe(1);
  });

  it('sends only to allowed hosts when push.allowedHosts is set', async () => {
    const onlyLiteral = createOutboundUrlGuard(
      {},
      { allowInsecureLoopback: true, allowedHosts: ['127.0.0.1'] },
    );
    const allowed = service.subscribe({ applicationServerKey: vapid.publicKey });
    await subscriptions.add(project, 'u1', parsePushSubscription(allowed.subscription));
    const other = service.subscribe({ applicationServerKey: vapid.publicKey });
    const viaName = other.subscription.endpoint.replace('127.0.0.1', 'localhost');
    await subscriptions.add(
      project,
      'u2',
      parsePushSubscription({ ...other.subscription, endpoint: viaName }),
    );

    const push = channel(onlyLiteral);
    const toAllowed = makeNotification('u1', 1, { channels: ['web_push'] });
    expect(await push.send(toAllowed)).toEqual({
      status: 'delivered',
      detail: 'subscriptions=1/1',
    });
    expect(service.receivedFor(allowed.id)).toHaveLength(1);
    expect(await push.send(makeNotification('u2', 2, { channels: ['web_push'] }))).toEqual({
      status: 'failed',
      reason: 'endpoint_refused: host_not_allowed: localhost is not an allowed host',
    });
    expect(service.receivedFor(other.id)).toEqual([]);
    expect(await refusedCount('host_not_allowed')).toBe(1);
  });
});

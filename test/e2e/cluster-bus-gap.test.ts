import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertRule, startCluster, type TestCluster } from '../helpers/cluster.js';
import { userToken } from '../helpers/cluster-load.js';
import { eventually } from '../helpers/eventually.js';
import { scrape } from '../helpers/scrape.js';
import { watchNotifications, type NotificationWatch } from '../helpers/notification-watch.js';

const key = 'cluster_bus_gap_key_0123456789';
const config = {
  projects: [
    {
      id: 'gap',
      keys: [{ key, scopes: ['ingest', 'read', 'admin'] }],
      rules: [alertRule],
    },
  ],
  cluster: { leaseTtlMs: 2000 },
};
const nodes = [1, 2];

let cluster: TestCluster;
let admin: Redis;
const watches: NotificationWatch[] = [];
beforeAll(async () => {
  cluster = await startCluster({ config, key, nodes: 2 });
  admin = new Redis(cluster.redis.port, '127.0.0.1');
  // No partition moves during the test: a new owner opens a connection, refused below.
  await eventually(
    async () => (await cluster.partitionsHeld()).join() === '8,8',
    60_000,
    'the partitions spread 8/8',
    250,
  );
}, 180_000);
afterAll(async () => {
  for (const watch of watches) watch.close();
  await admin?.call('CONFIG', 'SET', 'maxclients', '10000').catch(() => undefined);
  admin?.disconnect();
  await cluster?.stop();
}, 60_000);

const alert = (n: number, id: string) =>
  fetch(`${cluster.node(n).url}/v1/events?key=${key}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ events: [{ id, type: 'alert', ts: Date.now(), userId: 'watcher' }] }),
  });
const notified = (watch: NotificationWatch) => [...watch.eventOf.values()];

/** In-app notifications delivered (published on the bus) by every node so far. */
const delivered = async () => {
  const labels = { channel: 'in_app', outcome: 'delivered' };
  const counts = await Promise.all(
    nodes.map((n) => scrape(cluster.node(n).url, 'backline_notify_decisions_total', labels)),
  );
  return counts.reduce((a, b) => a + b, 0);
};

describe('the bus connection of every node dropped alone, Redis up', () => {
  it('gives each user socket, once subscribed again, the notifications published meanwhile, once', async () => {
    const token = await userToken(cluster, key, 'watcher');
    for (const n of nodes) {
      watches.push(watchNotifications(token));
      await watches[n - 1]!.connect(cluster.node(n).wsUrl);
    }
    expect((await alert(2, 'before')).status).toBe(200);
    for (const watch of watches)
      await eventually(() => notified(watch).includes('before'), 30_000, 'the first alert');

    // The nodes' pub/sub connections are cut, and Redis takes no new connection for a while.
    const pubsub = ((await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string)
      .trim()
      .split('\n').length;
    const connected = Number(/^connected_clients:(\d+)/m.exec(await admin.info('clients'))![1]);
    await admin.call('CONFIG', 'SET', 'maxclients', String(connected - pubsub));
    try {
      expect(Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'))).toBe(pubsub);
      const before = await delivered();
      expect((await alert(2, 'missed')).status).toBe(200);
      await eventually(async () => (await delivered()) > before, 30_000, 'the publish');
      expect(watches.every((watch) => !notified(watch).includes('missed'))).toBe(true);
    } finally {
      await admin.call('CONFIG', 'SET', 'maxclients', '10000');
    }
    for (const watch of watches)
      await eventually(() => notified(watch).includes('missed'), 30_000, 'the missed notification');
    expect((await alert(1, 'after')).status).toBe(200);
    for (const watch of watches)
      await eventually(() => notified(watch).includes('after'), 30_000, 'the next alert');
    for (const watch of watches) {
      expect(notified(watch)).toEqual(['before', 'missed', 'after']);
      expect(new Set(watch.received).size).toBe(watch.received.length);
      expect(watch.open).toBe(true);
    }
  }, 180_000);
});

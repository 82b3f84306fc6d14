import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/cluster/bus.js';
import { createMemoryBus } from '../../src/cluster/memory-bus.js';
import { createRedisBus } from '../../src/cluster/redis-bus.js';
import { openRedis, type Redis } from '../../src/cluster/redis-connection.js';
import { createMetrics, type Metrics } from '../../src/ops/metrics.js';
import { eventually } from '../helpers/eventually.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

interface Node {
  bus: Bus;
  metrics: Metrics;
  /** Resolves once messages published on `channel` reach this node's subscribers. */
  listening(channel: string): Promise<void>;
}

let server: RedisServer;
let admin: Redis;
beforeAll(async () => {
  server = await startRedisServer();
  admin = await openRedis(server.url, { keyPrefix: '' });
});
afterAll(async () => {
  await admin.quit();
  await server.stop();
});

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Subscriber connections Redis counts for a full channel name. */
async function subscribers(redis: Redis, name: string): Promise<number> {
  const reply = (await redis.call('PUBSUB', 'NUMSUB', name)) as [string, number];
  return Number(reply[1]);
}

/** Connections Redis holds now. */
async function clientCounts(): Promise<{ connected: number }> {
  const info = (await admin.info('clients')) as string;
  return { connected: Number(/^connected_clients:(\d+)/m.exec(info)![1]) };
}

async function openRedisNode(prefix: string, url = server.url): Promise<Node & { redis: Redis }> {
  const metrics = createMetrics(new Registry());
  const redis = await openRedis(url, {
    keyPrefix: prefix,
    reconnectBaseMs: 10,
    reconnectMaxMs: 100,
  });
  const bus = createRedisBus(redis, { metrics });
  cleanups.push(async () => {
    await bus.close();
    await redis.quit().catch(() => redis.disconnect());
  });
  const listening = (channel: string) =>
    eventually(
      async () => (await subscribers(admin, `${prefix}bus:${channel}`)) > 0,
      10_000,
      `a subscription to ${channel}`,
    );
  return { bus, metrics, listening, redis };
}

/** One contract for every Bus (Hono's shared-suite pattern). */
const implementations: Array<[string, () => Promise<Node>]> = [
  [
    'memory',
    async () => {
      const metrics = createMetrics(new Registry());
      return { bus: createMemoryBus({ metrics }), metrics, listening: async () => undefined };
    },
  ],
  ['redis', () => openRedisNode(`t-${randomUUID()}:`)],
];

const count = async (metrics: Metrics, key: 'busMessages' | 'busMessagesLost', label: string) =>
  (await metrics[key].get()).values.find((v) => Object.values(v.labels).includes(label))?.value ??
  0;

describe.each(implementations)('Bus: %s', (_name, open) => {
  it('delivers to every subscriber of the channel, in subscription order, its own publishes included', async () => {
    const { bus, listening } = await open();
    const seen: string[] = [];
    bus.subscribe('a', (m) => seen.push(`first:${JSON.stringify(m)}`));
    bus.subscribe('a', (m) => seen.push(`second:${JSON.stringify(m)}`));
    bus.subscribe('b', (m) => seen.push(`b:${JSON.stringify(m)}`));
    await listening('a');
    await listening('b');
    bus.publish('a', { project: 'dev', results: [{ n: 1 }] });
    await eventually(() => seen.length === 2, 10_000, 'two deliveries');
    expect(seen).toEqual([
      'first:{"project":"dev","results":[{"n":1}]}',
      'second:{"project":"dev","results":[{"n":1}]}',
    ]);
  });

  it('keeps one publisher’s order', async () => {
    const { bus, listening } = await open();
    const seen: number[] = [];
    bus.subscribe('ordered', (m) => seen.push(m as number));
    await listening('ordered');
    for (let i = 0; i < 200; i++) bus.publish('ordered', i);
    await eventually(() => seen.length === 200, 10_000, '200 messages');
    expect(seen).toEqual([...Array(200).keys()]);
  });

  it('stops delivering to a subscription once it is off, leaving the others', async () => {
    const { bus, listening } = await open();
    const seen: string[] = [];
    const off = bus.subscribe('c', () => seen.push('off'));
    bus.subscribe('c', (m) => seen.push(`kept:${String(m)}`));
    await listening('c');
    off();
    off(); // a second call must not remove the other subscription
    bus.publish('c', 1);
    await eventually(() => seen.length === 1, 10_000, 'one delivery');
    expect(seen).toEqual(['kept:1']);
  });

  it('delivers to the handlers after one that throws, counting the failure', async () => {
    const { bus, metrics, listening } = await open();
    const seen: unknown[] = [];
    bus.subscribe('d', () => {
      throw new Error('handler bug');
    });
    bus.subscribe('d', (m) => seen.push(m));
    await listening('d');
    bus.publish('d', 'one');
    bus.publish('d', 'two');
    await eventually(() => seen.length === 2, 10_000, 'two deliveries');
    expect(seen).toEqual(['one', 'two']);
    expect(await count(metrics, 'busMessagesLost', 'handler_failed')).toBe(2);
    expect(await count(metrics, 'busMessages', 'out')).toBe(2);
    expect(await count(metrics, 'busMessages', 'in')).toBe(2);
  });

  it('delivers nothing after close', async () => {
    const { bus, listening } = await open();
    const seen: unknown[] = [];
    bus.subscribe('e', (m) => seen.push(m));
    await listening('e');
    await bus.close();
    bus.publish('e', 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).toEqual([]);
  });
});

describe('Redis bus', () => {
  it('lets two nodes see each other’s publishes, and not a deployment under another prefix', async () => {
    const prefix = `t-${randomUUID()}:`;
    const [a, b, other] = await Promise.all([
      openRedisNode(prefix),
      openRedisNode(prefix),
      openRedisNode(`t-${randomUUID()}:`),
    ]);
    const seen: string[] = [];
    a.bus.subscribe('w', (m) => seen.push(`a got ${String(m)}`));
    b.bus.subscribe('w', (m) => seen.push(`b got ${String(m)}`));
    other.bus.subscribe('w', (m) => seen.push(`other got ${String(m)}`));
    await eventually(
      async () => (await subscribers(admin, `${prefix}bus:w`)) === 2,
      10_000,
      'both nodes subscribed',
    );
    await other.listening('w');
    a.bus.publish('w', 'from a');
    await eventually(() => seen.length === 2, 10_000, 'a’s message on both nodes');
    b.bus.publish('w', 'from b');
    await eventually(() => seen.length === 4, 10_000, 'b’s message on both nodes');
    expect(seen.slice(0, 2).sort()).toEqual(['a got from a', 'b got from a']);
    expect(seen.slice(2).sort()).toEqual(['a got from b', 'b got from b']);
  });

  it('resolves subscribed() only once Redis holds every subscription asked for, right after the bus is made', async () => {
    const prefix = `t-${randomUUID()}:`;
    const node = await openRedisNode(prefix);
    const seen: string[] = [];
    node.bus.subscribe('k', (m) => seen.push(String(m)));
    node.bus.subscribe('j', (m) => seen.push(String(m)));
    await node.bus.subscribed!();
    expect(await subscribers(admin, `${prefix}bus:k`)).toBe(1);
    expect(await subscribers(admin, `${prefix}bus:j`)).toBe(1);
    await admin.publish(`${prefix}bus:k`, Buffer.from([0xa3, 0x6f, 0x6e, 0x65])); // msgpack 'one'
    await eventually(() => seen.length === 1, 10_000, 'the message published after subscribed()');
    expect(seen).toEqual(['one']);
  });

  it('tells onResubscribed listeners when its dropped subscriber connection subscribes again, and from when it missed', async () => {
    const prefix = `t-${randomUUID()}:`;
    const [node, publisher] = await Promise.all([openRedisNode(prefix), openRedisNode(prefix)]);
    const seen: unknown[] = [];
    const drops: number[] = [];
    node.bus.subscribe('g', (m) => seen.push(m));
    node.bus.onResubscribed!((droppedAt) => drops.push(droppedAt));
    await node.listening('g');
    // Only this node's subscriber: no new connection may join until Redis lets it.
    const { connected } = await clientCounts();
    await admin.call('CONFIG', 'SET', 'maxclients', String(connected - 1));
    const before = Date.now();
    try {
      // The one pub/sub connection: the publisher subscribed to nothing.
      expect(Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'))).toBe(1);
      await eventually(
        async () => (await subscribers(admin, `${prefix}bus:g`)) === 0,
        10_000,
        'drop',
      );
      publisher.bus.publish('g', 'missed');
      await new Promise((resolve) => setTimeout(resolve, 300)); // reconnects refused meanwhile
      expect(drops).toEqual([]);
    } finally {
      await admin.call('CONFIG', 'SET', 'maxclients', '10000');
    }
    await eventually(() => drops.length === 1, 10_000, 'the resubscription');
    expect(drops[0]).toBeGreaterThanOrEqual(before);
    publisher.bus.publish('g', 'after');
    await eventually(() => seen.includes('after'), 10_000, 'a message after it');
    expect(seen).toEqual(['after']);
  });

  it('counts a message that does not decode as lost and delivers the next', async () => {
    const prefix = `t-${randomUUID()}:`;
    const node = await openRedisNode(prefix);
    const seen: unknown[] = [];
    node.bus.subscribe('f', (m) => seen.push(m));
    await node.listening('f');
    await admin.publish(`${prefix}bus:f`, Buffer.from([0x92, 0x01])); // an array cut short
    node.bus.publish('f', 'next');
    await eventually(() => seen.length === 1, 10_000, 'the next message');
    expect(seen).toEqual(['next']);
    expect(await count(node.metrics, 'busMessagesLost', 'decode_failed')).toBe(1);
  });
});

describe('Redis bus across a Redis restart', () => {
  it('counts publishes while Redis is down as lost, and resumes delivery to every subscription after', async () => {
    const own = await startRedisServer();
    cleanups.push(() => own.stop());
    const node = await openRedisNode('t:', own.url);
    const seen: string[] = [];
    node.bus.subscribe('before', (m) => seen.push(`before:${String(m)}`));
    const check = await openRedis(own.url, { keyPrefix: '' });
    await eventually(async () => (await subscribers(check, 't:bus:before')) === 1, 10_000, 'sub');
    check.disconnect();

    await own.kill();
    await eventually(() => node.redis.status !== 'ready', 10_000, 'the client to see Redis gone');
    expect(() => node.bus.publish('before', 'while down')).not.toThrow();
    expect(await count(node.metrics, 'busMessagesLost', 'unavailable')).toBe(1);
    // Asked for while Redis is down: it must hold once Redis is back.
    node.bus.subscribe('during', (m) => seen.push(`during:${String(m)}`));
    await own.restart();

    const after = await openRedis(own.url, { keyPrefix: '' });
    cleanups.push(() => after.quit());
    await eventually(
      async () =>
        (await subscribers(after, 't:bus:before')) === 1 &&
        (await subscribers(after, 't:bus:during')) === 1,
      30_000,
      'both subscriptions back',
    );
    await eventually(
      async () => {
        node.bus.publish('before', 'after');
        return seen.includes('before:after');
      },
      30_000,
      'delivery after the restart',
      200,
    );
    node.bus.publish('during', 'after');
    await eventually(() => seen.includes('during:after'), 10_000, 'the new subscription');
    expect(seen).not.toContain('before:while down');
  });
});

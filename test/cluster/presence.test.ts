import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryPresence } from '../../src/cluster/memory-presence.js';
import type { Presence } from '../../src/cluster/presence.js';
import { openRedis, type Redis } from '../../src/cluster/redis-connection.js';
import { createRedisPresence } from '../../src/cluster/redis-presence.js';
import { eventually } from '../helpers/eventually.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server.stop());

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// Short, so a dead node's users go offline within the test; renewals still fit several times.
const timing = { heartbeatTtlMs: 1000, heartbeatEveryMs: 200 };

interface Node {
  presence: Presence;
  redis: Redis;
  nodeId: string;
}

/** A node of the deployment under `prefix`, on its own connection, as a process would be. */
async function openNode(prefix: string, url = server.url): Promise<Node> {
  const redis = await openRedis(url, {
    keyPrefix: prefix,
    reconnectBaseMs: 10,
    reconnectMaxMs: 100,
  });
  const nodeId = randomUUID();
  const presence = createRedisPresence(redis, { nodeId, ...timing });
  cleanups.push(async () => {
    await presence.close();
    await redis.quit().catch(() => redis.disconnect());
  });
  return { presence, redis, nodeId };
}

/** One contract for every Presence (Hono's shared-suite pattern). */
const implementations: Array<[string, () => Promise<Presence>]> = [
  ['memory', async () => createMemoryPresence()],
  ['redis', async () => (await openNode(`t-${randomUUID()}:`)).presence],
];

describe.each(implementations)('Presence: %s', (_name, open) => {
  it('is online while any of the user’s sockets is joined', async () => {
    const presence = await open();
    expect(await presence.online('dev', 'u1')).toBe(false);
    await presence.join('dev', 'u1', 's1');
    await presence.join('dev', 'u1', 's2');
    expect(await presence.online('dev', 'u1')).toBe(true);
    await presence.leave('dev', 'u1', 's1');
    expect(await presence.online('dev', 'u1')).toBe(true);
    await presence.leave('dev', 'u1', 's2');
    expect(await presence.online('dev', 'u1')).toBe(false);
  });

  it('keeps projects and users apart', async () => {
    const presence = await open();
    await presence.join('dev', 'u1', 's1');
    expect(await presence.online('dev', 'u2')).toBe(false);
    expect(await presence.online('other', 'u1')).toBe(false);
  });

  it('never counts below zero: leaving twice, or a socket that never joined, changes nothing', async () => {
    const presence = await open();
    await presence.leave('dev', 'u1', 'never-joined');
    await presence.join('dev', 'u1', 's1');
    await presence.leave('dev', 'u1', 's1');
    await presence.leave('dev', 'u1', 's1');
    await presence.join('dev', 'u1', 's2');
    expect(await presence.online('dev', 'u1')).toBe(true);
    await presence.leave('dev', 'u1', 's2');
    expect(await presence.online('dev', 'u1')).toBe(false);
  });

  it('counts a socket that joins twice once', async () => {
    const presence = await open();
    await presence.join('dev', 'u1', 's1');
    await presence.join('dev', 'u1', 's1');
    await presence.leave('dev', 'u1', 's1');
    expect(await presence.online('dev', 'u1')).toBe(false);
  });
});

describe('Redis presence', () => {
  it('answers the same on every node', async () => {
    const prefix = `t-${randomUUID()}:`;
    const [a, b] = await Promise.all([openNode(prefix), openNode(prefix)]);
    await a.presence.join('dev', 'u1', 'a1');
    expect(await b.presence.online('dev', 'u1')).toBe(true);
    await b.presence.join('dev', 'u1', 'b1');
    await a.presence.leave('dev', 'u1', 'a1');
    expect(await a.presence.online('dev', 'u1')).toBe(true);
    await b.presence.leave('dev', 'u1', 'b1');
    expect(await a.presence.online('dev', 'u1')).toBe(false);
    expect(await b.presence.online('dev', 'u1')).toBe(false);
    expect(await a.redis.exists('presence:dev:u1')).toBe(0);
  });

  it('takes a node that stops heartbeating offline, keeping the users of the living', async () => {
    const prefix = `t-${randomUUID()}:`;
    const [dying, living, observer] = await Promise.all([
      openNode(prefix),
      openNode(prefix),
      openNode(prefix),
    ]);
    await dying.presence.join('dev', 'u1', 'd1');
    await dying.presence.join('dev', 'shared', 'd2');
    await living.presence.join('dev', 'shared', 'l1');
    expect(await living.presence.online('dev', 'u1')).toBe(true);

    dying.redis.disconnect(); // as a crash: no leave, no close, no more heartbeats
    await eventually(
      async () => !(await living.presence.online('dev', 'u1')),
      30_000,
      'the dead node’s user to go offline',
    );
    // Asked where the user has no socket of its own, so the answer comes from Redis.
    expect(await observer.presence.online('dev', 'shared')).toBe(true);
    // The dead node's fields are gone, not just ignored.
    expect(await living.redis.hkeys('presence:dev:shared')).toEqual([living.nodeId]);
    expect(await living.redis.hkeys('presence:dev:u1')).toEqual([]);
  });

  it('writes its users again when its heartbeat had expired and another node dropped them', async () => {
    const prefix = `t-${randomUUID()}:`;
    const [a, b] = await Promise.all([openNode(prefix), openNode(prefix)]);
    await a.presence.join('dev', 'u1', 'a1');
    await b.redis.del(`node:${a.nodeId}`); // as an outage longer than the heartbeat TTL
    expect(await b.presence.online('dev', 'u1')).toBe(false);
    await eventually(() => b.presence.online('dev', 'u1'), 30_000, 'a’s user back online');
  });

  it('corrects counts that changed while Redis was down', async () => {
    const own = await startRedisServer();
    cleanups.push(() => own.stop());
    const [a, b] = await Promise.all([openNode('t:', own.url), openNode('t:', own.url)]);
    await a.presence.join('dev', 'left-meanwhile', 'a1');
    expect(await b.presence.online('dev', 'left-meanwhile')).toBe(true);

    await own.kill();
    await a.presence.leave('dev', 'left-meanwhile', 'a1'); // resolves; the write waits
    await a.presence.join('dev', 'came-meanwhile', 'a2');
    await expect(b.presence.online('dev', 'came-meanwhile')).rejects.toThrow();
    await own.restart();

    await eventually(
      async () =>
        (await b.presence.online('dev', 'came-meanwhile').catch(() => false)) &&
        !(await b.presence.online('dev', 'left-meanwhile')),
      30_000,
      'the counts from while Redis was down',
    );
  });

  it('takes a closed node’s users offline at once', async () => {
    const prefix = `t-${randomUUID()}:`;
    const [a, b] = await Promise.all([openNode(prefix), openNode(prefix)]);
    await a.presence.join('dev', 'u1', 'a1');
    await a.presence.close();
    expect(await b.presence.online('dev', 'u1')).toBe(false);
    expect(await b.redis.exists(`node:${a.nodeId}`, 'presence:dev:u1')).toBe(0);
  });
});

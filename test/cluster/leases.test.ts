import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Leases } from '../../src/cluster/leases.js';
import { createMemoryLeases } from '../../src/cluster/memory-leases.js';
import { openRedis, type Redis } from '../../src/cluster/redis-connection.js';
import { createRedisLeases } from '../../src/cluster/redis-leases.js';
import { createMetrics, type Metrics } from '../../src/ops/metrics.js';
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

// Short, so takeovers happen within a test; the margin leaves room for a loaded machine.
const timing = { ttlMs: 1500, safetyMarginMs: 300 };

interface Node {
  leases: Leases;
  redis: Redis;
  nodeId: string;
  metrics: Metrics;
}

async function openNode(prefix: string, url = server.url): Promise<Node> {
  const redis = await openRedis(url, {
    keyPrefix: prefix,
    reconnectBaseMs: 10,
    reconnectMaxMs: 100,
  });
  const nodeId = randomUUID();
  const metrics = createMetrics(new Registry());
  const leases = createRedisLeases(redis, { nodeId, ...timing }, { metrics });
  cleanups.push(async () => {
    await leases.close();
    await redis.quit().catch(() => redis.disconnect());
  });
  return { leases, redis, nodeId, metrics };
}

/** Handlers that write `<who>:acquired` and `<who>:lost` into one shared log. */
const recordTo = (log: string[], who: string) => ({
  acquired: () => void log.push(`${who}:acquired`),
  lost: () => void log.push(`${who}:lost`),
});

/** Samples `holds` of every node until stopped; counts the samples where two held at once. */
function watchHolders(nodes: Node[], name: string) {
  let both = 0;
  let samples = 0;
  const timer = setInterval(() => {
    samples++;
    if (nodes.filter((node) => node.leases.holds(name)).length > 1) both++;
  }, 5);
  return {
    stop: () => {
      clearInterval(timer);
      return { both, samples };
    },
  };
}

/** One contract for every Leases (Hono's shared-suite pattern). */
const implementations: Array<[string, () => Promise<Leases>]> = [
  ['memory', async () => createMemoryLeases()],
  ['redis', async () => (await openNode(`t-${randomUUID()}:`)).leases],
];

describe.each(implementations)('Leases: %s', (_name, open) => {
  it('holds a lease alone, calls acquired, then lost on close', async () => {
    const leases = await open();
    const log: string[] = [];
    leases.hold('timers', recordTo(log, 'me'));
    await eventually(() => leases.holds('timers'), 10_000, 'the lease');
    expect(log).toEqual(['me:acquired']);
    expect(leases.holds('other')).toBe(false);
    await leases.close();
    expect(leases.holds('timers')).toBe(false);
    expect(log).toEqual(['me:acquired', 'me:lost']);
  });

  it('calls lost only after an acquired that is still running has returned', async () => {
    const leases = await open();
    const log: string[] = [];
    let finish = () => {};
    leases.hold('slow', {
      acquired: async () => {
        log.push('acquired:start');
        await new Promise<void>((resolve) => (finish = resolve));
        log.push('acquired:end');
      },
      lost: () => void log.push('lost'),
    });
    await eventually(() => log.length === 1, 10_000, 'acquired to start');
    const closing = leases.close();
    setTimeout(() => finish(), 50);
    await closing;
    expect(log).toEqual(['acquired:start', 'acquired:end', 'lost']);
  });

  it('release: lost runs and returns, then the lease is competed for again', async () => {
    const leases = await open();
    const log: string[] = [];
    leases.hold('handed', {
      acquired: () => void log.push('acquired'),
      lost: async () => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        log.push('lost');
      },
    });
    await eventually(() => leases.holds('handed'), 10_000, 'the lease');
    await leases.release('handed');
    expect(log.slice(0, 2)).toEqual(['acquired', 'lost']);
    // The only competitor: it takes the lease again.
    await eventually(() => log.length === 3, 10_000, 'the lease again');
    expect(log).toEqual(['acquired', 'lost', 'acquired']);
    await leases.release('not-held'); // nothing to hand over
  });

  it('refuses to hold one name twice', async () => {
    const leases = await open();
    leases.hold('once', recordTo([], 'me'));
    expect(() => leases.hold('once', recordTo([], 'me'))).toThrow(/already held/);
  });
});

describe('Redis leases', () => {
  it('lets exactly one of two competitors hold, and counts it', async () => {
    const prefix = `t-${randomUUID()}:`;
    const [a, b] = await Promise.all([openNode(prefix), openNode(prefix)]);
    const log: string[] = [];
    const watch = watchHolders([a, b], 'w');
    a.leases.hold('w', recordTo(log, 'a'));
    b.leases.hold('w', recordTo(log, 'b'));
    await eventually(() => log.length === 1, 10_000, 'one holder');
    // Several TTLs: renewals keep the holder, the other keeps trying and never wins.
    await new Promise((resolve) => setTimeout(resolve, 3 * timing.ttlMs));
    const { both, samples } = watch.stop();
    expect(samples).toBeGreaterThan(50);
    expect(both).toBe(0);
    expect(log).toHaveLength(1);
    const holder = log[0] === 'a:acquired' ? a : b;
    expect(await a.redis.get('lease:w')).toBe(holder.nodeId);
    const held = (await holder.metrics.leasesHeld.get()).values;
    expect(held).toEqual([{ labels: { name: 'w' }, value: 1 }]);
  });

  it('hands over at once when the holder closes: released, lost before the other acquires', async () => {
    const prefix = `t-${randomUUID()}:`;
    const [a, b] = await Promise.all([openNode(prefix), openNode(prefix)]);
    const log: string[] = [];
    a.leases.hold('w', recordTo(log, 'a'));
    await eventually(() => a.leases.holds('w'), 10_000, 'a to hold');
    b.leases.hold('w', recordTo(log, 'b'));
    await a.leases.close();
    // Released, not left to expire: the key is gone or already b's.
    expect(await b.redis.get('lease:w')).not.toBe(a.nodeId);
    await eventually(() => b.leases.holds('w'), 10_000, 'b to take over');
    expect(log).toEqual(['a:acquired', 'a:lost', 'b:acquired']);
  });

  it('release hands over to a competitor: deleted only after lost returned, not taken back while compete says no', async () => {
    const prefix = `t-${randomUUID()}:`;
    const [a, b] = await Promise.all([openNode(prefix), openNode(prefix)]);
    const log: string[] = [];
    let aWants = true;
    a.leases.hold(
      'w',
      {
        acquired: () => void log.push('a:acquired'),
        lost: async () => {
          await new Promise((resolve) => setTimeout(resolve, 200));
          // The lease is still a's while its work stops (the owner commits its cursor here).
          log.push(`a:lost while ${await b.redis.get('lease:w')}`);
        },
      },
      { compete: () => aWants },
    );
    await eventually(() => a.leases.holds('w'), 10_000, 'a to hold');
    b.leases.hold('w', recordTo(log, 'b'));
    aWants = false;
    await a.leases.release('w');
    await eventually(() => b.leases.holds('w'), 10_000, 'b to take it');
    await new Promise((resolve) => setTimeout(resolve, 2 * timing.ttlMs));
    expect(log).toEqual(['a:acquired', `a:lost while ${a.nodeId}`, 'b:acquired']);
    expect(a.leases.holds('w')).toBe(false);
  });

  it('loses the lease at once when its value changed under it', async () => {
    const prefix = `t-${randomUUID()}:`;
    const a = await openNode(prefix);
    const log: string[] = [];
    a.leases.hold('w', recordTo(log, 'a'));
    await eventually(() => a.leases.holds('w'), 10_000, 'a to hold');
    await a.redis.set('lease:w', 'someone-else', 'PX', 60_000);
    await eventually(() => log.length === 2, 10_000, 'a to notice');
    expect(log).toEqual(['a:acquired', 'a:lost']);
    expect(a.leases.holds('w')).toBe(false);
    const changes = (await a.metrics.leaseChanges.get()).values.map((v) => v.labels.change);
    expect(changes.sort()).toEqual(['acquired', 'lost']);
  });

  it('lets a holder that stopped without releasing (kill -9) lose before the other acquires', async () => {
    const prefix = `t-${randomUUID()}:`;
    const [a, b] = await Promise.all([openNode(prefix), openNode(prefix)]);
    const log: string[] = [];
    a.leases.hold('w', recordTo(log, 'a'));
    await eventually(() => a.leases.holds('w'), 10_000, 'a to hold');
    const watch = watchHolders([a, b], 'w');
    b.leases.hold('w', recordTo(log, 'b'));
    a.redis.disconnect(); // no release, no more renewals: only the TTL frees the lease
    await eventually(() => b.leases.holds('w'), 30_000, 'b to take over after the TTL');
    expect(watch.stop().both).toBe(0);
    expect(log).toEqual(['a:acquired', 'a:lost', 'b:acquired']);
    expect(await b.redis.get('lease:w')).toBe(b.nodeId);
  });

  it('gives the lease up while Redis is unreachable, before anyone can take it again', async () => {
    const own = await startRedisServer();
    cleanups.push(() => own.stop());
    const [a, b] = await Promise.all([openNode('t:', own.url), openNode('t:', own.url)]);
    const log: string[] = [];
    a.leases.hold('w', recordTo(log, 'a'));
    await eventually(() => a.leases.holds('w'), 10_000, 'a to hold');
    b.leases.hold('w', recordTo(log, 'b'));
    const watch = watchHolders([a, b], 'w');

    await own.kill();
    await eventually(() => log.includes('a:lost'), 30_000, 'a to give up without Redis');
    await own.restart();
    await eventually(() => log.length === 3, 30_000, 'a holder again after the restart');
    expect(watch.stop().both).toBe(0);
    // Either may win (the key may still be a's when Redis is back), but only after a:lost.
    expect(log.slice(0, 2)).toEqual(['a:acquired', 'a:lost']);
    expect(['a:acquired', 'b:acquired']).toContain(log[2]);
  });
});

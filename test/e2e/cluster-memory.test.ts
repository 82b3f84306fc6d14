import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { printTable, startLoad, storedEvents, type Load } from '../helpers/cluster-load.js';
import { eventually } from '../helpers/eventually.js';
import { eventOutcome } from '../helpers/fault-outcome.js';
import { scrapeAll } from '../helpers/scrape.js';
import { withTimeout } from '../helpers/socket-client.js';

const key = 'cluster_memory_key_0123456789';
const project = 'mem';
const maxLogEntries = 250; // cluster.maxLogEntries: entries over every log:<p> before BACKPRESSURE
const dedupWindowMs = 3000; // storage.dedupWindowMs: an id's de-dup set expires 2 windows after its last add
const config = {
  projects: [
    {
      id: project,
      keys: [{ key, scopes: ['ingest', 'read', 'admin'] }],
      streams: [
        {
          name: 'loads',
          source: { types: ['load'] },
          groupBy: ['props.g'],
          window: { kind: 'tumbling', sizeMs: 1000 },
          aggregates: [{ name: 'n', fn: 'count' }],
        },
      ],
    },
  ],
  storage: { dedupWindowMs },
  cluster: { leaseTtlMs: 2000, maxLogEntries },
};
const nodes = [1, 2, 3];
const pad = 600; // characters of filler per event: megabytes go through Redis

let cluster: TestCluster;
let redis: Redis;
const loads: Load[] = [];

beforeAll(async () => {
  cluster = await startCluster({ config, key });
  redis = new Redis(cluster.redis.port, '127.0.0.1');
}, 180_000);
afterAll(async () => {
  for (const load of loads) {
    load.stop();
    load.client.close();
  }
  redis?.disconnect();
  await cluster?.stop();
}, 60_000);

/** Entries over every partition's log right now. */
async function logLength(): Promise<number> {
  const pipeline = redis.pipeline();
  for (let p = 0; p < 16; p++) pipeline.xlen(`bl:log:${p}`);
  const replies = (await pipeline.exec()) ?? [];
  return replies.reduce((sum, [, length]) => sum + Number(length), 0);
}

const usedMemory = async () =>
  Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1] ?? NaN);

/** Frames appended to the log by every node, heap and RSS of each node (MB). */
async function nodeFigures() {
  const samples = await Promise.all(nodes.map((n) => scrapeAll(cluster.node(n).url)));
  const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
  return {
    appended: samples.reduce(
      (sum, sample) => sum + sample('backline_cluster_log_appends_total', { outcome: 'appended' }),
      0,
    ),
    heap: samples.map((sample) => mb(sample('nodejs_heap_size_used_bytes'))),
    rss: samples.map((sample) => mb(sample('process_resident_memory_bytes'))),
  };
}

describe('memory under a steady load', () => {
  it('keeps the event log under cluster.maxLogEntries (trimmed, or BACKPRESSURE), de-dup sets expire, node heaps level off', async () => {
    const redisBefore = await usedMemory();
    // Three clients, 600 events/s in frames of a few events: many more log entries than
    // maxLogEntries go through, each event with `pad` bytes of filler.
    for (let i = 0; i < 3; i++)
      loads.push(startLoad(cluster, key, { perTick: 4, everyMs: 20, alertEvery: 1e9, pad }));
    let longest = 0;
    const sampler = setInterval(
      () => void logLength().then((length) => (longest = Math.max(longest, length))),
      100,
    );
    try {
      await eventually(
        async () => (await nodeFigures()).appended >= maxLogEntries,
        120_000,
        'the first entries',
        500,
      );
      const warm = await nodeFigures();
      await eventually(
        async () => (await nodeFigures()).appended >= warm.appended + 4 * maxLogEntries,
        180_000,
        `${4 * maxLogEntries} more entries`,
        500,
      );
      for (const load of loads) load.stop();
      for (const load of loads) await withTimeout(load.client.flush(), 120_000, 'flush');
      const loaded = await nodeFigures();
      const redisLoaded = await usedMemory();
      // Once consumed, the logs are trimmed to nothing and the de-dup sets expire.
      await eventually(async () => (await logLength()) === 0, 60_000, 'the logs trimmed', 250);
      await eventually(
        async () => (await redis.keys('bl:dedup:*')).length === 0,
        6 * dedupWindowMs,
        'the de-dup sets expired',
        250,
      );
      clearInterval(sampler);
      const redisAfter = await usedMemory();
      const acked = loads.flatMap((load) => [...load.watch.acked]);
      const stored = await storedEvents(cluster, project);
      const events = eventOutcome(acked, stored);
      printTable(`memory (maxLogEntries ${maxLogEntries}, dedupWindowMs ${dedupWindowMs}):`, {
        'events acked / stored': `${acked.length} / ${events.stored}`,
        'event bytes through the log (MB, filler only)': ((acked.length * pad) / 2 ** 20).toFixed(
          1,
        ),
        'log entries appended': loaded.appended,
        'longest log seen (entries)': longest,
        'Redis used_memory before / loaded / after (MB)': [redisBefore, redisLoaded, redisAfter]
          .map((bytes) => (bytes / 2 ** 20).toFixed(1))
          .join(' / '),
        'node heap warm → end (MB)': `${warm.heap.join(', ')} → ${loaded.heap.join(', ')}`,
        'node RSS warm → end (MB)': `${warm.rss.join(', ')} → ${loaded.rss.join(', ')}`,
      });
      expect(events.lost).toEqual([]);
      expect(events.doubled).toEqual([]);
      // The bound is a sampled check (every second), so an overshoot of about a second of
      // appends is allowed; without trimming the load could not have gone on past it.
      expect(loaded.appended).toBeGreaterThan(4 * maxLogEntries);
      expect(longest).toBeLessThanOrEqual(2 * maxLogEntries);
      // What stays in Redis is the small shared state, not the events that went through.
      expect(redisAfter - redisBefore).toBeLessThan(4 * 2 ** 20);
      for (const i of [0, 1, 2]) expect(loaded.heap[i]! - warm.heap[i]!).toBeLessThan(128);
    } finally {
      clearInterval(sampler);
    }
  }, 420_000);
});

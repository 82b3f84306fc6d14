import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventAt, openProducer } from '../helpers/live-client.js';
import { openDashboard, startLoad, tcpOf } from '../helpers/live-load.js';
import { eventually } from '../helpers/eventually.js';
import { scrape } from '../helpers/scrape.js';
import { connect } from '../helpers/socket-client.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';

const key = 'slow_reader_key_0123456789';
// The load: frames of 200 events over 2,000 group keys every 50 ms, so every early tick
// (50 ms) updates a few hundred windows. With 100-character keys and 64-character
// subscription ids, a dashboard of 8 widgets is sent over 1 MB/s: a paused one falls behind
// within seconds, while the server stays far from saturated. How fast is for bench/.
const keys = 2000;
const load = { keys, eventsPerFrame: 200, paceMs: 50, type: 'tick' };
const config = {
  projects: [
    {
      id: 'wall',
      keys: [{ key, scopes: ['ingest', 'read'] }],
      streams: [
        {
          name: 'per_key',
          source: { types: ['tick'] },
          groupBy: ['props.k'],
          window: { kind: 'tumbling', sizeMs: 1000 },
          aggregates: [{ name: 'n', fn: 'count' }],
          outOfOrderMs: 200,
          idleTickMs: 200,
          allowedLatenessMs: 0,
          emit: { mode: 'early', everyMs: 50 },
        },
      ],
    },
  ],
  storage: { flushIntervalMs: 10 },
};

function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) * 1024;
}

let server: ServerProcess;

beforeAll(async () => {
  server = await startServer({ config });
});

afterAll(async () => {
  await server?.stop();
  removeDir(server.dataDir);
});

describe('a slow dashboard', () => {
  it('does not hold up ingest or other dashboards, stays bounded, and catches up', async () => {
    const liveUrl = `${server.wsUrl}/v1/live?key=${key}`;
    const healthy = await openDashboard(liveUrl, 'per_key');
    const slow = await openDashboard(liveUrl, 'per_key', 8);
    const ingest = await connect(`${server.wsUrl}/v1/ingest?key=${key}`);
    const sender = startLoad(ingest, load);
    try {
      await eventually(
        async () => healthy.windows > keys && slow.windows > keys,
        20_000,
        'updates to both dashboards',
      );
      const rssBefore = rssBytes(server.child.pid!);

      tcpOf(slow).pause();
      await eventually(
        async () => (await scrape(server.url, 'backline_live_slow_consumers')) >= 1,
        30_000,
        'the paused dashboard to count as slow',
      );
      // From here on the paused dashboard is off the topics: what follows must not wait on it.
      const acksBefore = sender.load.acks;
      const healthyBefore = healthy.windows;
      const fresh = await openDashboard(liveUrl, 'per_key');
      await eventually(
        async () =>
          sender.load.acks > acksBefore &&
          healthy.windows - healthyBefore > keys &&
          fresh.windows > 0,
        20_000,
        'ingest acks and updates to the other dashboards while one is stalled',
      );
      expect(await scrape(server.url, 'backline_live_slow_consumers')).toBe(1);
      const coalesced = await scrape(server.url, 'backline_live_updates_coalesced_total');
      const dropped = await scrape(server.url, 'backline_live_updates_dropped_total');
      expect(coalesced + dropped).toBeGreaterThan(0);
      expect(rssBytes(server.child.pid!) - rssBefore).toBeLessThan(200 * 2 ** 20);
      fresh.ws.close();
    } finally {
      sender.stop();
    }

    // Resumed, the reader drains what it missed and rejoins the live updates.
    const slowBefore = slow.windows;
    tcpOf(slow).resume();
    await eventually(
      async () => (await scrape(server.url, 'backline_live_slow_consumers')) === 0,
      20_000,
      'the slow dashboard to catch up',
    );
    expect(slow.windows).toBeGreaterThan(slowBefore);
    const producer = await openProducer(server.wsUrl, key);
    await producer.send([eventAt('tick', Date.now(), { k: 'after-resume' })]);
    await eventually(
      async () => slow.keys.has('after-resume'),
      10_000,
      'a live update after catching up',
    );
    await sender.settled();
    expect(sender.load.error).toBeUndefined();
    expect(sender.load.acks).toBe(sender.load.sent);
    expect([...healthy.errors, ...slow.errors]).toEqual([]);
    for (const client of [healthy, slow]) client.ws.close();
    ingest.close();
    producer.close();
  });
});

import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { Packr, unpack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { eventAt, openProducer, type LiveWindow, type Producer } from '../helpers/live-client.js';
import { eventually } from '../helpers/eventually.js';
import { scrape } from '../helpers/scrape.js';
import { withTimeout, type Message } from '../helpers/socket-client.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';

const key = 'slow_reader_key_0123456789';
// The load: frames of 200 events over 2,000 group keys, at most one frame per 50 ms, so every
// early tick (50 ms) updates a few hundred windows. With 100-character keys and 64-character
// subscription ids, a dashboard of 8 widgets is sent over 1 MB/s: a paused one falls behind
// within about a second, while the server stays far from saturated.
const keys = 2000;
const eventsPerFrame = 200;
const paceMs = 50;
const keyName = (i: number) => `key-${i}-`.padEnd(100, 'x');
// One-event frames per ack-latency measurement (its median).
const probes = 50;
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
  // A shorter batching timer keeps the ack-latency samples, and so the test, short.
  storage: { flushIntervalMs: 10 },
};

/** A dashboard that counts window updates and the longest silence between two of them. */
interface Dashboard {
  readonly ws: WebSocket;
  windows: number;
  maxGapMs: number;
  lastAt: number;
  keys: Set<string>;
  /** Anything but snapshots and window updates. */
  errors: Message[];
}

const packr = new Packr();

/**
 * Opens `/v1/live` with `widgets` subscriptions to the stream, as a dashboard with that many
 * panels: each gets every update. Long ids make every update bigger, so a stalled socket
 * backs up within a second or two.
 */
async function openDashboard(url: string, widgets = 1): Promise<Dashboard> {
  const ws = new WebSocket(url);
  const dashboard: Dashboard = {
    ws,
    windows: 0,
    maxGapMs: 0,
    lastAt: 0,
    keys: new Set(),
    errors: [],
  };
  let snapshots = 0;
  let ready: (() => void) | undefined;
  ws.on('message', (data: Buffer) => {
    const message = unpack(data) as Message;
    if (message.t === 'snapshot') return ++snapshots === widgets && ready?.();
    if (message.t !== 'window') return dashboard.errors.push(message);
    const now = performance.now();
    if (dashboard.lastAt > 0)
      dashboard.maxGapMs = Math.max(dashboard.maxGapMs, now - dashboard.lastAt);
    dashboard.lastAt = now;
    dashboard.windows += 1;
    dashboard.keys.add((message.w as LiveWindow).key);
  });
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.once('open', () => {
        ready = resolve;
        for (let i = 0; i < widgets; i++)
          ws.send(packr.pack({ t: 'sub', id: `widget-${i}-`.padEnd(64, 'x'), stream: 'per_key' }));
      });
    }),
    10_000,
    'the snapshots',
  );
  return dashboard;
}

/** The TCP socket under a `ws` client: pausing it makes a real slow reader. */
const tcp = (dashboard: Dashboard) => (dashboard.ws as unknown as { _socket: Socket })._socket;

/**
 * Sends a frame of events over the next keys every `paceMs` (or as fast as acks allow),
 * until stopped: a steady load that keeps every dashboard busy without saturating the server.
 * `maxGapMs` is the longest wait between two acks, the longest the dashboards could go
 * without an update through no fault of the server's fan-out.
 */
function startLoad(producer: Producer) {
  let running = true;
  let offset = 0;
  let lastAck = performance.now();
  const load = { maxGapMs: 0, done: Promise.resolve() };
  load.done = (async () => {
    while (running) {
      const next = performance.now() + paceMs;
      const ts = Date.now();
      const events = Array.from({ length: eventsPerFrame }, (_, i) =>
        eventAt('tick', ts, { k: keyName((offset + i) % keys) }),
      );
      offset += eventsPerFrame;
      await producer.send(events);
      load.maxGapMs = Math.max(load.maxGapMs, performance.now() - lastAck);
      lastAck = performance.now();
      const wait = next - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();
  return {
    load,
    stop: async () => {
      running = false;
      await load.done;
    },
  };
}

/** Median ack latency of `frames` one-event frames sent one at a time. */
async function ackP50(producer: Producer, frames: number): Promise<number> {
  const latencies: number[] = [];
  for (let i = 0; i < frames; i++) {
    const sentAt = performance.now();
    await producer.send([eventAt('probe', Date.now())]);
    latencies.push(performance.now() - sentAt);
  }
  latencies.sort((a, b) => a - b);
  return latencies[Math.floor(frames / 2)]!;
}

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
  it('does not slow ingest or other dashboards, stays bounded, and catches up', async () => {
    const liveUrl = `${server.wsUrl}/v1/live?key=${key}`;
    const healthy = await openDashboard(liveUrl);
    const slow = await openDashboard(liveUrl, 8);
    const loader = await openProducer(server.wsUrl, key);
    const probe = await openProducer(server.wsUrl, key);
    const { load, stop } = startLoad(loader);
    try {
      await eventually(
        async () => healthy.windows > keys && slow.windows > keys,
        10_000,
        'updates to both dashboards',
      );
      const baseline = await ackP50(probe, probes);
      const rssBefore = rssBytes(server.child.pid!);

      tcp(slow).pause();
      const pausedAt = performance.now();
      const healthyBefore = healthy.windows;
      healthy.maxGapMs = 0;
      load.maxGapMs = 0;
      await eventually(
        async () => (await scrape(server.url, 'backline_live_slow_consumers')) >= 1,
        15_000,
        'the paused dashboard to count as slow',
      );
      const detectedMs = performance.now() - pausedAt;
      const fresh = await openDashboard(liveUrl);
      const whilePaused = await ackP50(probe, probes);

      const rssAfter = rssBytes(server.child.pid!);
      const coalesced = await scrape(server.url, 'backline_live_updates_coalesced_total');
      const dropped = await scrape(server.url, 'backline_live_updates_dropped_total');
      console.log(
        `slow reader: ack p50 ${baseline.toFixed(1)} ms, ${whilePaused.toFixed(1)} ms paused; ` +
          `slow after ${detectedMs.toFixed(0)} ms; coalesced ${coalesced}, dropped ${dropped}; ` +
          `RSS ${(rssBefore / 2 ** 20).toFixed(0)} → ${(rssAfter / 2 ** 20).toFixed(0)} MiB; ` +
          `longest silence ${healthy.maxGapMs.toFixed(0)} ms (load ${load.maxGapMs.toFixed(0)} ms)`,
      );
      expect(whilePaused).toBeLessThanOrEqual(Math.max(2 * baseline, baseline + 50));
      expect(coalesced + dropped).toBeGreaterThan(0);
      expect(rssAfter - rssBefore).toBeLessThan(200 * 2 ** 20);
      // The other dashboards were served all along: no silence longer than the load's own.
      expect(healthy.windows - healthyBefore).toBeGreaterThan(keys);
      expect(healthy.maxGapMs).toBeLessThan(Math.max(1000, load.maxGapMs + 500));
      expect(fresh.windows).toBeGreaterThan(0);
      fresh.ws.close();
    } finally {
      await stop();
    }

    // Resumed, the reader drains its queue and rejoins the live updates.
    const slowBefore = slow.windows;
    tcp(slow).resume();
    await eventually(
      async () => (await scrape(server.url, 'backline_live_slow_consumers')) === 0,
      10_000,
      'the slow dashboard to catch up',
    );
    expect(slow.windows).toBeGreaterThan(slowBefore);
    await loader.send([eventAt('tick', Date.now(), { k: 'after-resume' })]);
    await eventually(
      async () => slow.keys.has('after-resume'),
      5000,
      'a live update after catching up',
    );
    expect([...healthy.errors, ...slow.errors]).toEqual([]);
    for (const client of [healthy, slow]) client.ws.close();
    loader.close();
    probe.close();
  });
});

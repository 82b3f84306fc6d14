import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import {
  connectDashboard,
  openDashboard,
  startLoad,
  tcpOf,
  type Dashboard,
} from '../helpers/live-load.js';
import { scrape, scrapeAll } from '../helpers/scrape.js';
import { connect, withTimeout } from '../helpers/socket-client.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';

const key = 'stalled_dashboards_key_0123456789';
// Issue #16: 100 dashboards that stop reading, while 1,000 events/s feed an early-emit stream
// over 2,000 keys. Four widgets with long ids per dashboard fill a paused socket's buffers
// within seconds.
const stalledDashboards = 100;
const widgets = 4;
const load = { keys: 2000, eventsPerFrame: 50, paceMs: 50, type: 'tick' };
// The acceptance bound of the issue, read from the server's own event-loop delay histogram.
// On a machine that other test runs keep busy, the server lags that much under this load with
// no dashboard behind at all, so the bound is also relative to the same server under the same
// load before the dashboards stall (before the fix the lag reached seconds).
const maxLagP99Seconds = 0.1;
const measureMs = 4000;
// Long enough that no stalled dashboard is closed while lag is measured.
const stalledCloseMs = 9000;
// Dashboards that read again once closed: they get the close frame behind their backlog.
const resumed = 10;
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
  // A short batching timer keeps acks prompt on a busy machine.
  storage: { flushIntervalMs: 10 },
  live: { stalledCloseMs },
};

let server: ServerProcess;

beforeAll(async () => {
  server = await startServer({ config });
});

afterAll(async () => {
  await server?.stop();
  removeDir(server.dataDir);
});

/** Event-loop lag p99 and max (seconds) of the server over the next `ms`. */
async function lagOver(ms: number) {
  // The lag gauges cover the time since the previous scrape: this one starts the measurement.
  await scrapeAll(server.url);
  await new Promise((resolve) => setTimeout(resolve, ms));
  const sample = await scrapeAll(server.url);
  return {
    p99: sample('backline_ops_event_loop_lag_seconds', { stat: 'p99' }),
    max: sample('backline_ops_event_loop_lag_seconds', { stat: 'max' }),
    sample,
  };
}

/** Dashboards connected, not subscribed yet: opening sockets under load is slow on a busy machine. */
async function connectStalled(url: string): Promise<Dashboard[]> {
  const dashboards: Dashboard[] = [];
  while (dashboards.length < stalledDashboards)
    dashboards.push(
      ...(await Promise.all(Array.from({ length: 10 }, () => connectDashboard(url)))),
    );
  return dashboards;
}

/**
 * Subscribes each and stops reading its socket at once: the server takes the subscriptions
 * all the same, and the test process does not decode what it would have dropped anyway.
 */
async function stall(dashboards: Dashboard[]): Promise<void> {
  const before = await scrape(server.url, 'backline_live_subscriptions');
  for (const dashboard of dashboards) {
    dashboard.ws.removeAllListeners('message');
    dashboard.request('per_key', widgets, 0);
    tcpOf(dashboard).pause();
  }
  await eventually(
    async () =>
      (await scrape(server.url, 'backline_live_subscriptions')) ===
      before + dashboards.length * widgets,
    30_000,
    'the stalled dashboards to subscribe',
    250,
  );
}

const closedAsStalled = () =>
  scrape(server.url, 'backline_transport_closed_by_server_total', { reason: 'live_stalled' });

describe('dashboards that stop reading', () => {
  it('leave the event loop and ingest responsive, and are closed once stalled', async () => {
    const url = `${server.wsUrl}/v1/live?key=${key}`;
    const healthy = await openDashboard(url, 'per_key');
    const stalled = await connectStalled(url);
    const ingest = await connect(`${server.wsUrl}/v1/ingest?key=${key}`);
    const sender = startLoad(ingest, load);
    const acked = sender.load;
    try {
      const baseline = await lagOver(measureMs);
      await stall(stalled);
      await eventually(
        async () =>
          (await scrape(server.url, 'backline_live_slow_consumers')) === stalledDashboards,
        30_000,
        'every stalled dashboard to count as slow',
        250,
      );
      const acksBefore = acked.acks;
      const healthyBefore = healthy.windows;
      const lag = await lagOver(measureMs);
      const ms = (seconds: number) => `${(seconds * 1000).toFixed(1)} ms`;
      console.log(
        `event-loop lag p99 ${ms(lag.p99)} (max ${ms(lag.max)}) with ${stalledDashboards} ` +
          `dashboards stalled, ${ms(baseline.p99)} (max ${ms(baseline.max)}) before`,
      );
      expect(lag.p99).toBeLessThan(Math.max(maxLagP99Seconds, 2 * baseline.p99));
      expect(acked.acks).toBeGreaterThan(acksBefore);
      expect(healthy.windows).toBeGreaterThan(healthyBefore);
      expect(
        lag.sample('backline_transport_closed_by_server_total', { reason: 'live_stalled' }),
      ).toBe(0);

      await eventually(
        async () => (await closedAsStalled()) === stalledDashboards,
        stalledCloseMs + 20_000,
        'the stalled dashboards to be closed',
        250,
      );
      const after = await scrapeAll(server.url);
      expect(after('backline_live_slow_consumers')).toBe(0);
      expect(after('backline_transport_connections', { endpoint: '/v1/live' })).toBe(1);
      // They fell a whole feed behind: the feed's bound, not memory, absorbed the backlog.
      expect(after('backline_live_updates_dropped_total')).toBeGreaterThan(0);
    } finally {
      sender.stop();
    }
    // Reading again, a closed dashboard gets its backlog, then the close frame.
    for (const dashboard of stalled.slice(0, resumed)) tcpOf(dashboard).resume();
    const closes = await withTimeout(
      Promise.all(stalled.slice(0, resumed).map((dashboard) => dashboard.closed)),
      30_000,
      'the resumed dashboards to see their close',
    );
    expect(closes).toEqual(Array(resumed).fill({ code: 1013, reason: 'stalled: not reading' }));
    for (const dashboard of stalled.slice(resumed)) dashboard.ws.terminate();

    await sender.settled();
    expect(acked.error).toBeUndefined();
    expect(acked.acks).toBe(acked.sent);
    expect(healthy.errors).toEqual([]);
    expect(healthy.ws.readyState).toBe(healthy.ws.OPEN);
    healthy.ws.close();
    ingest.close();
  }, 120_000);
});

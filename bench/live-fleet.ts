import { mergeCounts } from './fleet-result.js';
import { createLatencyHistogram } from './latency-histogram.js';
import type { Fleet } from './load-fleet.js';

// Slack on every wait for a worker, above the time its own bound allows.
const slackMs = 15_000;

/** One window update's arrival on every dashboard of the fleet. */
export interface Delivery {
  received: number;
  missing: number;
  /** Machine-clock times of the first and last arrival over all workers. */
  firstAt: number | undefined;
  lastAt: number | undefined;
}

/**
 * The runner's side of the fleet's live role (live-watch.ts runs in the workers): subscribe
 * every socket, then collect each update's arrivals into one latency histogram.
 *
 * @example
 * const live = createLiveFleet(fleet);
 * await live.subscribe({ t: 'sub', id: 1, stream: 'fanout' }, 30_000);
 * const delivery = await live.deliveries('r1', sentAt, 10_000);
 * live.latency.summary().p99Ms;
 */
export function createLiveFleet(fleet: Fleet) {
  const latency = createLatencyHistogram();
  return {
    latency,
    async subscribe(message: Record<string, unknown>, timeoutMs: number) {
      const cmd = { t: 'subscribe', message, timeoutMs } as const;
      const reports = await fleet.askAll(cmd, 'subscribed', timeoutMs + slackMs);
      return {
        subscribed: reports.reduce((sum, report) => sum + report.subscribed, 0),
        errors: mergeCounts(reports.map((report) => report.errors)),
      };
    },
    /** Waits for every dashboard to get window `key`; `record` adds its latencies. */
    async deliveries(key: string, sentAt: number, timeoutMs: number, record = true) {
      const cmd = { t: 'deliveries', key, sentAt, timeoutMs } as const;
      const reports = await fleet.askAll(cmd, 'delivered', timeoutMs + slackMs);
      if (record) for (const report of reports) latency.add(report.latency);
      const firsts = reports.flatMap((report) => report.firstAt ?? []);
      const lasts = reports.flatMap((report) => report.lastAt ?? []);
      const delivery: Delivery = {
        received: reports.reduce((sum, report) => sum + report.received, 0),
        missing: reports.reduce((sum, report) => sum + report.missing, 0),
        firstAt: firsts.length > 0 ? Math.min(...firsts) : undefined,
        lastAt: lasts.length > 0 ? Math.max(...lasts) : undefined,
      };
      return delivery;
    },
  };
}

import { randomBytes } from 'node:crypto';
import { sleep } from './deadline.js';
import { encodeEvents } from './event-frames.js';
import { openEventSender } from './event-sender.js';
import { machineNow } from './machine-clock.js';
import { startCpuSample } from './proc-stats.js';
import type { ServerProcess } from './server-process.js';
import { byLabel, scrapeMetrics, sumOf } from './server-metrics.js';

export interface ThroughputSettings {
  /** `burst` events sent, each to a user of its own. */
  events: number;
  eventsPerFrame: number;
  /** Frames sent and not yet acknowledged, at most (one ingest socket). */
  inflight: number;
  /** How long the last notification is awaited after the last ack. */
  drainMs: number;
}

export interface InAppThroughput {
  events: number;
  eventsPerFrame: number;
  /** Notifications kept in inboxes (`sent` decisions) during the run. */
  stored: number;
  /** From the first send to the scrape that saw the last one stored. */
  seconds: number;
  storedPerSecond: number;
  /** Ingest acks per second over the sending (what the rules were fed at). */
  ackedPerSecond: number;
  ruleFailures: number;
  /**
   * Server main-thread CPU per notification over the run (ingest of the events included):
   * what the rules and the router cost, whatever else the machine runs meanwhile.
   */
  mainThreadMicrosPerNotification: number;
}

const pollMs = 50;

/**
 * In-app notifications per second for one project: `burst` events to distinct users, sent
 * closed-loop; the burst rule notifies each event's user over in_app, so each event is one
 * notification through the whole router, kept in the user's inbox (users are offline: the
 * inbox is what they resume from). Counted from /metrics: `sent` decisions are recorded once
 * the inbox write has committed.
 *
 * @example
 * const t = await measureInAppThroughput(server, { events: 20_000, eventsPerFrame: 100, inflight: 4, drainMs: 60_000 });
 */
export async function measureInAppThroughput(
  server: ServerProcess,
  settings: ThroughputSettings,
): Promise<InAppThroughput> {
  const stored = async () => {
    const metrics = await scrapeMetrics(server.port);
    const sent = byLabel(metrics, 'backline_notify_decisions_total', 'outcome').sent ?? 0;
    return { sent, failures: sumOf(metrics, 'backline_rules_failures_total') };
  };
  const before = await stored();
  const sender = await openEventSender(`ws://127.0.0.1:${server.port}/v1/ingest?key=${server.key}`);
  const runId = randomBytes(4).toString('hex');
  const cpu = startCpuSample(server.pid);
  const first = machineNow();
  let acked = first;
  try {
    const frames = Math.ceil(settings.events / settings.eventsPerFrame);
    for (let f = 0; f < frames; f += 1) {
      while (sender.outstanding() >= settings.inflight) await sleep(1);
      const events = Array.from({ length: settings.eventsPerFrame }, (_, i) => {
        const n = f * settings.eventsPerFrame + i;
        return {
          id: `${runId}-${n}`,
          type: 'burst',
          ts: Date.now(),
          userId: `burst-${runId}-${n}`,
        };
      });
      const frame = sender.send((seq) => encodeEvents(seq, events));
      void frame.outcome.then((o) => (acked = Math.max(acked, o.at)));
    }
    while (sender.outstanding() > 0) await sleep(1);
  } finally {
    await sender.close();
  }
  const events = Math.ceil(settings.events / settings.eventsPerFrame) * settings.eventsPerFrame;
  let now = before;
  let at = machineNow();
  for (const deadline = at + settings.drainMs; now.sent - before.sent < events && at < deadline;) {
    await sleep(pollMs);
    now = await stored();
    at = machineNow();
  }
  const seconds = (at - first) / 1000;
  const count = now.sent - before.sent;
  const mainThreadSeconds = cpu.read()?.mainThreadSeconds ?? NaN;
  return {
    events,
    eventsPerFrame: settings.eventsPerFrame,
    stored: count,
    seconds,
    storedPerSecond: count / seconds,
    ackedPerSecond: events / ((acked - first) / 1000),
    ruleFailures: now.failures - before.failures,
    mainThreadMicrosPerNotification: (mainThreadSeconds / count) * 1e6,
  };
}

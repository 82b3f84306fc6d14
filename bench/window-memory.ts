import { randomBytes } from 'node:crypto';
import { sleep } from './deadline.js';
import { createFrameEncoder } from './event-frames.js';
import { openEventSender, type FrameOutcome } from './event-sender.js';
import { scrapeMetrics } from './server-metrics.js';
import type { ServerProcess } from './server-process.js';

// The largest frame the server takes by default (limits.maxEventsPerFrame).
const eventsPerFrame = 1000;
const inflight = 4;
// The streams' early updates (every second) have then run over the new windows once, as
// they would in steady state.
const settleMs = 1000;

export interface WindowMemory {
  events: number;
  fillSeconds: number;
  openWindows: number;
  rssDeltaBytes: number;
  heapUsedDeltaBytes: number;
}

/**
 * Sends `events` events whose `props.g` takes every value 0 … events − 1 once, and reads the
 * server's RSS and V8 heap before and after, with the open windows it then holds. Count-
 * bounded: `events / 1000` frames, `inflight` at a time.
 *
 * @example
 * const memory = await fillWindows(server, 100_000);
 * memory.heapUsedDeltaBytes / memory.openWindows;
 */
export async function fillWindows(server: ServerProcess, events: number): Promise<WindowMemory> {
  const before = await readMemory(server);
  const sender = await openEventSender(`ws://127.0.0.1:${server.port}/v1/ingest?key=${server.key}`);
  const startedAt = performance.now();
  try {
    const encode = createFrameEncoder(`fill-${randomBytes(4).toString('hex')}-`, eventsPerFrame, {
      groups: events,
      firstGroup: 0,
    });
    const outcomes: Array<Promise<FrameOutcome>> = [];
    const refused: string[] = [];
    const settle = async () => {
      const outcome = await outcomes.shift()!;
      if (outcome.code) refused.push(outcome.code);
    };
    for (let i = 0; i < Math.ceil(events / eventsPerFrame); i += 1) {
      if (outcomes.length >= inflight) await settle();
      outcomes.push(sender.send(encode).outcome);
    }
    while (outcomes.length > 0) await settle();
    if (refused.length > 0) throw new Error(`fill frames refused: ${refused.join(', ')}`);
  } finally {
    await sender.close();
  }
  const fillSeconds = (performance.now() - startedAt) / 1000;
  await sleep(settleMs);
  const after = await readMemory(server);
  return {
    events,
    fillSeconds,
    openWindows: after.openWindows,
    rssDeltaBytes: after.rss - before.rss,
    heapUsedDeltaBytes: after.heapUsed - before.heapUsed,
  };
}

async function readMemory(server: ServerProcess) {
  const metrics = await scrapeMetrics(server.port);
  return {
    rss: server.rssBytes() ?? NaN,
    heapUsed: metrics.get('nodejs_heap_size_used_bytes') ?? NaN,
    openWindows: metrics.get('backline_pipeline_open_windows') ?? NaN,
  };
}

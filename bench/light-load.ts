import { randomBytes } from 'node:crypto';
import { waitUntil } from './deadline.js';
import { benchEvents, encodeEvents } from './event-frames.js';
import { openEventSender } from './event-sender.js';
import { createLatencyHistogram } from './latency-histogram.js';
import { byCode, count, ms } from './number-format.js';
import type { BenchOptions } from './options.js';
import { sendPaced } from './paced.js';
import { startCpuSample } from './proc-stats.js';
import type { Scenario, ScenarioResult } from './scenario.js';
import { scrapeMetrics } from './server-metrics.js';
import { describeServer, type ServerProcess } from './server-process.js';
import { withServer } from './with-server.js';

const name = 'light-load';
const eventsPerSecond = 1000;
const eventsPerFrame = 10;
const framesPerSecond = eventsPerSecond / eventsPerFrame;
// After the last frame, how long its ack is awaited.
const drainMs = 5000;

/**
 * The performance issue's goal 4, acks at light load: one socket sends 1,000 events/s in
 * frames of 10 (open loop, as a browser SDK's flushes arrive) and each frame's send → ack
 * time is recorded. At this rate ClickHouse is idle between inserts, so the ack time is what
 * the batch writer adds to one insert (a batching timer, or none with group commit).
 */
export const lightLoad: Scenario = { name, run: runLightLoad };

async function runLightLoad(options: BenchOptions): Promise<ScenarioResult> {
  const commands = [describeServer(), 'producer: one socket in the runner (bench/event-sender.ts)'];
  return withServer(name, {}, commands, async (server) => {
    const f = await measureAcks(server, options);
    const ok = server.alive() && f.frames > 0 && f.acked === f.frames;
    return {
      ok,
      ...(ok ? {} : { failure: `${count(f.acked)} of ${count(f.frames)} frames acknowledged` }),
      figures: f,
      table: [
        ['load', `${count(eventsPerSecond)} events/s in frames of ${eventsPerFrame}, one socket`],
        ['frames measured / acknowledged', `${count(f.frames)} / ${count(f.acked)}`],
        [
          '**send → ack** p50 / p99 / max',
          `${ms(f.ackMs.p50Ms)} / ${ms(f.ackMs.p99Ms)} / ${ms(f.ackMs.maxMs)}`,
        ],
        [
          'server-side (`backline_ingest_ack_seconds`): acks within 10 ms / within 25 ms',
          `${(f.serverAcksWithin10ms * 100).toFixed(1)} % / ${(f.serverAcksWithin25ms * 100).toFixed(1)} %`,
        ],
        [
          'events inserts per second; server CPU (all threads)',
          `${f.insertsPerSecond.toFixed(1)}; ${f.cpuPercent === undefined ? 'n/a' : `${f.cpuPercent.toFixed(1)} %`}`,
        ],
        ['errors by code', byCode(f.errors)],
      ],
      notes: [
        'An insert per frame is the price of acking at once: each is one small ClickHouse part, which background merges fold together.',
      ],
    };
  });
}

/** The server's own counts: events inserts, and acks within 10 ms and 25 ms of the frame. */
async function serverCounts(server: ServerProcess) {
  const metrics = await scrapeMetrics(server.port);
  const acks = (le: string) =>
    metrics.get(`backline_ingest_ack_seconds_bucket{le="${le}",transport="ws"}`) ?? 0;
  return {
    inserts: metrics.get('backline_storage_insert_seconds_count{table="events",outcome="ok"}') ?? 0,
    acks: acks('+Inf'),
    within10: acks('0.01'),
    within25: acks('0.025'),
  };
}
type Counts = Awaited<ReturnType<typeof serverCounts>>;

async function measureAcks(server: ServerProcess, options: BenchOptions) {
  const startMeasuring = async () => ({
    cpu: startCpuSample(server.pid),
    counts: await serverCounts(server),
  });
  const sender = await openEventSender(`ws://127.0.0.1:${server.port}/v1/ingest?key=${server.key}`);
  try {
    const prefix = `${randomBytes(4).toString('hex')}-`;
    const warmup = Math.round(options.warmupSeconds * framesPerSecond);
    const total = warmup + Math.round(options.measureSeconds * framesPerSecond);
    const latency = createLatencyHistogram();
    const errors: Record<string, number> = {};
    let frames = 0;
    let acked = 0;
    let measuring: { cpu: ReturnType<typeof startCpuSample>; counts: Counts } | undefined;
    await sendPaced(total, framesPerSecond, (n) => {
      const events = benchEvents(prefix, n, eventsPerFrame);
      const sent = sender.send((seq) => encodeEvents(seq, events));
      if (n < warmup) return;
      if (n === warmup) void startMeasuring().then((m) => (measuring = m));
      frames += 1;
      void sent.outcome.then((outcome) => {
        if (outcome.code) errors[outcome.code] = (errors[outcome.code] ?? 0) + 1;
        else {
          acked += 1;
          latency.record(outcome.at - sent.sentAt);
        }
      });
    });
    const cpu = measuring?.cpu.read();
    await waitUntil(() => sender.outstanding() === 0, drainMs);
    const end = await serverCounts(server);
    const from = measuring?.counts ?? { inserts: 0, acks: 0, within10: 0, within25: 0 };
    const acks = Math.max(1, end.acks - from.acks);
    return {
      eventsPerSecond,
      eventsPerFrame,
      frames,
      acked,
      ackMs: latency.summary(),
      insertsPerSecond: cpu ? (end.inserts - from.inserts) / cpu.wallSeconds : NaN,
      // The server's own view, free of the load generator's scheduling on a busy machine.
      serverAcksWithin10ms: (end.within10 - from.within10) / acks,
      serverAcksWithin25ms: (end.within25 - from.within25) / acks,
      cpuPercent: cpu ? (cpu.cpuSeconds / cpu.wallSeconds) * 100 : undefined,
      errors,
    };
  } finally {
    await sender.close();
  }
}

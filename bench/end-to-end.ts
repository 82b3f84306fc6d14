import { randomBytes } from 'node:crypto';
import { pack } from 'msgpackr';
import { settlesWithin, waitUntil } from './deadline.js';
import { encodeEvents } from './event-frames.js';
import { openEventSender, type EventSender } from './event-sender.js';
import { openWsClient } from './ingest-client.js';
import { createLatencyHistogram } from './latency-histogram.js';
import { machineNow } from './machine-clock.js';
import { byCode, count, ms } from './number-format.js';
import type { BenchOptions } from './options.js';
import { sendPaced } from './paced.js';
import { signedSummary, type SignedSummary } from './percentiles.js';
import type { Scenario, ScenarioResult } from './scenario.js';
import { describeServer, type ServerProcess } from './server-process.js';
import { withServer } from './with-server.js';

const name = 'end-to-end';
const eventsPerSecond = 2000;
const eventsPerFrame = 10;
const framesPerSecond = eventsPerSecond / eventsPerFrame;
const everyMs = 100;
// After the last frame, how long its ack and its update are awaited.
const drainMs = 5000;

/**
 * Every frame's events carry the frame's own marker, and the stream groups by it, so the
 * first update of window key `<marker>` is the first update that includes that frame. A
 * day-long window closes during no run (barring midnight UTC).
 */
export const e2eStream = {
  name: 'e2e',
  source: { types: ['e2e'] },
  groupBy: ['props.frame'],
  window: { kind: 'tumbling', sizeMs: 86_400_000 },
  aggregates: [{ name: 'events', fn: 'count' }],
  emit: { mode: 'early', everyMs },
};
export const e2eSettings = { project: { streams: [e2eStream] } };

interface FrameTimes {
  sentAt: number;
  ackAt?: number;
  updateAt?: number;
}

/**
 * Issue "Load benchmark suite", item 5, and the stream-processing issue's "p99 time from an
 * event's ack to the dashboard update that includes it (early-update mode)": a producer sends
 * 2,000 events/s steadily over /v1/ingest while one dashboard watches the stream. The
 * headline is send → update: the ack waits for ClickHouse while the pipeline does not, so
 * ack → update would shrink as acks got slower; update − ack is reported signed beside it.
 */
export const endToEnd: Scenario = { name, run: runEndToEnd };

async function runEndToEnd(options: BenchOptions): Promise<ScenarioResult> {
  const commands = [
    describeServer(e2eSettings),
    'producer and dashboard: sockets in the runner (bench/event-sender.ts, /v1/live)',
  ];
  return withServer(name, e2eSettings, commands, async (server) => {
    const origin = `ws://127.0.0.1:${server.port}`;
    const urls = {
      ingest: `${origin}/v1/ingest?key=${server.key}`,
      live: `${origin}/v1/live?key=${server.key}`,
    };
    const figures = await measureEndToEnd(urls, options);
    return { ...verdict(figures, server), figures, table: endToEndTable(figures), notes: notes() };
  });
}

/**
 * Subscribes the dashboard at `urls.live`, sends to `urls.ingest` for the warm-up and the
 * measured time, awaits the last (one server, or two nodes of a cluster).
 */
export async function measureEndToEnd(
  urls: { ingest: string; live: string },
  options: BenchOptions,
) {
  const frames = new Map<string, FrameTimes>();
  const dashboard = await openDashboard(urls.live, frames);
  let sender: EventSender | undefined;
  try {
    sender = await openEventSender(urls.ingest);
    const errors: Record<string, number> = {};
    const warmupFrames = Math.round(options.warmupSeconds * framesPerSecond);
    const total = warmupFrames + Math.round(options.measureSeconds * framesPerSecond);
    const measured: FrameTimes[] = [];
    const send = frameSender(sender, frames, errors, randomBytes(4).toString('hex'));
    await sendPaced(total, framesPerSecond, (n) => {
      const times = send(n);
      if (n >= warmupFrames) measured.push(times);
    });
    const done = () => measured.every((f) => f.ackAt !== undefined && f.updateAt !== undefined);
    await waitUntil(done, drainMs);
    return summarize(measured, errors);
  } finally {
    await sender?.close();
    dashboard.terminate();
  }
}

/** One `/v1/live` socket subscribed to the stream; notes each window key's first update. */
async function openDashboard(url: string, frames: Map<string, FrameTimes>) {
  const dashboard = await openWsClient({
    url,
    localAddress: '127.0.0.1',
    connectTimeoutMs: 10_000,
  });
  const snapshot = new Promise<void>((resolve, reject) => {
    dashboard.onMessage((msg) => {
      if (msg?.t === 'snapshot') resolve();
      else if (msg?.t === 'error') reject(new Error(`live socket: ${String(msg.code)}`));
      else if (msg?.t === 'window') {
        const at = machineNow();
        const frame = frames.get(String((msg.w as { key?: unknown } | undefined)?.key));
        if (frame && frame.updateAt === undefined) frame.updateAt = at;
      }
    });
  });
  dashboard.send(pack({ t: 'sub', id: 1, stream: e2eStream.name }));
  if (!(await settlesWithin(snapshot, 10_000))) throw new Error('no snapshot in 10 s');
  await snapshot;
  return dashboard;
}

/** Sends frame n: `eventsPerFrame` events marked `f<n>`; notes its send and ack times. */
function frameSender(
  sender: EventSender,
  frames: Map<string, FrameTimes>,
  errors: Record<string, number>,
  runId: string,
) {
  return (n: number): FrameTimes => {
    const marker = `f${n}`;
    const ts = Date.now();
    const events = Array.from({ length: eventsPerFrame }, (_, i) => ({
      id: `${runId}-${n}.${i}`,
      type: 'e2e',
      ts,
      userId: `u${i}`,
      props: { frame: marker },
    }));
    const sent = sender.send((seq) => encodeEvents(seq, events));
    const times: FrameTimes = { sentAt: sent.sentAt };
    frames.set(marker, times);
    void sent.outcome.then((outcome) => {
      if (outcome.code) errors[outcome.code] = (errors[outcome.code] ?? 0) + 1;
      else times.ackAt = outcome.at;
    });
    return times;
  };
}

function summarize(measured: FrameTimes[], errors: Record<string, number>) {
  const sendToAck = createLatencyHistogram();
  const sendToUpdate = createLatencyHistogram();
  // Signed: the pipeline takes events as ingest accepts them, before they are durable, so
  // the dashboard may have a frame before its producer has the ack (a negative difference).
  const updateMinusAck: number[] = [];
  for (const { sentAt, ackAt, updateAt } of measured) {
    if (ackAt !== undefined) sendToAck.record(ackAt - sentAt);
    if (updateAt !== undefined) sendToUpdate.record(updateAt - sentAt);
    if (ackAt !== undefined && updateAt !== undefined) updateMinusAck.push(updateAt - ackAt);
  }
  return {
    eventsPerSecond,
    eventsPerFrame,
    everyMs,
    frames: measured.length,
    acked: measured.filter((f) => f.ackAt !== undefined).length,
    updated: measured.filter((f) => f.updateAt !== undefined).length,
    updateBeforeAck: updateMinusAck.filter((d) => d < 0).length,
    sendToUpdateMs: sendToUpdate.summary(),
    sendToAckMs: sendToAck.summary(),
    updateMinusAckMs: signedSummary(updateMinusAck),
    errors,
  };
}

export type EndToEndFigures = ReturnType<typeof summarize>;
type Figures = EndToEndFigures;

function verdict(f: Figures, server: ServerProcess) {
  if (!server.alive())
    return { ok: false, failure: `server died during the run:\n${server.logTail().join('\n')}` };
  return framesVerdict(f);
}

/** Every measured frame acknowledged and shown on the dashboard, or a failure saying how many. */
export function framesVerdict(f: Figures): { ok: boolean; failure?: string } {
  if (f.frames === 0 || f.acked < f.frames || f.updated < f.frames) {
    const failure = `of ${count(f.frames)} frames, ${count(f.acked)} acknowledged and ${count(f.updated)} shown`;
    return { ok: false, failure };
  }
  return { ok: true };
}

export function endToEndTable(f: Figures): ScenarioResult['table'] {
  // No samples (nothing shown on the dashboard): no latency, rather than 0 or NaN.
  const trio = (l: { p50Ms: number; p99Ms: number; maxMs: number }, samples: number) =>
    samples === 0 ? 'n/a' : `${ms(l.p50Ms)} / ${ms(l.p99Ms)} / ${ms(l.maxMs)}`;
  const signed = (d: SignedSummary) =>
    [d.minMs, d.p50Ms, d.p99Ms, d.maxMs]
      .map((v) => (!Number.isFinite(v) ? 'n/a' : v < 0 ? `−${ms(-v)}` : ms(v)))
      .join(' / ');
  const share = (n: number) => `${((n / Math.max(1, f.frames)) * 100).toFixed(1)} %`;
  return [
    ['load', `${count(f.eventsPerSecond)} events/s in frames of ${f.eventsPerFrame}, one socket`],
    [
      'frames measured / acknowledged / shown on the dashboard',
      `${count(f.frames)} / ${count(f.acked)} / ${count(f.updated)}`,
    ],
    ['**send → dashboard update** p50 / p99 / max', trio(f.sendToUpdateMs, f.updated)],
    ['send → ack p50 / p99 / max', trio(f.sendToAckMs, f.acked)],
    [
      'ack → dashboard update (update − ack, signed) min / p50 / p99 / max',
      signed(f.updateMinusAckMs),
    ],
    [
      'frames on the dashboard before their ack',
      `${count(f.updateBeforeAck)} (${share(f.updateBeforeAck)})`,
    ],
    ['errors', byCode(f.errors)],
  ];
}

function notes(): string[] {
  return [
    `The stream emits early updates every ${everyMs} ms and groups by a marker unique to each ` +
      'frame, so a frame’s first update is the first that includes it. **send → dashboard ' +
      'update**: from the producer sending a frame to the dashboard socket receiving the first ' +
      'update that includes it (what a viewer waits for). send → ack: to the producer ' +
      'receiving the ack, which waits for ClickHouse. update − ack: the two subtracted per ' +
      'frame, not floored; negative when the dashboard had the frame before its producer had ' +
      'the ack, as the pipeline reads events when ingest accepts them. All times are on one ' +
      'monotonic clock in the runner.',
  ];
}

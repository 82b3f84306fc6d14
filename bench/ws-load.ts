import { randomBytes } from 'node:crypto';
import { settlesWithin, waitUntil } from './deadline.js';
import { createFrameEncoder } from './event-frames.js';
import { createLatencyHistogram, type LatencySummary } from './latency-histogram.js';
import { openConnection, type Ack, type LoadConnection } from './ws-connection.js';

export interface WsLoadOptions {
  url: string;
  connections: number;
  eventsPerFrame: number;
  inflight: number;
  warmupMs: number;
  measureMs: number;
  /** After sending stops, how long outstanding acks are awaited. */
  drainTimeoutMs: number;
  connectTimeoutMs: number;
  /** Adds `props.g` with this many distinct values to every event (event-frames.ts). */
  groups?: number;
  /** Called as the measured window starts and ends, to read the server's CPU time. */
  onMeasure?: (phase: 'start' | 'end') => void;
}

export interface WsLoadResult {
  connectionsOpened: number;
  measuredSeconds: number;
  /** The warm-up as it ran: at least the asked one, longer until every socket had an ack. */
  warmupSeconds: number;
  /** Counted over acks that arrived inside the measured window. */
  eventsPerSecond: number;
  framesPerSecond: number;
  acceptedEvents: number;
  duplicateEvents: number;
  rejectedEvents: number;
  /** Acknowledged frames that were sent inside the measured window, even if acked after it. */
  latencyMs: LatencySummary;
  /** Error messages and socket failures by code, over the whole run including warm-up. */
  errors: Record<string, number>;
  framesSent: number;
  unackedFrames: number;
}

/**
 * Drives `connections` ingest sockets, each keeping `inflight` frames outstanding, for a
 * warm-up and then a measured window; then stops sending, drains and closes every socket.
 *
 * @example
 * const result = await runWsLoad({ url, connections: 50, eventsPerFrame: 100, inflight: 4,
 *   warmupMs: 2000, measureMs: 10_000, drainTimeoutMs: 10_000, connectTimeoutMs: 10_000 });
 */
export async function runWsLoad(options: WsLoadOptions): Promise<WsLoadResult> {
  const tally = createTally();
  const conns = await openAll(options, tally);
  const start = performance.now();
  for (const conn of conns) conn.start();
  // Ends early when every socket has closed (the server died or dropped us).
  const allClosed = Promise.all(conns.map((conn) => conn.closed));
  const anyOpen = () => conns.some((conn) => conn.isOpen());
  // Warm-up lasts at least until every socket has had an ack (bounded): a server whose
  // first acks take longer than the warm-up (many streams, a cold ClickHouse) is measured
  // at its steady state, not over a window that ends before its first answer.
  await settlesWithin(allClosed, options.warmupMs);
  await waitUntil(() => tally.ackedSockets() >= conns.length || !anyOpen(), firstAckTimeoutMs);
  tally.window.start = performance.now();
  tally.window.end = tally.window.start + options.measureMs;
  options.onMeasure?.('start');
  await settlesWithin(allClosed, options.measureMs);
  options.onMeasure?.('end');
  for (const conn of conns) conn.stopSending();
  const stoppedAt = performance.now();

  const drained = () => conns.every((conn) => conn.outstanding() === 0 || !conn.isOpen());
  await waitUntil(drained, options.drainTimeoutMs);
  const unackedFrames = conns.reduce((sum, conn) => sum + conn.outstanding(), 0);
  await closeAll(conns);

  const measuredSeconds =
    Math.max(0, Math.min(stoppedAt, tally.window.end) - tally.window.start) / 1000;
  return {
    ...tally.result(conns.length, measuredSeconds, unackedFrames),
    warmupSeconds: round3((tally.window.start - start) / 1000),
  };
}

/** The longest warm-up waits for every socket's first ack. */
const firstAckTimeoutMs = 30_000;

const round3 = (n: number) => Math.round(n * 1000) / 1000;

async function openAll(options: WsLoadOptions, tally: Tally): Promise<LoadConnection[]> {
  const runId = randomBytes(4).toString('hex');
  const { groups } = options;
  const share = groups ? Math.ceil(groups / options.connections) : 0;
  const attempts = await Promise.allSettled(
    Array.from({ length: options.connections }, (_, index) => {
      const prefix = `${runId}-${index}-`;
      const grouped = groups ? { groups, firstGroup: index * share } : undefined;
      const encode = createFrameEncoder(prefix, options.eventsPerFrame, grouped);
      const connection = {
        url: options.url,
        inflight: options.inflight,
        connectTimeoutMs: options.connectTimeoutMs,
        encode: tally.counting(encode),
      };
      return openConnection(connection, tally.listenerFor(index));
    }),
  );
  const conns: LoadConnection[] = [];
  for (const attempt of attempts) {
    if (attempt.status === 'fulfilled') conns.push(attempt.value);
    else tally.error(connectFailure(attempt.reason), undefined);
  }
  return conns;
}

function connectFailure(reason: unknown): string {
  const message = reason instanceof Error ? reason.message : String(reason);
  return /^HTTP_\d+$/.test(message) ? `CONNECT_${message}` : 'CONNECT_FAILED';
}

// Sockets the server does not answer with a close frame are cut, so no close timer of `ws`
// (30 s) outlives the run.
async function closeAll(conns: LoadConnection[]): Promise<void> {
  for (const conn of conns) conn.close();
  await settlesWithin(Promise.all(conns.map((conn) => conn.closed)), 2000);
  for (const conn of conns) conn.terminate();
}

type Tally = ReturnType<typeof createTally>;

function createTally() {
  const window = { start: Infinity, end: Infinity };
  const latency = createLatencyHistogram();
  const errors: Record<string, number> = {};
  const totals = { acks: 0, accepted: 0, duplicates: 0, rejected: 0, sent: 0 };
  const inWindow = (at: number) => at >= window.start && at < window.end;
  const acked = new Set<number>();

  const tally = {
    window,
    ackedSockets: () => acked.size,
    /** The tally as one connection's listener, noting that this connection had an ack. */
    listenerFor(index: number) {
      return {
        ack(ack: Ack, sentAt: number | undefined) {
          acked.add(index);
          tally.ack(ack, sentAt);
        },
        error: (code: string, sentAt: number | undefined) => tally.error(code, sentAt),
      };
    },
    counting(encode: (seq: number) => Uint8Array) {
      return (seq: number) => {
        totals.sent += 1;
        return encode(seq);
      };
    },
    ack(ack: Ack, sentAt: number | undefined): void {
      const now = performance.now();
      // Latency goes by send time, so the slow frames at the end of the window still count.
      if (sentAt !== undefined && inWindow(sentAt)) latency.record(now - sentAt);
      if (!inWindow(now)) return;
      totals.acks += 1;
      totals.accepted += ack.accepted;
      totals.duplicates += ack.duplicates;
      totals.rejected += Array.isArray(ack.rejected) ? ack.rejected.length : 0;
    },
    error(code: string, _sentAt: number | undefined): void {
      errors[code] = (errors[code] ?? 0) + 1;
    },
    result(
      opened: number,
      seconds: number,
      unackedFrames: number,
    ): Omit<WsLoadResult, 'warmupSeconds'> {
      const perSecond = (n: number) => (seconds > 0 ? Math.round(n / seconds) : 0);
      return {
        connectionsOpened: opened,
        measuredSeconds: Math.round(seconds * 1000) / 1000,
        eventsPerSecond: perSecond(totals.accepted),
        framesPerSecond: perSecond(totals.acks),
        acceptedEvents: totals.accepted,
        duplicateEvents: totals.duplicates,
        rejectedEvents: totals.rejected,
        latencyMs: latency.summary(),
        errors,
        framesSent: totals.sent,
        unackedFrames,
      };
    },
  };
  return tally;
}

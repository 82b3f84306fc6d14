import { randomBytes } from 'node:crypto';
import { settlesWithin } from './deadline.js';
import type {
  FleetCommand,
  OpenCommand,
  RunCommand,
  SendMode,
  Transport,
  WorkerReport,
} from './fleet-protocol.js';
import { mergeCounts, mergeReports, type FleetRunResult } from './fleet-result.js';
import { forkWorker, type WorkerProcess } from './worker-process.js';

export interface FleetOptions {
  transport: Transport;
  /** Several URLs (the nodes of a cluster) share the sockets round robin. */
  url: string | readonly string[];
  sockets: number;
  workers: number;
  connectTimeoutMs: number;
  /** Loopback source addresses per worker (1 if absent), each good for ~28k sockets. */
  addressesPerWorker?: number;
  /**
   * Handshakes in progress per worker (`handshakesPerWorker` if absent). Many workers at once
   * should take fewer each: an upgrade waiting in a busy server longer than uWS's 10 s HTTP
   * timeout is reset.
   */
  handshakesPerWorker?: number;
  /** Called once every worker has started, as the opening begins (to start a CPU window). */
  onOpening?: () => void;
}

export interface FleetRun {
  mode: SendMode;
  /** Sockets that send, spread over the workers; the others stay open and idle. */
  activeSockets: number;
  eventsPerFrame: number;
  warmupMs: number;
  measureMs: number;
  drainTimeoutMs: number;
  /** Called as the measured window starts and ends, to read the server's CPU time. */
  onMeasure?: (phase: 'start' | 'end') => void;
}

export interface Fleet {
  readonly opened: number;
  /** From the first `open` sent to the last worker's report that its sockets are open. */
  readonly connectMs: number;
  readonly errors: Record<string, number>;
  /** CPU time all workers spent opening, and each worker's longest event-loop stall meanwhile. */
  readonly opening: { cpuSeconds: number; loopDelayMaxMs: number[] };
  run(run: FleetRun): Promise<FleetRunResult>;
  /** Sends `cmd` to every worker; resolves with each worker's report of type `expect`. */
  askAll<T extends WorkerReport['t']>(
    cmd: FleetCommand,
    expect: T,
    timeoutMs: number,
  ): Promise<Array<Extract<WorkerReport, { t: T }>>>;
  close(): Promise<void>;
}

// Handshakes in progress per worker: all workers together stay far below the kernel's accept
// queue (somaxconn 4096 here), so no SYN is dropped and retried a second later.
const handshakesPerWorker = 200;
// Slack on every wait for a worker, above the time its own bounds allow.
const slackMs = 15_000;
// Workers load tsx and their code at once, on cores the servers may be busy on: several
// seconds each when many start together on a loaded machine.
const readyTimeoutMs = 60_000;
// Nothing a worker is asked to do takes longer; it exits by itself after this.
const workerLifetimeMs = 15 * 60_000;

/**
 * Forks `workers` load processes and opens `sockets` ingest sockets spread over them. Worker
 * w binds its sockets to source addresses of its own from 127.0.0.2 up (`addressesPerWorker`
 * each): a worker holds fewer sockets than a process may open files (20,000), and one address
 * has 28,232 ephemeral ports whatever the destination (the port is taken at bind time, before
 * the connect names it), so no worker runs out of ports whatever earlier scenarios left in
 * TIME_WAIT.
 *
 * @example
 * const fleet = await openFleet({ transport: 'ws', url, sockets: 10_000, workers: 4,
 *   connectTimeoutMs: 30_000 });
 * const result = await fleet.run({ mode: { kind: 'window', inflight: 4 }, … });
 * await fleet.close();
 */
export async function openFleet(options: FleetOptions): Promise<Fleet> {
  const workers = Array.from({ length: options.workers }, () => forkWorker());
  const shares = split(options.sockets, workers.length);
  try {
    await withTimeout(Promise.all(workers.map((worker) => worker.ready)), readyTimeoutMs);
    options.onOpening?.();
    const started = performance.now();
    const reports = await Promise.all(
      workers.map((worker, w) => {
        const cmd = openCommand(options, shares, w);
        return worker.ask(cmd, 'opened', openTimeoutMs(options, cmd.sockets));
      }),
    );
    const connectMs = Math.round(performance.now() - started);
    const errors = mergeCounts(reports.map((report) => report.errors));
    const opened = reports.reduce((sum, report) => sum + report.opened, 0);
    const opens = reports.map((report) => report.opened);
    const opening = {
      cpuSeconds: reports.reduce((sum, report) => sum + report.cpuSeconds, 0),
      loopDelayMaxMs: reports.map((report) => report.loopDelayMaxMs),
    };
    return {
      opened,
      connectMs,
      errors,
      opening,
      run: (run) => runFleet(workers, opens, run),
      askAll: (cmd, expect, timeoutMs) =>
        Promise.all(workers.map((worker) => worker.ask(cmd, expect, timeoutMs))),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }

  async function close(): Promise<void> {
    await Promise.all(workers.map((worker) => worker.stop(slackMs)));
  }
}

function openCommand(options: FleetOptions, shares: number[], w: number): OpenCommand {
  const perWorker = options.addressesPerWorker ?? 1;
  return {
    t: 'open',
    transport: options.transport,
    urls: typeof options.url === 'string' ? [options.url] : [...options.url],
    sockets: shares[w]!,
    firstIndex: shares.slice(0, w).reduce((a, b) => a + b, 0),
    localAddresses: Array.from({ length: perWorker }, (_, j) => `127.0.0.${2 + w * perWorker + j}`),
    connectTimeoutMs: options.connectTimeoutMs,
    handshakesInFlight: options.handshakesPerWorker ?? handshakesPerWorker,
    lifetimeMs: workerLifetimeMs,
  };
}

function openTimeoutMs(options: FleetOptions, sockets: number): number {
  const rounds = Math.ceil(sockets / (options.handshakesPerWorker ?? handshakesPerWorker));
  return rounds * options.connectTimeoutMs + slackMs;
}

async function runFleet(
  workers: WorkerProcess[],
  opens: number[],
  run: FleetRun,
): Promise<FleetRunResult> {
  const { onMeasure, ...settings } = run;
  const active = split(run.activeSockets, workers.length).map((n, w) => Math.min(n, opens[w]!));
  // Far enough ahead that every worker has the command before its clock starts.
  const startAt = Date.now() + 300;
  const cmd = { t: 'run', runId: randomBytes(4).toString('hex'), startAt, ...settings } as const;
  const timeoutMs = 300 + run.warmupMs + run.measureMs + run.drainTimeoutMs + slackMs;
  const windowStart = startAt + run.warmupMs - Date.now();
  const timers = onMeasure
    ? [
        setTimeout(() => onMeasure('start'), windowStart),
        setTimeout(() => onMeasure('end'), windowStart + run.measureMs),
      ]
    : [];
  try {
    const reports = await Promise.all(
      workers.map((worker, w) =>
        worker.ask({ ...cmd, activeSockets: active[w]! } satisfies RunCommand, 'ran', timeoutMs),
      ),
    );
    return mergeReports(reports, run.measureMs / 1000);
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
}

/** `total` in `parts` shares that differ by at most one. */
function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor((total + parts - 1 - i) / parts));
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return settlesWithin(promise, ms).then((settled) =>
    settled ? promise : Promise.reject(new Error(`load workers not ready in ${ms} ms`)),
  );
}

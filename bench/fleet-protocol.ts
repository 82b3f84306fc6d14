/**
 * The messages between the bench runner and its load worker processes (`load-worker.ts`),
 * over the IPC channel of `child_process.fork`. One worker holds a share of the sockets;
 * the runner sends `open`, then any number of `run`, then `close`, and merges the reports.
 */

export type Transport = 'ws' | 'socket.io';

export interface OpenCommand {
  t: 'open';
  transport: Transport;
  url: string;
  sockets: number;
  /** Index of this worker's first socket in the whole fleet; keeps event ids unique. */
  firstIndex: number;
  /** Loopback source address of this worker's sockets. */
  localAddress: string;
  connectTimeoutMs: number;
  /** Handshakes a worker has in progress at once, so the server's accept queue never overflows. */
  handshakesInFlight: number;
  /** The worker exits by itself after this long, whatever the runner does. */
  lifetimeMs: number;
}

/** `paced`: a steady rate per socket (open loop); `window`: `inflight` frames outstanding. */
export type SendMode =
  | { kind: 'paced'; framesPerSecond: number; maxOutstanding: number }
  | { kind: 'window'; inflight: number };

export interface RunCommand {
  t: 'run';
  mode: SendMode;
  /** How many of this worker's sockets send; the rest stay idle. */
  activeSockets: number;
  eventsPerFrame: number;
  runId: string;
  /** Epoch ms at which every worker starts sending, so the windows line up. */
  startAt: number;
  warmupMs: number;
  measureMs: number;
  drainTimeoutMs: number;
}

export type FleetCommand = OpenCommand | RunCommand | { t: 'close' };

/** Counted inside the measured window, except `unacked` (at the end of the drain). */
export interface RunCounts {
  acks: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  framesSent: number;
  eventsSent: number;
  /** Frames a paced socket did not send because `maxOutstanding` were still unacknowledged. */
  skipped: number;
  unacked: number;
}

export type WorkerReport =
  | { t: 'ready' }
  | { t: 'opened'; opened: number; errors: Record<string, number> }
  | {
      t: 'ran';
      counts: RunCounts;
      /** Encoded latency histogram of frames sent in the window (latency-histogram.ts). */
      latency: string;
      /** Errors over the whole run, by code. */
      errors: Record<string, number>;
      /** The worker's own CPU time over the window, to show what the generator took. */
      cpuSeconds: number;
      /** Of all the worker's sockets (idle ones too), those still open after the drain. */
      openSockets: number;
    }
  | { t: 'closed' }
  | { t: 'failed'; message: string };

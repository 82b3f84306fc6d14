/**
 * The messages between the bench runner and its load worker processes (`load-worker.ts`),
 * over the IPC channel of `child_process.fork`. One worker holds a share of the sockets;
 * the runner sends `open`, then any number of `run` (ingest role) or one `subscribe` and any
 * number of `deliveries` (live role), then `close`, and merges the reports.
 */

/** `idle-ws`: bench/idle-ws-client.ts, a lighter WebSocket client for sockets held by the ten thousand. */
export type Transport = 'ws' | 'idle-ws' | 'socket.io';

export interface OpenCommand {
  t: 'open';
  transport: Transport;
  /** Socket i of the whole fleet goes to `urls[i % urls.length]` (the nodes of a cluster). */
  urls: string[];
  sockets: number;
  /** Index of this worker's first socket in the whole fleet; keeps event ids unique. */
  firstIndex: number;
  /** Loopback source addresses of this worker's sockets, taken in turn. */
  localAddresses: string[];
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

/**
 * Live role (dashboards): every open socket sends `message` (a `{t:"sub"}`) and waits for
 * its snapshot; from then on the worker notes when each window key first reaches each socket.
 */
export interface SubscribeCommand {
  t: 'subscribe';
  message: Record<string, unknown>;
  timeoutMs: number;
}

/** Waits until every subscribed socket has had an update of window `key`, or `timeoutMs`. */
export interface DeliveriesCommand {
  t: 'deliveries';
  key: string;
  /** `machineNow()` at which the runner sent the event that made the update. */
  sentAt: number;
  timeoutMs: number;
}

export type FleetCommand =
  OpenCommand | RunCommand | SubscribeCommand | DeliveriesCommand | { t: 'close' };

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
  | {
      t: 'opened';
      opened: number;
      errors: Record<string, number>;
      /** The worker's CPU time while it opened its sockets. */
      cpuSeconds: number;
      /** Its event loop's longest stall meanwhile: a starved worker answers handshakes late. */
      loopDelayMaxMs: number;
    }
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
      /** The others, by close code (`closed_1006`) or reason: who ended them, and how. */
      closedSockets: Record<string, number>;
    }
  | { t: 'subscribed'; subscribed: number; errors: Record<string, number> }
  | {
      t: 'delivered';
      received: number;
      missing: number;
      /** Encoded histogram of `arrival − sentAt`, one sample per socket that got the update. */
      latency: string;
      /** Machine-clock times of the first and the last arrival; absent when none arrived. */
      firstAt?: number;
      lastAt?: number;
    }
  | { t: 'closed' }
  | { t: 'failed'; message: string };

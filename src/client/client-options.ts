/** What `createClient` takes and what `stats()` reports (README "Client library"). */
import type { BackoffOptions } from './backoff.js';
import type { BatchOptions } from './batcher.js';
import type { KeyValueStorage } from './offline-queue.js';
import type { ClientEvent, ServerError, WebSocketConstructor } from './types.js';

/** Who did it; set with `identify` or per `track` call. */
export interface Identity {
  userId?: string;
  anonymousId?: string;
  sessionId?: string;
}

export interface ClientOptions {
  /** A project key: `ingest` scope to track, `read` scope to subscribe. */
  key: string;
  /**
   * The server, `http(s)://` or `ws(s)://`; in a browser it defaults to the page's origin.
   * A list names the nodes of a cluster: the client starts on one at random and every socket
   * moves to the next one after a failed attempt or a close (README "Client library").
   */
  url?: string | readonly string[];
  /** Needed where there is no global `WebSocket` (Node 20): e.g. `import WebSocket from 'ws'`. */
  WebSocket?: WebSocketConstructor;
  identity?: Identity;
  /** Frames go at `maxEvents` (100) waiting events or after `maxDelayMs` (200 ms). */
  batch?: Partial<BatchOptions>;
  /**
   * Reconnects and retries: exponential from `baseMs` (250 ms), capped at `maxMs` (10 s),
   * jittered; over a list of servers, per full round of the list.
   */
  backoff?: Partial<BackoffOptions>;
  /** An attempt not open after this many ms (10,000) is given up for the next server. */
  openTimeoutMs?: number;
  /** Events kept until acknowledged (10,000); past it the oldest are dropped and counted. */
  maxQueuedEvents?: number;
  /** Frames in flight (4). */
  maxInFlightFrames?: number;
  /** Frames are split below this many bytes (1,000,000; the server's default limit is 1 MiB). */
  maxFrameBytes?: number;
  /** Where unacknowledged events outlive the page: `localStorage` when usable, else memory. `null`: memory. */
  storage?: KeyValueStorage | null;
  /**
   * Storage key; by default one per server (or set of servers) and project key, so that a queue is never sent to
   * another project. Two clients open at once (two tabs) need different keys.
   */
  storageKey?: string;
  /** An event the server refused (`TS_OUT_OF_RANGE`, `PROPS_TOO_LARGE`, …): it is not resent. */
  onRejected?: (event: ClientEvent, code: string, msg: string) => void;
  /** Every `{t:"error"}` from any socket, including those the client retries. */
  onError?: (error: ServerError) => void;
}

/** Counters since the client was created. */
export interface ClientStats {
  tracked: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  /** Dropped from the full offline queue (oldest first). */
  dropped: number;
  /** Tracked and not yet acknowledged, in flight included. */
  queued: number;
  inFlightFrames: number;
  /** The ingest socket is open. */
  connected: boolean;
  /** The live (subscriptions) socket is open. */
  liveConnected: boolean;
  reconnects: number;
  persistFailures: number;
}

import { defaultBackoff, type BackoffOptions } from './backoff.js';
import { createBatcher, defaultBatch, type BatchOptions } from './batcher.js';
import { openConnection, type ConnectionHandlers } from './connection.js';
import { eventId } from './event-id.js';
import { createInbox, type Inbox, type InboxOptions } from './inbox.js';
import { createIngestSender } from './ingest-sender.js';
import {
  createLive,
  type SubscribeOptions,
  type Subscription,
  type WindowHandler,
} from './live.js';
import { browserStorage, createOfflineQueue, type KeyValueStorage } from './offline-queue.js';
import { socketUrl } from './socket-url.js';
import type { ClientEvent, Props, ServerError, WebSocketConstructor } from './types.js';

/** Who did it; set with `identify` or per `track` call. */
export interface Identity {
  userId?: string;
  anonymousId?: string;
  sessionId?: string;
}

export interface ClientOptions {
  /** A project key: `ingest` scope to track, `read` scope to subscribe. */
  key: string;
  /** The server, `http(s)://` or `ws(s)://`; in a browser it defaults to the page's origin. */
  url?: string;
  /** Needed where there is no global `WebSocket` (Node 20): e.g. `import WebSocket from 'ws'`. */
  WebSocket?: WebSocketConstructor;
  identity?: Identity;
  /** Frames go at `maxEvents` (100) waiting events or after `maxDelayMs` (200 ms). */
  batch?: Partial<BatchOptions>;
  /** Reconnects and retries: exponential from `baseMs` (250 ms), capped at `maxMs` (10 s), jittered. */
  backoff?: Partial<BackoffOptions>;
  /** Events kept until acknowledged (10,000); past it the oldest are dropped and counted. */
  maxQueuedEvents?: number;
  /** Frames in flight (4). */
  maxInFlightFrames?: number;
  /** Frames are split below this many bytes (1,000,000; the server's default limit is 1 MiB). */
  maxFrameBytes?: number;
  /** Where unacknowledged events outlive the page: `localStorage` when usable, else memory. `null`: memory. */
  storage?: KeyValueStorage | null;
  /**
   * Storage key; by default one per server and project key, so that a queue is never sent to
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

/**
 * A backline client for browsers and Node: tracks events over `/v1/ingest` (batched, kept until
 * acknowledged, resent after reconnects), subscribes to metric streams over `/v1/live` and
 * follows a user's in-app notifications over `/v1/user`.
 *
 * @example
 * import WebSocket from 'ws'; // in a browser: nothing, the global one is used
 * const backline = createClient({ url: 'http://127.0.0.1:8080', key: 'dev_…', WebSocket });
 * backline.identify({ userId: 'u42' });
 * backline.track('vote.cast', { showId: 'show-7', songId: 'song-3' });
 * await backline.flush(); // acknowledged: durable on the server
 * const sub = backline.subscribe('votes_per_show', undefined, (w) => console.log(w.key, w.values));
 * sub.unsubscribe();
 * const inbox = backline.inbox({ token, userId: 'u42', onNotification: (n) => console.log(n.title) });
 * backline.close(); // closes the inbox too
 */
export function createClient(options: ClientOptions) {
  const WebSocket = options.WebSocket ?? globalWebSocket();
  const backoff = { ...defaultBackoff, ...options.backoff };
  const batch = { ...defaultBatch, ...options.batch };
  const connect = (path: string) => (handlers: ConnectionHandlers) =>
    openConnection(
      { url: socketUrl(options.url, path, { key: options.key }), WebSocket, backoff },
      handlers,
    );
  const storage = options.storage === null ? undefined : (options.storage ?? browserStorage());

  const queue = createOfflineQueue({
    maxEvents: options.maxQueuedEvents ?? 10_000,
    storage,
    storageKey:
      options.storageKey ?? `backline:queue:${fnv1a(`${options.url ?? ''}|${options.key}`)}`,
    persistDelayMs: 500,
  });
  const sender = createIngestSender(
    {
      queue,
      batcher: (onDue) => createBatcher(batch, onDue),
      connect: connect('/v1/ingest'),
      ...(options.onRejected ? { onRejected: options.onRejected } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
    },
    {
      maxInFlightFrames: options.maxInFlightFrames ?? 4,
      maxFrameBytes: options.maxFrameBytes ?? 1_000_000,
      maxEvents: batch.maxEvents,
      backoff,
    },
  );
  const live = createLive({
    connect: connect('/v1/live'),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  const inboxes = new Set<Inbox>();
  let identity: Identity = { ...options.identity };
  let tracked = 0;

  // A page being hidden may never run another timer: write the queue while it still can.
  const page = globalThis as { addEventListener?: Listen; removeEventListener?: Listen };
  const onHide = () => queue.persist();
  page.addEventListener?.('pagehide', onHide);
  if (queue.size > 0) sender.start(); // events restored from a previous page

  function subscribe(stream: string, onWindow: WindowHandler): Subscription;
  function subscribe(
    stream: string,
    key: string | undefined,
    onWindow: WindowHandler,
    options?: SubscribeOptions,
  ): Subscription;
  function subscribe(
    stream: string,
    keyOrHandler: string | undefined | WindowHandler,
    onWindow?: WindowHandler,
    subscribeOptions?: SubscribeOptions,
  ): Subscription {
    if (typeof keyOrHandler === 'function') return live.subscribe(stream, undefined, keyOrHandler);
    return live.subscribe(stream, keyOrHandler, onWindow!, subscribeOptions);
  }

  return {
    /** Sets who the next events are from (`userId`, `anonymousId`, `sessionId`). */
    identify(next: Identity) {
      identity = { ...identity, ...next };
    },
    /** Queues an event and returns its id; `ts` is now unless given. */
    track(type: string, props?: Props, extra: Identity & { ts?: number } = {}): string {
      const event: ClientEvent = { id: eventId(), type, ts: Date.now() };
      // Absent, not undefined: the server refuses a `userId` that is not a string.
      for (const [field, value] of Object.entries({ ...identity, ...extra })) {
        if (value !== undefined) Object.assign(event, { [field]: value });
      }
      if (props !== undefined) event.props = props;
      tracked += 1;
      sender.add(event);
      return event.id;
    },
    /** Resolves when every event tracked so far is acknowledged (or rejected, or dropped). */
    flush: () => sender.flush(),
    /** Window results of `stream` (all keys, or one `key`), again after every reconnect. */
    subscribe,
    stats(): ClientStats {
      return {
        tracked,
        ...sender.counts,
        dropped: queue.dropped,
        queued: queue.size,
        inFlightFrames: sender.inFlightFrames,
        connected: sender.connection?.isOpen ?? false,
        liveConnected: live.connection?.isOpen ?? false,
        reconnects: (sender.connection?.reconnects ?? 0) + (live.connection?.reconnects ?? 0),
        persistFailures: queue.persistFailures,
      };
    },
    /**
     * The in-app notifications of one user over `/v1/user`, with its user token: every
     * notification once across reconnects, the unread and unseen counts, and marks.
     *
     * @example
     * const inbox = backline.inbox({
     *   token, // from POST /v1/users/u42/token, issued by your backend with an admin key
     *   userId: 'u42',
     *   onNotification: (n) => console.log(n.title, n.body, n.read),
     *   onCounts: (counts) => console.log(`${counts.unread} unread`),
     * });
     * inbox.markRead(['001795640000000-5d1e2f3a4b']);
     * inbox.close();
     */
    inbox(inboxOptions: InboxOptions): Inbox {
      const user = inboxOptions.userId ?? inboxOptions.token;
      const inbox = createInbox(
        {
          connect: (query, handlers) =>
            openConnection(
              { url: () => socketUrl(options.url, '/v1/user', query()), WebSocket, backoff },
              handlers,
            ),
          storage,
          storageKey: `backline:inbox:${fnv1a(`${options.url ?? ''}|${options.key}|${user}`)}`,
          onClose: () => inboxes.delete(inbox),
        },
        {
          ...inboxOptions,
          onError: inboxOptions.onError ?? options.onError,
        },
      );
      inboxes.add(inbox);
      return inbox;
    },
    /** Closes every socket; unacknowledged events stay in storage for the next client. */
    close() {
      page.removeEventListener?.('pagehide', onHide);
      sender.close();
      live.close();
      for (const inbox of [...inboxes]) inbox.close();
    },
  };
}

export type Client = ReturnType<typeof createClient>;

type Listen = (type: string, listener: () => void) => void;

/** A short stable hash (FNV-1a, 32 bits): names the storage slot without writing the key. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, '0');
}

function globalWebSocket(): WebSocketConstructor {
  const WebSocket = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!WebSocket) throw new Error('no global WebSocket: pass options.WebSocket (the `ws` package)');
  return WebSocket;
}

import { defaultBackoff } from './backoff.js';
import { createBatcher, defaultBatch } from './batcher.js';
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
import { browserStorage, createOfflineQueue } from './offline-queue.js';
import { serverList, serverListName, startIndex } from './server-list.js';
import { socketUrl } from './socket-url.js';
import { storageSlot } from './storage-slot.js';
import type { ClientOptions, ClientStats, Identity } from './client-options.js';
import type { ClientEvent, Props, WebSocketConstructor } from './types.js';

export type { ClientOptions, ClientStats, Identity } from './client-options.js';

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
  const servers = serverList(options.url);
  const start = startIndex(servers.length);
  // A socket opened later (live, an inbox) starts where the client is, not at its first pick.
  const open = (url: (server: string) => string, handlers: ConnectionHandlers) => {
    const on = server();
    const at = on === undefined ? start : servers.indexOf(on);
    const openTimeoutMs = options.openTimeoutMs ?? 10_000;
    return openConnection({ servers, start: at, url, WebSocket, backoff, openTimeoutMs }, handlers);
  };
  const connect = (path: string) => (handlers: ConnectionHandlers) =>
    open((on) => socketUrl(on, path, { key: options.key }), handlers);
  const serverName = serverListName(options.url);
  const storage = options.storage === null ? undefined : (options.storage ?? browserStorage());

  const queue = createOfflineQueue({
    maxEvents: options.maxQueuedEvents ?? 10_000,
    storage,
    storageKey: options.storageKey ?? storageSlot('backline:queue', serverName, options.key),
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

  /** The server of the first open socket: ingest, live, then the inboxes. */
  function server(): string | undefined {
    const sockets = [sender.connection, live.connection, ...[...inboxes].map((i) => i.connection)];
    return sockets.find((connection) => connection?.isOpen)?.server;
  }

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
    /**
     * The server (an entry of `options.url`) the client's sockets are open to, `undefined`
     * while none is: after a failover, the node it moved to.
     */
    get server() {
      return server();
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
          connect: (query, handlers) => open((on) => socketUrl(on, '/v1/user', query()), handlers),
          storage,
          storageKey: storageSlot('backline:inbox', serverName, options.key, user),
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

function globalWebSocket(): WebSocketConstructor {
  const WebSocket = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!WebSocket) throw new Error('no global WebSocket: pass options.WebSocket (the `ws` package)');
  return WebSocket;
}

import type { Connection, ConnectionHandlers } from './connection.js';
import type { LiveWindow, ServerError } from './types.js';

/** Called for every window of the snapshot (oldest first), then for every update. */
export type WindowHandler = (window: LiveWindow) => void;

export interface SubscribeOptions {
  /** Windows in the snapshot sent on (re)subscribe; the server's default is 10, at most 1000. */
  last?: number;
  /** The server refused the subscription (`UNKNOWN_STREAM`, `TOO_MANY_SUBSCRIPTIONS`, …). */
  onError?: (error: ServerError) => void;
}

export interface Subscription {
  readonly stream: string;
  readonly key: string | undefined;
  unsubscribe(): void;
}

interface Entry {
  stream: string;
  key: string | undefined;
  onWindow: WindowHandler;
  options: SubscribeOptions;
}

export interface LiveDeps {
  /** Opens the `/v1/live` socket; called on the first subscription. */
  connect: (handlers: ConnectionHandlers) => Connection;
  onError?: (error: ServerError) => void;
}

/**
 * Subscriptions to metric streams over `/v1/live`, kept across reconnects: each new socket
 * subscribes again and its snapshot brings back what was missed. A window may thus arrive
 * twice; the latest message for a `(start, key)` is the current state of that window.
 *
 * @example
 * const live = createLive({ connect: (handlers) => openConnection(liveOptions, handlers) });
 * const sub = live.subscribe('active_users', undefined, (w) => console.log(w.start, w.values));
 * sub.unsubscribe();
 */
export function createLive(deps: LiveDeps) {
  const entries = new Map<string, Entry>();
  let connection: Connection | undefined;
  let nextId = 1;

  const sendSub = (id: string, entry: Entry) =>
    connection?.send({
      t: 'sub',
      id,
      stream: entry.stream,
      ...(entry.key === undefined ? {} : { key: entry.key }),
      ...(entry.options.last === undefined ? {} : { last: entry.options.last }),
    });

  const handlers: ConnectionHandlers = {
    open() {
      for (const [id, entry] of entries) sendSub(id, entry);
    },
    close: () => undefined,
    message(message) {
      const entry = entries.get(String(message.id));
      if (message.t === 'snapshot') {
        for (const window of message.windows as LiveWindow[]) entry?.onWindow(window);
      } else if (message.t === 'window') {
        entry?.onWindow(message.w as LiveWindow);
      } else if (message.t === 'error') {
        const error = message as unknown as ServerError;
        // A refused `sub` subscribed nothing: forget it rather than repeat it on reconnect.
        if (entry) entries.delete(String(message.id));
        (entry?.options.onError ?? deps.onError)?.(error);
      }
    },
  };

  return {
    subscribe(
      stream: string,
      key: string | undefined,
      onWindow: WindowHandler,
      options: SubscribeOptions = {},
    ): Subscription {
      const id = `s${nextId++}`;
      const entry: Entry = { stream, key, onWindow, options };
      entries.set(id, entry);
      if (connection) sendSub(id, entry);
      else connection = deps.connect(handlers);
      return {
        stream,
        key,
        unsubscribe() {
          if (entries.delete(id)) connection?.send({ t: 'unsub', id });
        },
      };
    },
    get connection() {
      return connection;
    },
    close() {
      entries.clear();
      connection?.close();
    },
  };
}

export type Live = ReturnType<typeof createLive>;

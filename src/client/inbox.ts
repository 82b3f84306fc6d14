import type { Connection, ConnectionHandlers } from './connection.js';
import type { KeyValueStorage } from './offline-queue.js';
import type { InboxCounts, InboxNotification, MarkedAs, ServerError } from './types.js';

export interface InboxOptions {
  /**
   * A user token from `POST /v1/users/:id/token`. Only an admin key may issue one: an app's
   * backend does, never the browser.
   */
  token: string;
  /**
   * The user the token is for: names the storage slot of the last id seen, so that a user
   * signing in on a shared browser never resumes from another's. Without it the slot is the
   * token's (a renewed token then starts afresh).
   */
  userId?: string;
  /**
   * Resume after this id when it is later than the one kept from an earlier page: e.g. the
   * newest item of a page read from `GET /v1/users/:id/inbox`, so that nothing comes twice.
   * Without either, the socket brings only what is sent from now on, and the counts.
   */
  after?: string;
  /** Every notification once, oldest first: missed ones on (re)connect, then live ones. */
  onNotification?: (notification: InboxNotification) => void;
  /** The counts: the server's on connect and after marks, one more on each live notification. */
  onCounts?: (counts: InboxCounts) => void;
  /** Items marked by this socket, another tab or device, or over HTTP. */
  onMarked?: (as: MarkedAs, ids: string[]) => void;
  /** `{t:"error"}` of the user socket (`BAD_FRAME`, …). */
  onError?: (error: ServerError) => void;
}

export interface InboxDeps {
  /** Opens `/v1/user` with the query `query()` gives, read again before every attempt. */
  connect: (query: () => Record<string, string>, handlers: ConnectionHandlers) => Connection;
  /** Where the last id seen outlives the page; `undefined` keeps it in memory. */
  storage: KeyValueStorage | undefined;
  storageKey: string;
  /** Called once `close()` has closed the socket. */
  onClose?: () => void;
}

// The server takes at most 500 ids per mark, and a resume sends at most 500 notifications.
const maxIdsPerFrame = 500;
const maxResumeItems = 500;
const rememberedIds = 1000; // ids delivered lately, to drop a second copy

/**
 * The user's in-app notifications over `/v1/user`. Every (re)connect asks for what came
 * after the last id seen (`?after=`; kept in memory and in storage), so a reconnect neither
 * loses nor repeats a notification. Marks made while disconnected go once the socket is back.
 *
 * @example
 * const inbox = createInbox(
 *   { connect: (query, handlers) => openConnection({ ...options, url: (server) => userUrl(server, query()) }, handlers),
 *     storage: browserStorage(), storageKey: 'backline:inbox:u42' },
 *   { token, userId: 'u42', onNotification: (n) => show(n.title), onCounts: (c) => badge(c.unread) },
 * );
 * inbox.markRead([id]);
 * inbox.close();
 */
export function createInbox(deps: InboxDeps, options: InboxOptions) {
  const { storage, storageKey } = deps;
  const recent = new Set<string>();
  const pendingMarks: Array<{ t: 'read' | 'seen' | 'archive'; ids: string[] }> = [];
  let lastId = later(restore(storage, storageKey), options.after);
  let counts: InboxCounts | undefined;
  let resumed = 0; // notifications of the current resume, which ends with its counts

  const saw = (id: string) => {
    recent.add(id);
    if (recent.size > rememberedIds) recent.delete(recent.values().next().value!);
    // The greatest id, not the last to arrive: an older one may still come live (held back by
    // quiet hours), and resuming after it would send the newer ones again.
    if (later(lastId, id) === lastId) return;
    lastId = id;
    try {
      storage?.setItem(storageKey, id);
    } catch {
      // Storage full or blocked: the last id lives on in memory, which covers reconnects.
    }
  };

  function onNotification(n: Record<string, unknown>) {
    // Resumed items carry their read state; a live one is new and carries none.
    const live = n.read === undefined;
    if (!live) resumed += 1;
    if (typeof n.id !== 'string' || recent.has(n.id)) return;
    saw(n.id);
    if (live && counts) {
      counts = { unread: counts.unread + 1, unseen: counts.unseen + 1, total: counts.total + 1 };
      options.onCounts?.(counts);
    }
    options.onNotification?.({
      ...(n as unknown as InboxNotification),
      seen: n.seen === true,
      read: n.read === true,
      live,
    });
  }

  function onCounts(message: Record<string, unknown>) {
    const { unread, unseen, total } = message as unknown as InboxCounts;
    counts = { unread, unseen, total };
    // A full resume may have left more behind: ask for the next page.
    if (resumed >= maxResumeItems && lastId !== undefined)
      connection.send({ t: 'resume', after: lastId });
    resumed = 0;
    options.onCounts?.(counts);
  }

  const handlers: ConnectionHandlers = {
    open() {
      resumed = 0;
      for (const mark of pendingMarks.splice(0)) connection.send(mark);
    },
    close: () => undefined,
    message(message) {
      switch (message.t) {
        case 'notification':
          return onNotification((message.n ?? {}) as Record<string, unknown>);
        case 'counts':
          return onCounts(message);
        case 'marked':
          return options.onMarked?.(message.as as MarkedAs, message.ids as string[]);
        case 'error':
          return options.onError?.(message as unknown as ServerError);
      }
    },
  };
  const connection = deps.connect(
    () => ({ token: options.token, ...(lastId === undefined ? {} : { after: lastId }) }),
    handlers,
  );

  const mark = (t: 'read' | 'seen' | 'archive') => (ids: Iterable<string>) => {
    const all = [...new Set(ids)];
    for (let i = 0; i < all.length; i += maxIdsPerFrame) {
      const frame = { t, ids: all.slice(i, i + maxIdsPerFrame) };
      if (!connection.send(frame)) pendingMarks.push(frame);
    }
  };

  return {
    /** The latest counts; `undefined` until the socket first opened. */
    get counts(): InboxCounts | undefined {
      return counts;
    },
    /** The greatest notification id seen: where the next (re)connect resumes. */
    get lastId(): string | undefined {
      return lastId;
    },
    get connected(): boolean {
      return connection.isOpen;
    },
    /** The server the socket is open to, or tries next. */
    get server(): string {
      return connection.server;
    },
    get connection(): Connection {
      return connection;
    },
    /** Marks read (and seen); every socket of the user then gets `onMarked` and counts. */
    markRead: mark('read'),
    markSeen: mark('seen'),
    /** Archived items leave the counts and are not resumed. */
    archive: mark('archive'),
    close() {
      connection.close();
      deps.onClose?.();
    },
  };
}

export type Inbox = ReturnType<typeof createInbox>;

/** The later of two notification ids: they sort by time as strings. */
function later(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return b > a ? b : a;
}

function restore(storage: KeyValueStorage | undefined, key: string): string | undefined {
  try {
    return storage?.getItem(key) || undefined;
  } catch {
    return undefined; // blocked storage throws on access
  }
}

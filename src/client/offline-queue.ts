import type { ClientEvent } from './types.js';

/** What the queue needs of `localStorage`; a test or an app may pass its own. */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface OfflineQueueOptions {
  /** Bound on events kept until acknowledged; past it the oldest is dropped and counted. */
  maxEvents: number;
  /** Where the queue survives a page reload; `undefined` keeps it in memory only. */
  storage: KeyValueStorage | undefined;
  /** Storage key; two clients open at once (two tabs) need different keys. */
  storageKey: string;
  /** Writes to storage are coalesced over this many ms, so a burst of `track` writes once. */
  persistDelayMs: number;
}

/** A queued event and its place in the order of tracking (what `flush` waits for). */
export interface QueuedEvent {
  readonly n: number;
  readonly event: ClientEvent;
}

export interface OfflineQueue {
  readonly size: number;
  /** Events dropped because the queue was full (oldest first). */
  readonly dropped: number;
  /** Failed writes to storage (quota, private mode); the queue then lives on in memory. */
  readonly persistFailures: number;
  /** Appends an event; returns the number `flush` compares with. */
  push(event: ClientEvent): number;
  /** The oldest events for which `skip(id)` is false, at most `max`. */
  take(max: number, skip: (id: string) => boolean): QueuedEvent[];
  remove(ids: Iterable<string>): void;
  /** `n` of the oldest queued event; `Infinity` when empty. */
  oldest(): number;
  /** `n` of the event pushed last. */
  newest(): number;
  /** Writes to storage now (the page is being hidden or the client closes). */
  persist(): void;
}

/**
 * Events tracked but not yet acknowledged, oldest first, bounded by `maxEvents`.
 *
 * Policy when full: the **oldest event is dropped** and counted in `dropped`. A client offline
 * for long keeps its most recent activity, which is what live streams and dashboards show;
 * an event dropped while its frame was in flight may still reach the server.
 *
 * @example
 * const queue = createOfflineQueue({ maxEvents: 2, storage: undefined, storageKey: 'q', persistDelayMs: 100 });
 * queue.push(a); queue.push(b); queue.push(c); // a is dropped: queue.dropped === 1
 */
export function createOfflineQueue(options: OfflineQueueOptions): OfflineQueue {
  const { storage, storageKey, maxEvents } = options;
  // A Map keeps insertion order and deletes in O(1): acks may arrive out of order.
  const events = new Map<string, QueuedEvent>();
  let next = 0;
  let dropped = 0;
  let persistFailures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const persist = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (!storage) return;
    try {
      if (events.size === 0) storage.removeItem(storageKey);
      else storage.setItem(storageKey, JSON.stringify([...events.values()].map((q) => q.event)));
    } catch {
      persistFailures += 1;
    }
  };
  const changed = () => {
    if (storage && timer === undefined) timer = setTimeout(persist, options.persistDelayMs);
  };
  const push = (event: ClientEvent) => {
    const n = next++;
    events.set(event.id, { n, event });
    while (events.size > maxEvents) {
      events.delete(events.keys().next().value as string);
      dropped += 1;
    }
    changed();
    return n;
  };

  for (const event of restore(storage, storageKey)) push(event);
  return {
    get size() {
      return events.size;
    },
    get dropped() {
      return dropped;
    },
    get persistFailures() {
      return persistFailures;
    },
    push,
    take(max, skip) {
      const taken: QueuedEvent[] = [];
      for (const queued of events.values()) {
        if (taken.length >= max) break;
        if (!skip(queued.event.id)) taken.push(queued);
      }
      return taken;
    },
    remove(ids) {
      let any = false;
      for (const id of ids) any = events.delete(id) || any;
      if (any) changed();
    },
    oldest: () => events.values().next().value?.n ?? Infinity,
    newest: () => next - 1,
    persist,
  };
}

/** `localStorage` when the platform has a working one (not Node 20, not a blocked one). */
export function browserStorage(): KeyValueStorage | undefined {
  try {
    const storage = (globalThis as { localStorage?: KeyValueStorage }).localStorage;
    if (!storage) return undefined;
    storage.setItem('backline:probe', '1');
    storage.removeItem('backline:probe');
    return storage;
  } catch {
    return undefined; // disabled storage throws on access (Safari private mode, sandboxed frames)
  }
}

function restore(storage: KeyValueStorage | undefined, key: string): ClientEvent[] {
  try {
    const saved: unknown = JSON.parse(storage?.getItem(key) ?? '[]');
    return Array.isArray(saved) ? saved.filter(isEvent) : [];
  } catch {
    return []; // a corrupt entry is worth less than a working client
  }
}

function isEvent(value: unknown): value is ClientEvent {
  const event = value as Partial<ClientEvent> | null;
  return (
    typeof event?.id === 'string' && typeof event.type === 'string' && typeof event.ts === 'number'
  );
}

import type { WindowResult } from '../../model/window-result.js';

/** One window's latest update, in the order updates arrived. */
export interface FeedEntry {
  /** Undefined once the entry left the feed. */
  result: WindowResult | undefined;
  /** The encoded message per subscription id, made at most once whoever sends it. */
  bytes: Map<string | number, Buffer> | undefined;
  readonly slot: string;
  readonly final: boolean;
  dead: boolean;
  // Arrival order. A dead entry keeps `prev`: following it back from a cursor left on a dead
  // entry reaches the newest live entry before it, since entries are only ever appended.
  prev: FeedEntry | undefined;
  next: FeedEntry | undefined;
  // Order within its kind (early or final), for eviction.
  kindPrev: FeedEntry | undefined;
  kindNext: FeedEntry | undefined;
}

/** How far one follower has read: the last entry it took (undefined: none of those live). */
export interface FeedCursor {
  at: FeedEntry | undefined;
}

interface List {
  head: FeedEntry | undefined;
  tail: FeedEntry | undefined;
}

/**
 * The updates of one audience (a stream, or one key of it) for the dashboards that fell
 * behind on it: only the latest update of each window (its `slot`), at most `maxEntries`;
 * past that the oldest early update leaves (a later update of its window would replace it
 * anyway), and only when none is left the oldest final. Followers share it, each with its
 * own cursor, so an update costs O(1) whatever the number of slow dashboards, and reading
 * costs O(1) per update read. (One queue per dashboard costs one insert per dashboard and
 * update: with 100 stalled dashboards that froze the event loop, issue #16.)
 *
 * @example
 * const feed = createLiveFeed(1000);
 * const cursor = feed.follow();
 * feed.push('1700000000000/a', result, encoded); // { coalesced: false, dropped: false }
 * feed.take(cursor); // the entry of window 1700000000000/a
 */
export function createLiveFeed(maxEntries: number) {
  const latest = new Map<string, FeedEntry>();
  const all: List = { head: undefined, tail: undefined };
  const early: List = { head: undefined, tail: undefined };
  const finals: List = { head: undefined, tail: undefined };

  function kill(entry: FeedEntry): void {
    entry.dead = true;
    entry.result = entry.bytes = undefined;
    latest.delete(entry.slot);
    if (entry.prev) entry.prev.next = entry.next;
    else all.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else all.tail = entry.prev;
    const kind = entry.final ? finals : early;
    if (entry.kindPrev) entry.kindPrev.kindNext = entry.kindNext;
    else kind.head = entry.kindNext;
    if (entry.kindNext) entry.kindNext.kindPrev = entry.kindPrev;
    else kind.tail = entry.kindPrev;
    // Only `prev` is followed from here on; the rest would keep live entries reachable.
    entry.next = entry.kindPrev = entry.kindNext = undefined;
  }

  /** The first live entry after the cursor. */
  function nextOf(cursor: FeedCursor): FeedEntry | undefined {
    let at = cursor.at;
    while (at?.dead) at = at.prev;
    cursor.at = at;
    return at ? at.next : all.head;
  }

  return {
    get size() {
      return latest.size;
    },

    /** A cursor past every update so far. */
    follow(): FeedCursor {
      return { at: all.tail };
    },

    /** Adds the latest update of `slot`; says whether it replaced one and whether one left. */
    push(slot: string, result: WindowResult, bytes: Map<string | number, Buffer>) {
      const previous = latest.get(slot);
      if (previous) kill(previous);
      const entry: FeedEntry = {
        result,
        bytes,
        slot,
        final: result.final,
        dead: false,
        prev: all.tail,
        next: undefined,
        kindPrev: undefined,
        kindNext: undefined,
      };
      if (all.tail) all.tail.next = entry;
      else all.head = entry;
      all.tail = entry;
      const kind = entry.final ? finals : early;
      entry.kindPrev = kind.tail;
      if (kind.tail) kind.tail.kindNext = entry;
      else kind.head = entry;
      kind.tail = entry;
      latest.set(slot, entry);
      const victim = latest.size > maxEntries ? (early.head ?? finals.head) : undefined;
      if (victim) kill(victim);
      return { coalesced: previous !== undefined, dropped: victim !== undefined };
    },

    /** The next update for this cursor, which moves past it; undefined when it has them all. */
    take(cursor: FeedCursor): FeedEntry | undefined {
      const entry = nextOf(cursor);
      if (entry) cursor.at = entry;
      return entry;
    },

    /** Whether the cursor has every update. */
    caughtUp(cursor: FeedCursor): boolean {
      return nextOf(cursor) === undefined;
    },
  };
}

export type LiveFeed = ReturnType<typeof createLiveFeed>;

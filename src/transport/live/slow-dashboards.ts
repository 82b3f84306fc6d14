import { closeCodes } from '../../errors.js';
import type { Metrics } from '../../ops/metrics.js';
import type { WindowResult } from '../../model/window-result.js';
import { createLiveFeed, type FeedEntry, type LiveFeed } from './live-feed.js';
import type { LiveSocket, Subscription } from './live-state.js';
import { encode, type SocketWriter } from '../socket-writer.js';

export interface SlowDashboardOptions {
  maxPendingUpdates: number;
  stalledCloseMs: number;
  drainBatch: number;
}

/**
 * The dashboards whose sockets fell behind. Off the uWS topics, each subscription reads the
 * shared feed of its audience (the latest update of each window) as its socket takes bytes:
 * publishing costs O(1) per update whatever their number, and a drain sends at most
 * `drainBatch` updates, so no tick grows with the backlog. A dashboard whose socket takes no
 * byte for `stalledCloseMs` is closed with 1013 (try again later): it is behind through no
 * fault of the server's, and reconnecting gets it a fresh snapshot.
 */
export function createSlowDashboards(
  deps: { writer: SocketWriter; metrics: Metrics },
  opts: SlowDashboardOptions,
) {
  const { writer, metrics } = deps;
  // audience → its feed and how many slow subscriptions read it
  const feeds = new Map<string, { feed: LiveFeed; followers: number }>();
  // slow dashboard → when its socket last took bytes (performance.now() ms)
  const slow = new Map<LiveSocket, { progressAt: number }>();
  let coalesced = 0;
  let dropped = 0;

  function follow(sub: Subscription): void {
    let shared = feeds.get(sub.audience);
    if (!shared)
      feeds.set(
        sub.audience,
        (shared = { feed: createLiveFeed(opts.maxPendingUpdates), followers: 0 }),
      );
    shared.followers += 1;
    sub.cursor = shared.feed.follow();
  }

  function unfollow(sub: Subscription): void {
    const shared = feeds.get(sub.audience);
    sub.cursor = undefined;
    if (shared && --shared.followers === 0) feeds.delete(sub.audience);
  }

  const bytesOf = (entry: FeedEntry, id: string | number): Buffer => {
    let bytes = entry.bytes!.get(id);
    if (!bytes) entry.bytes!.set(id, (bytes = encode({ t: 'window', id, w: entry.result })));
    return bytes;
  };

  function catchUp(ws: LiveSocket): void {
    const state = ws.getUserData();
    state.behind = false;
    for (const sub of state.subs.values()) {
      unfollow(sub);
      ws.subscribe(sub.topic);
    }
    slow.delete(ws);
    metrics.liveSlowConsumers.set(slow.size);
  }

  /** Sends what the socket's subscriptions have yet to get, while it takes them. */
  function send(ws: LiveSocket): void {
    const state = ws.getUserData();
    if (!state.behind || state.closed) return;
    let budget = opts.drainBatch;
    writer.cork(ws, () => {
      for (const sub of state.subs.values()) {
        const { feed } = feeds.get(sub.audience)!;
        while (budget > 0 && writer.hasRoom(ws)) {
          const entry = feed.take(sub.cursor!);
          if (!entry) break;
          budget -= 1;
          if (!writer.sendBytes(ws, bytesOf(entry, sub.id))) return;
        }
      }
    });
    if (state.closed) return;
    for (const sub of state.subs.values())
      if (!feeds.get(sub.audience)!.feed.caughtUp(sub.cursor!)) return;
    catchUp(ws);
  }

  return {
    follow,
    unfollow,

    /** Takes a dashboard whose socket has a backlog off its topics. */
    fallBehind(ws: LiveSocket, now: number): void {
      const state = ws.getUserData();
      state.behind = true;
      for (const sub of state.subs.values()) {
        ws.unsubscribe(sub.topic);
        follow(sub);
      }
      slow.set(ws, { progressAt: now });
      metrics.liveSlowConsumers.set(slow.size);
    },

    /** Feeds an update to the slow subscriptions of `audience`, if it has any. */
    queue(audience: string, result: WindowResult, bytes: Map<string | number, Buffer>): void {
      const shared = feeds.get(audience);
      if (!shared) return;
      const outcome = shared.feed.push(`${result.start}\u0000${result.key}`, result, bytes);
      if (outcome.coalesced) coalesced += 1;
      if (outcome.dropped) dropped += 1;
    },

    /** Counts once per batch of results what the feeds coalesced and dropped. */
    flushCounts(): void {
      if (coalesced > 0) metrics.liveUpdatesCoalesced.inc(coalesced);
      if (dropped > 0) metrics.liveUpdatesDropped.inc(dropped);
      coalesced = dropped = 0;
    },

    /** uWS `drain`: the socket took bytes. */
    drain(ws: LiveSocket, now: number): void {
      const progress = slow.get(ws);
      if (!progress) return;
      progress.progressAt = now;
      send(ws);
    },

    /** Closes the stalled; sends more to those whose last drain stopped at `drainBatch`. */
    scan(now: number): void {
      for (const [ws, { progressAt }] of slow) {
        if (now - progressAt > opts.stalledCloseMs) {
          writer.close(ws, closeCodes.tryAgainLater, 'stalled: not reading', 'live_stalled');
        } else if (writer.hasRoom(ws)) {
          send(ws);
        }
      }
    },

    /** A closed socket (its subscriptions already ended). */
    forget(ws: LiveSocket): void {
      if (slow.delete(ws)) metrics.liveSlowConsumers.set(slow.size);
    },
  };
}

export type SlowDashboards = ReturnType<typeof createSlowDashboards>;

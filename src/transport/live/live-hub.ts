import type { Metrics } from '../../ops/metrics.js';
import type { Service } from '../../ops/lifecycle.js';
import type { WindowSink } from '../../pipeline/pipeline-service.js';
import type { WindowResult } from '../../model/window-result.js';
import type { LiveSocket, Subscription } from './live-state.js';
import { createSlowDashboards } from './slow-dashboards.js';
import { encode, type SocketWriter } from '../socket-writer.js';

export type { LiveSocketState, Subscription } from './live-state.js';

// When a dashboard is behind is the writer's policy (`slowBytes`, see socket-writer.ts).
export const defaultLiveOptions = {
  maxPendingUpdates: 1000, // windows a feed holds (per stream or key); past it the oldest leave
  scanEveryMs: 100, // how often dashboards are checked for backlog, stalls and drains to resume
  stalledCloseMs: 30_000, // a slow dashboard whose socket takes no byte for this long is closed
  drainBatch: 256, // queued updates sent to one dashboard per drain: bounds its share of a tick
};

export type LiveOptions = typeof defaultLiveOptions;

/**
 * Fans window results out to dashboards over uWS topics: one publish reaches every
 * subscriber of a stream (or of one key) that chose the same subscription id, so a
 * broadcast costs one encode per distinct id, not one per socket. A dashboard that falls
 * behind is taken off the topics and gets only the latest update of each window, from a
 * bounded feed shared with the other slow dashboards, as its socket drains; then it rejoins
 * the topics. One that takes nothing
 * for `stalledCloseMs` is closed with 1013.
 *
 * @example
 * const hub = createLiveHub({ writer, metrics }, { stalledCloseMs: 30_000 });
 * pipeline sinks: [hub.sink]; lifecycle: [hub, server]
 */
export function createLiveHub(
  deps: { writer: SocketWriter; metrics: Metrics },
  options: Partial<LiveOptions> = {},
) {
  const { writer, metrics } = deps;
  const opts = { ...defaultLiveOptions, ...options };
  // audience → subscription id → subscribers that share its topic
  const audiences = new Map<string, Map<string, { id: string | number; count: number }>>();
  const sockets = new Set<LiveSocket>();
  const slow = createSlowDashboards(deps, opts);
  let timer: NodeJS.Timeout | undefined;

  const audienceOf = (project: string, stream: string, key: string | undefined) =>
    `${project}/${stream}/${key === undefined ? '*' : `k:${key}`}`;

  function subscribe(
    ws: LiveSocket,
    id: string | number,
    stream: string,
    key: string | undefined,
  ): void {
    const state = ws.getUserData();
    unsubscribe(ws, String(id));
    const audience = audienceOf(state.viewer.projectId, stream, key);
    const sub: Subscription = { id, stream, key, audience, topic: `${audience}/${id}` };
    state.subs.set(String(id), sub);
    let ids = audiences.get(audience);
    if (!ids) audiences.set(audience, (ids = new Map()));
    const entry = ids.get(String(id)) ?? { id, count: 0 };
    entry.count += 1;
    ids.set(String(id), entry);
    if (state.behind) slow.follow(sub);
    else ws.subscribe(sub.topic);
    metrics.liveSubscriptions.inc();
  }

  function unsubscribe(ws: LiveSocket, id: string): boolean {
    const state = ws.getUserData();
    const sub = state.subs.get(id);
    if (!sub) return false;
    state.subs.delete(id);
    if (state.behind) slow.unfollow(sub);
    else if (!state.closed) ws.unsubscribe(sub.topic);
    const ids = audiences.get(sub.audience);
    const entry = ids?.get(id);
    if (entry && --entry.count === 0) ids!.delete(id);
    if (ids?.size === 0) audiences.delete(sub.audience);
    metrics.liveSubscriptions.dec();
    return true;
  }

  function publish(project: string, result: WindowResult): void {
    // One encode per subscription id, shared by its topic and the slow feeds. An id whose
    // dashboards are all behind is encoded only when one of them is sent the update.
    const encoded = new Map<string | number, Buffer>();
    for (const key of [undefined, result.key]) {
      const audience = audienceOf(project, result.stream, key);
      for (const { id } of audiences.get(audience)?.values() ?? []) {
        writer.publish(`${audience}/${id}`, () => {
          let bytes = encoded.get(id);
          if (!bytes) encoded.set(id, (bytes = encode({ t: 'window', id, w: result })));
          return bytes;
        });
      }
      slow.queue(audience, result, encoded);
    }
  }

  /** Takes dashboards with a backlog off the topics; closes the stalled; resumes drains. */
  function scan(): void {
    const now = performance.now();
    for (const ws of sockets) {
      const state = ws.getUserData();
      if (!state.behind && !state.closed && writer.lagging(ws)) slow.fallBehind(ws, now);
    }
    slow.scan(now);
  }

  const sink: WindowSink = {
    write(project, results) {
      for (const result of results) publish(project, result);
      slow.flushCounts();
    },
  };

  const service: Service = {
    name: 'live-hub',
    async start() {
      timer ??= setInterval(scan, opts.scanEveryMs);
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };

  return {
    ...service,
    sink,
    subscribe,
    unsubscribe,
    opened(ws: LiveSocket) {
      sockets.add(ws);
    },
    closed(ws: LiveSocket) {
      for (const id of [...ws.getUserData().subs.keys()]) unsubscribe(ws, id);
      sockets.delete(ws);
      slow.forget(ws);
    },
    /** uWS `drain`: the socket took bytes; a slow one gets more of its queue, or rejoins topics. */
    drain(ws: LiveSocket) {
      slow.drain(ws, performance.now());
    },
  };
}

export type LiveHub = ReturnType<typeof createLiveHub>;

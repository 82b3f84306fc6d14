import type { TemplatedApp, WebSocket } from 'uWebSockets.js';
import type { Principal } from '../auth/key-registry.js';
import type { Metrics } from '../ops/metrics.js';
import type { WindowSink } from '../pipeline/pipeline-service.js';
import type { WindowResult } from '../model/window-result.js';
import { encode, type SocketState } from './socket-writer.js';

export const defaultLiveOptions = {
  slowBytes: 256 * 1024, // a dashboard with more than this unsent is served from its own queue
  maxPendingUpdates: 1000, // windows queued per slow dashboard; past this the oldest are dropped
  scanEveryMs: 100, // how often publishing checks dashboards for backlog
};

export interface Subscription {
  id: string | number;
  stream: string;
  key: string | undefined;
  topic: string;
}

export interface LiveSocketState extends SocketState {
  principal: Principal;
  subs: Map<string, Subscription>;
  /** Behind: unsubscribed from topics, updates coalesce here (latest per window) until drained. */
  pending: Map<string, { bytes: Buffer; final: boolean }> | undefined;
  badFrames: number;
}

type LiveSocket = WebSocket<LiveSocketState>;

/**
 * Fans window results out to dashboards over uWS topics: one publish reaches every
 * subscriber of a stream (or of one key) that chose the same subscription id, so a
 * broadcast costs one encode per distinct id, not one per socket. A dashboard that falls
 * behind is taken off the topics and gets only the latest update of each window, from a
 * bounded queue (early updates are dropped before finals when it is full), as its socket
 * drains; then it rejoins the topics.
 */
export function createLiveHub(
  app: TemplatedApp,
  metrics: Metrics,
  options: Partial<typeof defaultLiveOptions> = {},
) {
  const opts = { ...defaultLiveOptions, ...options };
  // `${project}/${stream}/${'*' | 'k:' + key}` → subscription id → subscribers
  const audiences = new Map<string, Map<string, { id: string | number; count: number }>>();
  const sockets = new Set<LiveSocket>();
  const slow = new Set<LiveSocket>();
  let lastScan = 0;

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
    const audience = audienceOf(state.principal.projectId, stream, key);
    const topic = `${audience}/${id}`;
    state.subs.set(String(id), { id, stream, key, topic });
    let ids = audiences.get(audience);
    if (!ids) audiences.set(audience, (ids = new Map()));
    const entry = ids.get(String(id)) ?? { id, count: 0 };
    entry.count += 1;
    ids.set(String(id), entry);
    if (!state.pending) ws.subscribe(topic);
    metrics.liveSubscriptions.inc();
  }

  function unsubscribe(ws: LiveSocket, id: string): boolean {
    const state = ws.getUserData();
    const sub = state.subs.get(id);
    if (!sub) return false;
    state.subs.delete(id);
    if (!state.closed && !state.pending) ws.unsubscribe(sub.topic);
    const audience = sub.topic.slice(0, sub.topic.length - id.length - 1);
    const ids = audiences.get(audience);
    const entry = ids?.get(id);
    if (entry && --entry.count === 0) ids!.delete(id);
    if (ids?.size === 0) audiences.delete(audience);
    metrics.liveSubscriptions.dec();
    return true;
  }

  function queue(ws: LiveSocket, sub: Subscription, result: WindowResult, bytes: Buffer): void {
    const pending = ws.getUserData().pending!;
    const slot = `${sub.id}\u0000${result.start}\u0000${result.key}`;
    if (pending.delete(slot)) metrics.liveUpdatesCoalesced.inc();
    pending.set(slot, { bytes, final: result.final });
    if (pending.size > opts.maxPendingUpdates) {
      // Early updates go first: a later one replaces them anyway, a final result does not.
      let victim: string | undefined;
      for (const [candidate, entry] of pending) {
        if (!entry.final) {
          victim = candidate;
          break;
        }
      }
      pending.delete(victim ?? pending.keys().next().value!);
      metrics.liveUpdatesDropped.inc();
    }
  }

  function fallBehind(ws: LiveSocket): void {
    const state = ws.getUserData();
    state.pending = new Map();
    for (const sub of state.subs.values()) ws.unsubscribe(sub.topic);
    slow.add(ws);
    metrics.liveSlowConsumers.set(slow.size);
  }

  const publish = (project: string, result: WindowResult) => {
    for (const key of [undefined, result.key]) {
      const audience = audienceOf(project, result.stream, key);
      for (const { id } of audiences.get(audience)?.values() ?? []) {
        app.publish(`${audience}/${id}`, encode({ t: 'window', id, w: result }), true);
      }
    }
    for (const ws of slow) {
      const state = ws.getUserData();
      if (state.principal.projectId !== project) continue;
      for (const sub of state.subs.values()) {
        if (sub.stream === result.stream && (sub.key === undefined || sub.key === result.key)) {
          queue(ws, sub, result, encode({ t: 'window', id: sub.id, w: result }));
        }
      }
    }
  };

  const sink: WindowSink = {
    write(project, results) {
      for (const result of results) publish(project, result);
      const now = performance.now();
      if (now - lastScan < opts.scanEveryMs) return;
      lastScan = now;
      for (const ws of sockets)
        if (!ws.getUserData().pending && ws.getBufferedAmount() > opts.slowBytes) fallBehind(ws);
    },
  };

  return {
    sink,
    subscribe,
    unsubscribe,
    opened(ws: LiveSocket) {
      sockets.add(ws);
    },
    closed(ws: LiveSocket) {
      for (const id of [...ws.getUserData().subs.keys()]) unsubscribe(ws, id);
      sockets.delete(ws);
      if (slow.delete(ws)) metrics.liveSlowConsumers.set(slow.size);
    },
    /** uWS `drain`: send queued updates while the socket takes them; rejoin topics when empty. */
    drain(ws: LiveSocket) {
      const state = ws.getUserData();
      if (!state.pending || state.closed) return;
      for (const [slot, { bytes }] of state.pending) {
        if (ws.getBufferedAmount() > opts.slowBytes / 2) return;
        state.pending.delete(slot);
        ws.send(bytes, true);
      }
      state.pending = undefined;
      for (const sub of state.subs.values()) ws.subscribe(sub.topic);
      slow.delete(ws);
      metrics.liveSlowConsumers.set(slow.size);
    },
  };
}

export type LiveHub = ReturnType<typeof createLiveHub>;

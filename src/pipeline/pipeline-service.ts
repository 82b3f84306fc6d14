import { merge, Subject, Subscription, type SchedulerLike } from 'rxjs';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { streamPipeline } from './stream-pipeline.js';
import type { StreamSpec } from './stream-spec.js';
import type { StreamEvent } from '../model/event.js';
import type { WindowResult } from '../model/window-result.js';
import { windowId, windowResult, type OpenWindows } from './window-state.js';

/** Where window results go: live subscribers, storage, the recent-window cache. */
export interface WindowSink {
  write(project: string, results: readonly WindowResult[]): void;
}

/** What another owner of a window last published of it (a node's bus-fed window cache). */
export type SeenRev = (key: string, start: number) => { rev: number; final: boolean } | undefined;

interface RunningStream {
  spec: StreamSpec;
  open: OpenWindows;
  subscription: Subscription;
  /** The stream's own input, for replaying stored events into this stream alone. */
  replay: Subject<StreamEvent[]>;
  /**
   * Where a restart's replay began reading (epoch ms): a window starting before it got only
   * part of its events, and it had closed past its lateness before the restart, so its stored
   * final stands and the partial result is not emitted.
   */
  replayedFrom?: number;
}

/**
 * Runs every metric stream of every project: accepted frames go in per project, window
 * results come out to the sinks. Streams can be defined and removed while running.
 *
 * @example
 * const pipeline = createPipelineService({ sinks: [hub, store], metrics, log }, { dev: specs });
 * ingest.onAccepted(pipeline.feed);
 */
export function createPipelineService(
  deps: { sinks: readonly WindowSink[]; metrics: Metrics; log: Logger; scheduler?: SchedulerLike },
  initial: Record<string, readonly StreamSpec[]>,
) {
  const { sinks, metrics, log } = deps;
  const inputs = new Map<string, Subject<StreamEvent[]>>();
  const running = new Map<string, Map<string, RunningStream>>();
  // Projects being rebuilt: their results are collected here instead of reaching the sinks.
  const muted = new Map<string, WindowResult[]>();

  const inputOf = (project: string) => {
    let input = inputs.get(project);
    if (!input) inputs.set(project, (input = new Subject()));
    return input;
  };

  function define(project: string, spec: StreamSpec): void {
    remove(project, spec.name);
    const open: OpenWindows = new Map();
    const replay = new Subject<StreamEvent[]>();
    const stream: RunningStream = { spec, open, subscription: Subscription.EMPTY, replay };
    stream.subscription = merge(replay, inputOf(project))
      .pipe(
        streamPipeline(spec, {
          open,
          ...(deps.scheduler ? { scheduler: deps.scheduler } : {}),
          onLate: (kind, count) => metrics.lateEvents.inc({ stream: spec.name, kind }, count),
        }),
      )
      .subscribe({
        next(all) {
          const from = stream.replayedFrom;
          const results = from === undefined ? all : all.filter((r) => r.start >= from);
          if (results.length === 0) return;
          const collected = muted.get(project);
          if (collected) for (const result of results) collected.push(result);
          else emit(project, results);
        },
        error: (err: unknown) => log.error({ err, project, stream: spec.name }, 'stream failed'),
      });
    let streams = running.get(project);
    if (!streams) running.set(project, (streams = new Map()));
    streams.set(spec.name, stream);
  }

  function emit(project: string, results: readonly WindowResult[]): void {
    // Counted per stream and kind, not per result: a labelled inc costs a label lookup, and
    // a stream with many keys emits tens of thousands of results a second.
    let stream = '';
    let finals = 0;
    let updates = 0;
    const count = () => {
      if (finals > 0) metrics.windowsEmitted.inc({ stream, final: 'true' }, finals);
      if (updates > 0) metrics.windowsEmitted.inc({ stream, final: 'false' }, updates);
      finals = updates = 0;
    };
    for (const result of results) {
      if (result.stream !== stream) {
        count();
        stream = result.stream;
      }
      if (result.final) finals += 1;
      else updates += 1;
    }
    count();
    for (const sink of sinks) sink.write(project, results);
  }

  /** Every stream of the project starts again with no window and no watermark. */
  function dropProject(project: string): void {
    for (const spec of [...(running.get(project)?.values() ?? [])].map((s) => s.spec))
      define(project, spec);
  }

  /**
   * After `rebuild`: each open window's rev goes up to at least what the previous owner
   * published (dashboards and the window table keep the newest rev), and a window published
   * final is fired here too (no second final). Returns the replay's finals (`replayed`, last
   * one per window) that were never published final, stamped above every published rev:
   * the caller emits them.
   */
  function adoptRevs(
    project: string,
    name: string,
    seen: SeenRev,
    replayed: readonly WindowResult[] = [],
  ): WindowResult[] {
    const stream = running.get(project)?.get(name);
    if (!stream) return [];
    for (const window of stream.open.values()) {
      const before = seen(window.key, window.start);
      if (!before) continue;
      window.rev = Math.max(window.rev, before.rev);
      if (before.final) window.fired = true;
    }
    const last = new Map<string, WindowResult>();
    for (const result of replayed)
      if (result.stream === name && result.final)
        last.set(windowId(result.key, result.start), result);
    const owed: WindowResult[] = [];
    for (const [id, result] of last) {
      const before = seen(result.key, result.start);
      if (before?.final) continue;
      const window = stream.open.get(id);
      // Still open (within its lateness): its next revision, above the adopted one.
      if (window) owed.push(windowResult(name, window, true));
      else owed.push({ ...result, rev: Math.max(result.rev, (before?.rev ?? 0) + 1) });
    }
    return owed;
  }

  function remove(project: string, name: string): boolean {
    const stream = running.get(project)?.get(name);
    if (!stream) return false;
    stream.subscription.unsubscribe();
    running.get(project)!.delete(name);
    return true;
  }

  return {
    name: 'pipeline',
    async start() {
      for (const [project, specs] of Object.entries(initial))
        for (const spec of specs) define(project, spec);
    },
    async stop() {
      // Open windows are not forced final: they close by event time when the server is back.
      for (const input of inputs.values()) input.complete();
      for (const streams of running.values())
        for (const stream of streams.values()) stream.subscription.unsubscribe();
    },
    feed(project: string, events: StreamEvent[]): void {
      inputs.get(project)?.next(events);
    },
    /**
     * Feeds stored events to one stream (restart recovery), before live events arrive, read
     * from `fromMs` on: windows that start earlier are not emitted (see `replayedFrom`).
     */
    replay(project: string, name: string, events: StreamEvent[], fromMs: number): void {
      const stream = running.get(project)?.get(name);
      if (!stream) return;
      stream.replayedFrom = fromMs;
      stream.replay.next(events);
    },
    define,
    remove,
    emit,
    dropProject,
    /**
     * A partition's takeover: every stream of `project` starts afresh and gets its events
     * (per stream name, in event-time order) with nothing reaching the sinks. Synchronous, so
     * no idle tick or early emission interleaves. Returns what the replay produced: finals of
     * windows that closed during it, for `adoptRevs` to sort out.
     */
    rebuild(
      project: string,
      events: ReadonlyMap<string, readonly StreamEvent[]>,
      frameSize = 1000,
    ): WindowResult[] {
      dropProject(project);
      const collected: WindowResult[] = [];
      muted.set(project, collected);
      try {
        for (const [name, list] of events) {
          const stream = running.get(project)?.get(name);
          for (let i = 0; stream && i < list.length; i += frameSize)
            stream.replay.next(list.slice(i, i + frameSize));
        }
      } finally {
        muted.delete(project);
      }
      return collected;
    },
    adoptRevs,
    streams: (project: string): StreamSpec[] =>
      [...(running.get(project)?.values() ?? [])].map((s) => s.spec),
    stream: (project: string, name: string): StreamSpec | undefined =>
      running.get(project)?.get(name)?.spec,
    /** Current values of the windows still open (not yet past end + lateness). */
    openWindows(project: string, name: string, key?: string): WindowResult[] {
      const stream = running.get(project)?.get(name);
      if (!stream) return [];
      const results: WindowResult[] = [];
      for (const window of stream.open.values()) {
        if (key !== undefined && window.key !== key) continue;
        results.push(windowResult(name, window, window.fired, false));
      }
      return results.sort((a, b) => a.start - b.start || (a.key < b.key ? -1 : 1));
    },
    openWindowCount(): number {
      let n = 0;
      for (const streams of running.values())
        for (const stream of streams.values()) n += stream.open.size;
      return n;
    },
  };
}

export type PipelineService = ReturnType<typeof createPipelineService>;

import { merge, Subject, type SchedulerLike, type Subscription } from 'rxjs';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { streamPipeline } from './stream-pipeline.js';
import type { StreamSpec } from './stream-spec.js';
import type { StreamEvent } from '../model/event.js';
import type { WindowResult } from '../model/window-result.js';
import { windowResult, type OpenWindows } from './window-state.js';

/** Where window results go: live subscribers, storage, the recent-window cache. */
export interface WindowSink {
  write(project: string, results: readonly WindowResult[]): void;
}

interface RunningStream {
  spec: StreamSpec;
  open: OpenWindows;
  subscription: Subscription;
  /** The stream's own input, for replaying stored events into this stream alone. */
  replay: Subject<StreamEvent[]>;
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

  const inputOf = (project: string) => {
    let input = inputs.get(project);
    if (!input) inputs.set(project, (input = new Subject()));
    return input;
  };

  function define(project: string, spec: StreamSpec): void {
    remove(project, spec.name);
    const open: OpenWindows = new Map();
    const replay = new Subject<StreamEvent[]>();
    const subscription = merge(replay, inputOf(project))
      .pipe(
        streamPipeline(spec, {
          open,
          ...(deps.scheduler ? { scheduler: deps.scheduler } : {}),
          onLate: (kind, count) => metrics.lateEvents.inc({ stream: spec.name, kind }, count),
        }),
      )
      .subscribe({
        next(results) {
          for (const result of results)
            metrics.windowsEmitted.inc({ stream: spec.name, final: String(result.final) });
          for (const sink of sinks) sink.write(project, results);
        },
        error: (err: unknown) => log.error({ err, project, stream: spec.name }, 'stream failed'),
      });
    let streams = running.get(project);
    if (!streams) running.set(project, (streams = new Map()));
    streams.set(spec.name, { spec, open, subscription, replay });
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
    /** Feeds stored events to one stream (restart recovery), before live events arrive. */
    replay(project: string, name: string, events: StreamEvent[]): void {
      running.get(project)?.get(name)?.replay.next(events);
    },
    define,
    remove,
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

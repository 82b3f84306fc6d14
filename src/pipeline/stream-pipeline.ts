import { pipe, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { bindAggregate } from './aggregates/index.js';
import { compileGroupKey } from './group-key.js';
import { emitWindows } from './operators/emit-windows.js';
import { filterEvents } from './operators/filter-events.js';
import { hoppingWindow } from './operators/hopping-window.js';
import { sessionWindow } from './operators/session-window.js';
import { tumblingWindow } from './operators/tumbling-window.js';
import { withWatermark } from './operators/watermark.js';
import { compileSource } from './predicate.js';
import type { StreamSpec } from './stream-spec.js';
import type { StreamEvent } from '../model/event.js';
import type { WindowResult } from '../model/window-result.js';
import type { OpenWindows, WindowOperatorOptions } from './window-state.js';

export interface StreamPipelineOptions {
  scheduler?: SchedulerLike;
  /** The stream's open windows, filled by the pipeline (snapshots and history read them). */
  open?: OpenWindows;
  onLate?: WindowOperatorOptions['onLate'];
}

/**
 * A metric stream as one RxJS chain, frames in, window results out:
 * filter → watermark → window (tumbling | hopping | session) → emit policy.
 *
 * @example
 * frames$.pipe(streamPipeline(spec)).subscribe((results) => publish(results));
 */
export function streamPipeline(
  spec: StreamSpec,
  options: StreamPipelineOptions = {},
): OperatorFunction<StreamEvent[], WindowResult[]> {
  const windowOptions: WindowOperatorOptions = {
    aggregates: spec.aggregates.map(bindAggregate),
    keyOf: compileGroupKey(spec.groupBy),
    allowedLatenessMs: spec.allowedLatenessMs,
    ...(options.open ? { open: options.open } : {}),
    ...(options.onLate ? { onLate: options.onLate } : {}),
  };
  const window = spec.window;
  const windows =
    window.kind === 'tumbling'
      ? tumblingWindow(window.sizeMs, windowOptions)
      : window.kind === 'hopping'
        ? hoppingWindow(window.sizeMs, window.slideMs, windowOptions)
        : sessionWindow(window.gapMs, windowOptions);
  return pipe(
    filterEvents(compileSource(spec.source)),
    withWatermark(
      { outOfOrderMs: spec.outOfOrderMs, idleTickMs: spec.idleTickMs },
      options.scheduler,
    ),
    windows,
    emitWindows(spec.name, spec.emit, options.scheduler),
  );
}

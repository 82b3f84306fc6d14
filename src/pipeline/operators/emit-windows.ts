import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import type { StreamSpec } from '../stream-spec.js';
import type { WindowResult } from '../../model/window-result.js';
import { windowResult, type OpenWindow, type WindowChange } from '../window-state.js';

/**
 * Turns window changes into results by the stream's emit policy. Finals (on close, and
 * again for each late update) go out at once. In `early` mode, windows that changed are
 * also emitted every `everyMs` with their latest values, so a dashboard sees at most one
 * update per window per period however many events arrive. Results are computed only
 * when emitted.
 */
export function emitWindows(
  stream: string,
  emit: StreamSpec['emit'],
  scheduler: SchedulerLike = asyncScheduler,
): OperatorFunction<WindowChange[], WindowResult[]> {
  return (source) =>
    new Observable<WindowResult[]>((subscriber) => {
      const pending = new Set<OpenWindow>();
      const timer =
        emit.mode === 'early'
          ? scheduler.schedule(function () {
              if (pending.size > 0) {
                const results: WindowResult[] = [];
                for (const window of pending)
                  if (!window.fired) results.push(windowResult(stream, window, false));
                pending.clear();
                if (results.length > 0) subscriber.next(results);
              }
              this.schedule(undefined, emit.everyMs);
            }, emit.everyMs)
          : undefined;

      const subscription = source.subscribe({
        next(changes) {
          const finals: WindowResult[] = [];
          for (const { window, final } of changes) {
            if (final) {
              pending.delete(window);
              finals.push(windowResult(stream, window, true));
            } else if (timer) pending.add(window);
          }
          if (finals.length > 0) subscriber.next(finals);
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => {
        timer?.unsubscribe();
        subscription.unsubscribe();
      };
    });
}

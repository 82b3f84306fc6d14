import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import type { StreamEvent } from '../../model/event.js';
import type { Tick } from '../window-state.js';

export interface WatermarkOptions {
  outOfOrderMs: number;
  /** With no events for this long, the watermark follows the wall clock. */
  idleTickMs: number;
}

/**
 * Pairs each frame with the watermark: the highest event time seen minus `outOfOrderMs`.
 * Idle streams still close their windows (the classic complaint about Kafka Streams and
 * Flink): once no event has come for half a tick, each quarter tick moves the watermark to
 * `now − outOfOrderMs` and emits an empty tick, so a window closes within
 * `outOfOrderMs + idleTickMs` of its end.
 */
export function withWatermark(
  { outOfOrderMs, idleTickMs }: WatermarkOptions,
  scheduler: SchedulerLike = asyncScheduler,
): OperatorFunction<StreamEvent[], Tick> {
  return (source) =>
    new Observable<Tick>((subscriber) => {
      let watermark = -Infinity;
      let lastEventAt = scheduler.now();
      const check = Math.max(1, Math.floor(idleTickMs / 4));
      const idle = scheduler.schedule(function () {
        const now = scheduler.now();
        if (now - lastEventAt >= idleTickMs / 2 && now - outOfOrderMs > watermark) {
          watermark = now - outOfOrderMs;
          subscriber.next({ events: [], watermark });
        }
        this.schedule(undefined, check);
      }, check);
      const subscription = source.subscribe({
        next(events) {
          lastEventAt = scheduler.now();
          let max = -Infinity;
          for (const event of events) if (event.ts > max) max = event.ts;
          if (max - outOfOrderMs > watermark) watermark = max - outOfOrderMs;
          subscriber.next({ events, watermark });
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => {
        idle.unsubscribe();
        subscription.unsubscribe();
      };
    });
}

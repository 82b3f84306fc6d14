import { Observable, type OperatorFunction } from 'rxjs';
import {
  addToWindow,
  createWindow,
  windowId,
  type OpenWindow,
  type Tick,
  type WindowChange,
  type WindowOperatorOptions,
} from '../window-state.js';

/**
 * Window starts an event time falls in, for windows aligned to the epoch: written into
 * `starts` (reused from event to event, so no array per event), their count returned.
 */
export type Assigner = (ts: number, starts: number[]) => number;

/**
 * The engine under tumbling and hopping windows: windows are `[start, start + size)`, an
 * event updates every window it falls in unless that window's end plus the allowed
 * lateness is already behind the watermark (too late: counted, not aggregated). A window
 * goes final when the watermark passes its end; a late event within the lateness updates
 * it again as a new final revision; it is forgotten once end + lateness is passed.
 * Lateness is judged against the watermark before the frame, as Flink does.
 *
 * Per event it does no allocation for a window it already holds: the window of the last
 * event is kept at hand (consecutive events of a frame mostly share key and window, so the
 * id string and the map lookup are skipped), and a window changed this tick is marked with
 * the tick's number instead of going into a set.
 */
export function alignedWindows(
  sizeMs: number,
  assign: Assigner,
  options: WindowOperatorOptions,
): OperatorFunction<Tick, WindowChange[]> {
  const { aggregates, keyOf, allowedLatenessMs, onLate } = options;
  return (source) =>
    new Observable<WindowChange[]>((subscriber) => {
      const open = options.open ?? new Map<string, OpenWindow>();
      // Windows share few distinct ends, so firing and purging walk ends, not windows.
      const byEnd = new Map<number, Set<OpenWindow>>();
      const starts: number[] = [];
      let watermark = -Infinity;
      let tick = 0;

      return source.subscribe({
        next({ events, watermark: next }) {
          tick += 1;
          const changed: OpenWindow[] = [];
          let tooLate = 0;
          let lateWithin = 0;
          let last: OpenWindow | undefined;
          for (const event of events) {
            const key = keyOf(event);
            let taken = false;
            let late = false;
            const count = assign(event.ts, starts);
            for (let i = 0; i < count; i++) {
              const start = starts[i]!;
              const end = start + sizeMs;
              if (end + allowedLatenessMs <= watermark) continue;
              let window =
                last !== undefined && last.start === start && last.key === key ? last : undefined;
              if (!window) {
                const id = windowId(key, start);
                window = open.get(id);
                if (!window) {
                  window = createWindow(key, start, end, aggregates);
                  open.set(id, window);
                  let ending = byEnd.get(end);
                  if (!ending) byEnd.set(end, (ending = new Set()));
                  ending.add(window);
                }
                last = window;
              }
              addToWindow(window, event);
              if (window.tick !== tick) {
                window.tick = tick;
                changed.push(window);
              }
              taken = true;
              late ||= end <= watermark; // closed, whether or not it had events yet
            }
            if (!taken) tooLate += 1;
            else if (late) lateWithin += 1;
          }
          if (tooLate > 0) onLate?.('too_late', tooLate);
          if (lateWithin > 0) onLate?.('within', lateWithin);

          watermark = Math.max(watermark, next);
          const out: WindowChange[] = [];
          for (const window of changed)
            if (window.fired || window.end > watermark) out.push({ window, final: window.fired });
          for (const [end, windows] of byEnd) {
            if (end > watermark) continue;
            for (const window of windows) {
              if (!window.fired) {
                window.fired = true;
                out.push({ window, final: true });
              }
            }
            if (end + allowedLatenessMs <= watermark) {
              for (const window of windows) open.delete(windowId(window.key, window.start));
              byEnd.delete(end);
            }
          }
          if (out.length > 0) subscriber.next(out);
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}

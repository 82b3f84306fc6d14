import { Observable, type OperatorFunction } from 'rxjs';
import {
  addToWindow,
  createWindow,
  mergeWindows,
  windowId,
  type OpenWindow,
  type Tick,
  type WindowChange,
  type WindowOperatorOptions,
} from '../window-state.js';

/**
 * Session windows per key: an event opens `[ts, ts + gap)` and merges every session of
 * its key that this overlaps; a session is final once the watermark passes its end
 * (last event + gap). A merge keeps the earliest start, so a session's identity
 * (key, start) only changes when an out-of-order event extends it backwards.
 */
export function sessionWindow(
  gapMs: number,
  options: WindowOperatorOptions,
): OperatorFunction<Tick, WindowChange[]> {
  const { aggregates, keyOf, allowedLatenessMs, onLate } = options;
  return (source) =>
    new Observable<WindowChange[]>((subscriber) => {
      const open = options.open ?? new Map<string, OpenWindow>();
      const byKey = new Map<string, OpenWindow[]>();
      let watermark = -Infinity;
      let earliestEnd = Infinity;

      const place = (key: string, ts: number): OpenWindow => {
        const sessions = byKey.get(key) ?? [];
        let window = createWindow(key, ts, ts + gapMs, aggregates);
        const kept: OpenWindow[] = [];
        for (const session of sessions) {
          if (session.start < window.end && window.start < session.end) {
            open.delete(windowId(key, session.start));
            mergeWindows(session, window);
            // The absorbed window may still wait in an early-emit timer; as fired it is skipped
            // there, instead of going out as a stale copy of the merged session.
            window.fired = true;
            window = session;
          } else kept.push(session);
        }
        kept.push(window);
        byKey.set(key, kept);
        open.set(windowId(key, window.start), window);
        earliestEnd = Math.min(earliestEnd, window.end);
        return window;
      };

      return source.subscribe({
        next({ events, watermark: next }) {
          const changed = new Set<OpenWindow>();
          let tooLate = 0;
          let lateWithin = 0;
          for (const event of events) {
            if (event.ts + gapMs + allowedLatenessMs <= watermark) {
              tooLate += 1;
              continue;
            }
            const window = place(keyOf(event), event.ts);
            addToWindow(window, event);
            if (window.fired || window.end <= watermark) lateWithin += 1;
            changed.add(window);
          }
          if (tooLate > 0) onLate?.('too_late', tooLate);
          if (lateWithin > 0) onLate?.('within', lateWithin);

          watermark = Math.max(watermark, next);
          const out: WindowChange[] = [];
          for (const window of changed) {
            // A window merged away this tick is no longer open: skip it.
            if (open.get(windowId(window.key, window.start)) !== window) continue;
            if (window.fired || window.end > watermark) out.push({ window, final: window.fired });
          }
          if (earliestEnd <= watermark) earliestEnd = fireAndPurge(out);
          if (out.length > 0) subscriber.next(out);
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });

      function fireAndPurge(out: WindowChange[]): number {
        let nextEnd = Infinity;
        for (const [key, sessions] of byKey) {
          const kept = sessions.filter((window) => {
            if (window.end <= watermark && !window.fired) {
              window.fired = true;
              out.push({ window, final: true });
            }
            if (window.end + allowedLatenessMs <= watermark) {
              open.delete(windowId(key, window.start));
              return false;
            }
            if (!window.fired) nextEnd = Math.min(nextEnd, window.end);
            else nextEnd = Math.min(nextEnd, window.end + allowedLatenessMs);
            return true;
          });
          if (kept.length === 0) byKey.delete(key);
          else byKey.set(key, kept);
        }
        return nextEnd;
      }
    });
}

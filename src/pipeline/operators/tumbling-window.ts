import type { OperatorFunction } from 'rxjs';
import type { Tick, WindowChange, WindowOperatorOptions } from '../window-state.js';
import { alignedWindows } from './aligned-windows.js';

/** Back-to-back windows `[k·size, (k+1)·size)` on event time; each event is in exactly one. */
export function tumblingWindow(
  sizeMs: number,
  options: WindowOperatorOptions,
): OperatorFunction<Tick, WindowChange[]> {
  return alignedWindows(
    sizeMs,
    (ts, starts) => {
      starts[0] = Math.floor(ts / sizeMs) * sizeMs;
      return 1;
    },
    options,
  );
}

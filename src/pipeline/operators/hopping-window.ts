import type { OperatorFunction } from 'rxjs';
import type { Tick, WindowChange, WindowOperatorOptions } from '../window-state.js';
import { alignedWindows } from './aligned-windows.js';

/** Windows of `sizeMs` starting every `slideMs` (multiples of the slide); an event is in size/slide of them. */
export function hoppingWindow(
  sizeMs: number,
  slideMs: number,
  options: WindowOperatorOptions,
): OperatorFunction<Tick, WindowChange[]> {
  return alignedWindows(
    sizeMs,
    (ts, starts) => {
      let count = 0;
      for (let start = Math.floor(ts / slideMs) * slideMs; start > ts - sizeMs; start -= slideMs)
        starts[count++] = start;
      return count;
    },
    options,
  );
}

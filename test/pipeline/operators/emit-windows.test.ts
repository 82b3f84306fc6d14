import { map } from 'rxjs';
import { describe, it } from 'vitest';
import { bindAggregate } from '../../../src/pipeline/aggregates/index.js';
import { emitWindows } from '../../../src/pipeline/operators/emit-windows.js';
import type { WindowResult } from '../../../src/model/window-result.js';
import {
  addToWindow,
  createWindow,
  type OpenWindow,
  type WindowChange,
} from '../../../src/pipeline/window-state.js';
import { event, marbles } from '../stream-fixtures.js';

/**
 * Drives two windows as a window operator would: `a`/`b` add an event to window A/B (a
 * non-final change), `A`/`B` close it or, once closed, add a late event (final).
 */
function windowSteps() {
  const count = [bindAggregate({ name: 'n', fn: 'count' })];
  const windows: Record<string, OpenWindow> = {
    a: createWindow('a', 0, 1000, count),
    b: createWindow('b', 0, 1000, count),
  };
  return map((step: string): WindowChange[] => {
    const window = windows[step.toLowerCase()]!;
    if (step === step.toLowerCase()) {
      addToWindow(window, event(0));
      return [{ window, final: false }];
    }
    if (window.fired) addToWindow(window, event(0)); // a late event
    window.fired = true;
    return [{ window, final: true }];
  });
}

const result = (key: string, n: number, rev: number, final: boolean): WindowResult => ({
  stream: 'votes',
  start: 0,
  end: 1000,
  key,
  values: { n },
  final,
  rev,
});

describe('emitWindows', () => {
  it("in 'final' mode emits only finals, at once", () => {
    const scheduler = marbles();
    scheduler.run(({ cold, expectObservable }) => {
      const steps = cold('100ms a 99ms a 299ms A 99ms |', { a: 'a', A: 'A' });
      const results = steps.pipe(windowSteps(), emitWindows('votes', { mode: 'final' }, scheduler));
      expectObservable(results).toBe('500ms x 99ms |', { x: [result('a', 2, 1, true)] });
    });
  });

  it("in 'early' mode emits each changed window once per everyMs with its latest values", () => {
    const scheduler = marbles();
    scheduler.run(({ cold, expectObservable }) => {
      // Window a changes three times and b once before the first period ends at 1000 ms.
      const steps = cold('100ms a 99ms b 99ms a 99ms a 1499ms |', { a: 'a', b: 'b' });
      const early = { mode: 'early', everyMs: 1000 } as const;
      const results = steps.pipe(windowSteps(), emitWindows('votes', early, scheduler));
      expectObservable(results).toBe('1000ms x 899ms |', {
        x: [result('a', 3, 1, false), result('b', 1, 1, false)],
      });
    });
  });

  it("in 'early' mode skips windows that did not change during the period", () => {
    const scheduler = marbles();
    scheduler.run(({ cold, expectObservable }) => {
      const steps = cold('100ms a 1999ms a 999ms |', { a: 'a' });
      const early = { mode: 'early', everyMs: 1000 } as const;
      const results = steps.pipe(windowSteps(), emitWindows('votes', early, scheduler));
      // Nothing at 2000 ms: a did not change between 1000 and 2000.
      expectObservable(results).toBe('1000ms x 1999ms y 99ms |', {
        x: [result('a', 1, 1, false)],
        y: [result('a', 2, 2, false)],
      });
    });
  });

  it("in 'early' mode emits the final at once and no early update after it", () => {
    const scheduler = marbles();
    scheduler.run(({ cold, expectObservable }) => {
      const steps = cold('100ms a 999ms a 99ms a 299ms A 199ms A 999ms |', { a: 'a', A: 'A' });
      const early = { mode: 'early', everyMs: 1000 } as const;
      const results = steps.pipe(windowSteps(), emitWindows('votes', early, scheduler));
      // The second final is a late update: a new revision, still final.
      expectObservable(results).toBe('1000ms x 499ms y 199ms z 999ms |', {
        x: [result('a', 1, 1, false)],
        y: [result('a', 3, 2, true)],
        z: [result('a', 4, 3, true)],
      });
    });
  });

  it('passes errors through', () => {
    const scheduler = marbles();
    scheduler.run(({ cold, expectObservable }) => {
      const early = { mode: 'early', everyMs: 1000 } as const;
      expectObservable(
        cold<WindowChange[]>('10ms #').pipe(emitWindows('votes', early, scheduler)),
      ).toBe('10ms #');
    });
  });
});

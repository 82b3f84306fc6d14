import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { alignedWindows } from '../../../src/pipeline/operators/aligned-windows.js';
import type { OpenWindows, Tick } from '../../../src/pipeline/window-state.js';
import { countPerK, describeChanges, event, lateLog, marbles, tick } from '../stream-fixtures.js';

// Assigners are what tumbling and hopping supply: here 1 s windows every second or every 500 ms.
const perSecond = (ts: number, starts: number[]) => {
  starts[0] = Math.floor(ts / 1000) * 1000;
  return 1;
};
const everyHalfSecond = (ts: number, starts: number[]) => {
  const last = Math.floor(ts / 500) * 500;
  starts[0] = last - 500;
  starts[1] = last;
  return 2;
};

describe('alignedWindows', () => {
  it('adds an event to every window the assigner names', () => {
    marbles().run(({ cold, expectObservable }) => {
      const ticks = cold('a', { a: tick(-Infinity, event(700), event(1200)) });
      const windows = ticks.pipe(alignedWindows(1000, everyHalfSecond, countPerK()));
      expectObservable(windows.pipe(describeChanges())).toBe('x', {
        x: ['[0,1000) n=1', '[1000,2000) n=1', '[500,1500) n=2'],
      });
    });
  });

  it('counts runs of one window and interleaved keys exactly, once per window per tick', () => {
    marbles().run(({ cold, expectObservable }) => {
      const ticks = cold('ab', {
        a: tick(
          -Infinity,
          ...[100, 200, 300].map((ts) => event(ts, { k: 'a' })),
          event(400, { k: 'b' }),
          event(500, { k: 'a' }),
          event(1500, { k: 'a' }),
          event(600, { k: 'a' }),
        ),
        b: tick(-Infinity, event(700, { k: 'a' }), event(800, { k: 'b' })),
      });
      const windows = ticks.pipe(alignedWindows(1000, perSecond, countPerK()));
      expectObservable(windows.pipe(describeChanges())).toBe('xy', {
        x: ['a [0,1000) n=5', 'a [1000,2000) n=1', 'b [0,1000) n=1'],
        y: ['a [0,1000) n=6', 'b [0,1000) n=2'],
      });
    });
  });

  it('judges lateness against the watermark before the frame, so one frame loses nothing', () => {
    const late = lateLog();
    marbles().run(({ cold, expectObservable }) => {
      // The frame's own newest event moves the watermark past [0,1000): 400 still counts.
      const ticks = cold('a', { a: tick(2000, event(2000), event(400)) });
      const windows = ticks.pipe(
        alignedWindows(1000, perSecond, countPerK({ onLate: late.onLate })),
      );
      expectObservable(windows.pipe(describeChanges())).toBe('x', {
        x: ['[0,1000) n=1 final', '[2000,3000) n=1'],
      });
    });
    expect(late.calls).toEqual([]);
  });

  it('reports a late event as within lateness when its window had no events yet', () => {
    const late = lateLog();
    marbles().run(({ cold, expectObservable }) => {
      const ticks = cold('a b c', {
        a: tick(-Infinity, event(100, { k: 'a' })),
        b: tick(1000),
        c: tick(1000, event(200, { k: 'b' })), // key b's [0,1000) closed before it existed
      });
      const options = countPerK({ allowedLatenessMs: 5000, onLate: late.onLate });
      const windows = ticks.pipe(alignedWindows(1000, perSecond, options));
      expectObservable(windows.pipe(describeChanges())).toBe('a b c', {
        a: ['a [0,1000) n=1'],
        b: ['a [0,1000) n=1 final'],
        c: ['b [0,1000) n=1 final'],
      });
    });
    expect(late.calls).toEqual([['within', 1]]);
  });

  it('keeps a closed window readable in `open` until end + allowedLatenessMs passes', () => {
    const open: OpenWindows = new Map();
    const ticks = new Subject<Tick>();
    ticks
      .pipe(alignedWindows(1000, perSecond, countPerK({ allowedLatenessMs: 500, open })))
      .subscribe();
    const openWindows = () => [...open.values()].map((w) => `${w.key}[${w.start},${w.end})`);

    ticks.next(tick(-Infinity, event(100, { k: 'a' }), event(1100, { k: 'b' })));
    expect(openWindows()).toEqual(['a[0,1000)', 'b[1000,2000)']);
    ticks.next(tick(1499));
    expect(openWindows()).toEqual(['a[0,1000)', 'b[1000,2000)']);
    expect(open.get(`a\u00000`)?.fired).toBe(true);
    ticks.next(tick(1500));
    expect(openWindows()).toEqual(['b[1000,2000)']);
    ticks.next(tick(2500));
    expect(openWindows()).toEqual([]);
  });

  it('passes errors and completion through', () => {
    marbles().run(({ cold, expectObservable }) => {
      expectObservable(cold<Tick>('#').pipe(alignedWindows(1000, perSecond, countPerK()))).toBe(
        '#',
      );
      expectObservable(
        cold('a|', { a: tick(0) }).pipe(alignedWindows(1000, perSecond, countPerK())),
      ).toBe('-|');
    });
  });
});

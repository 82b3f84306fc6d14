import { describe, expect, it } from 'vitest';
import { tumblingWindow } from '../../../src/pipeline/operators/tumbling-window.js';
import { withWatermark } from '../../../src/pipeline/operators/watermark.js';
import { countPerK, describeChanges, event, lateLog, marbles, tick } from '../stream-fixtures.js';

describe('tumblingWindow', () => {
  it('puts each event in [k·size, (k+1)·size): start included, end excluded', () => {
    marbles().run(({ cold, expectObservable }) => {
      const ticks = cold('a b', {
        a: tick(-Infinity, event(0), event(999), event(1000), event(1999), event(-1)),
        b: tick(2000),
      });
      expectObservable(ticks.pipe(tumblingWindow(1000, countPerK()), describeChanges())).toBe(
        'x y',
        {
          x: ['[-1000,0) n=1', '[0,1000) n=2', '[1000,2000) n=2'],
          y: ['[-1000,0) n=1 final', '[0,1000) n=2 final', '[1000,2000) n=2 final'],
        },
      );
    });
  });

  it('closes a window when the watermark reaches its end, and not before', () => {
    marbles().run(({ cold, expectObservable }) => {
      const ticks = cold('a b c d', {
        a: tick(-Infinity, event(500)),
        b: tick(999),
        c: tick(1000),
        d: tick(5000), // already final: nothing more to say
      });
      expectObservable(ticks.pipe(tumblingWindow(1000, countPerK()), describeChanges())).toBe(
        'x - z -',
        { x: ['[0,1000) n=1'], z: ['[0,1000) n=1 final'] },
      );
    });
  });

  it('keeps separate windows per key', () => {
    marbles().run(({ cold, expectObservable }) => {
      const ticks = cold('a b', {
        a: tick(-Infinity, event(10, { k: 'a' }), event(20, { k: 'b' }), event(30, { k: 'a' })),
        b: tick(1000),
      });
      expectObservable(ticks.pipe(tumblingWindow(1000, countPerK()), describeChanges())).toBe(
        'x y',
        {
          x: ['a [0,1000) n=2', 'b [0,1000) n=1'],
          y: ['a [0,1000) n=2 final', 'b [0,1000) n=1 final'],
        },
      );
    });
  });

  it('counts events that arrive out of order by up to outOfOrderMs', () => {
    const scheduler = marbles();
    scheduler.run(({ cold, expectObservable }) => {
      const frames = cold('a b c d |', {
        a: [event(900)],
        b: [event(1250)], // watermark 950: [0,1000) stays open
        c: [event(960)], // 290 ms behind the newest event
        d: [event(1300)], // watermark 1000: [0,1000) closes
      });
      const windows = frames.pipe(
        withWatermark({ outOfOrderMs: 300, idleTickMs: 10_000 }, scheduler),
        tumblingWindow(1000, countPerK()),
        describeChanges(),
      );
      expectObservable(windows).toBe('a b c d |', {
        a: ['[0,1000) n=1'],
        b: ['[1000,2000) n=1'],
        c: ['[0,1000) n=2'],
        d: ['[0,1000) n=2 final', '[1000,2000) n=2'],
      });
    });
  });

  it('updates a closed window with a late event within allowedLatenessMs, as a new final', () => {
    const late = lateLog();
    marbles().run(({ cold, expectObservable }) => {
      const ticks = cold('a b c d', {
        a: tick(-Infinity, event(100)),
        b: tick(1000),
        c: tick(1000, event(200)), // 800 ms after the window closed, lateness 500 ms
        d: tick(1200, event(300)),
      });
      const options = countPerK({ allowedLatenessMs: 500, onLate: late.onLate });
      expectObservable(ticks.pipe(tumblingWindow(1000, options), describeChanges())).toBe(
        'a b c d',
        {
          a: ['[0,1000) n=1'],
          b: ['[0,1000) n=1 final'],
          c: ['[0,1000) n=2 final'],
          d: ['[0,1000) n=3 final'],
        },
      );
    });
    expect(late.calls).toEqual([
      ['within', 1],
      ['within', 1],
    ]);
  });

  it('counts an event as too late once end + allowedLatenessMs is behind the watermark', () => {
    const late = lateLog();
    marbles().run(({ cold, expectObservable }) => {
      const ticks = cold('a b c', {
        a: tick(-Infinity, event(100)),
        b: tick(1500),
        // [0,1000) ended 1000 + 500 ms ago: both are dropped, [1000,2000) is not.
        c: tick(1500, event(200), event(999), event(1100)),
      });
      const options = countPerK({ allowedLatenessMs: 500, onLate: late.onLate });
      expectObservable(ticks.pipe(tumblingWindow(1000, options), describeChanges())).toBe('a b c', {
        a: ['[0,1000) n=1'],
        b: ['[0,1000) n=1 final'],
        c: ['[1000,2000) n=1'],
      });
    });
    expect(late.calls).toEqual([['too_late', 2]]);
  });
});

import { describe, it } from 'vitest';
import { hoppingWindow } from '../../../src/pipeline/operators/hopping-window.js';
import { countPerK, describeChanges, event, marbles, tick } from '../stream-fixtures.js';

describe('hoppingWindow', () => {
  it('puts an event into size/slide windows, each [start, start + size)', () => {
    marbles().run(({ cold, expectObservable }) => {
      const ticks = cold('a b', {
        a: tick(-Infinity, event(1100)),
        b: tick(-Infinity, event(1000)),
      });
      expectObservable(ticks.pipe(hoppingWindow(1000, 250, countPerK()), describeChanges())).toBe(
        'a b',
        {
          a: ['[1000,2000) n=1', '[250,1250) n=1', '[500,1500) n=1', '[750,1750) n=1'],
          // 1000 starts [1000,2000) and is past the end of [0,1000).
          b: ['[1000,2000) n=2', '[250,1250) n=2', '[500,1500) n=2', '[750,1750) n=2'],
        },
      );
    });
  });

  it('puts an event into ⌊size/slide⌋ or ⌈size/slide⌉ windows when slide does not divide size', () => {
    marbles().run(({ cold, expectObservable }) => {
      const ticks = cold('a b', { a: tick(-Infinity, event(0)), b: tick(-Infinity, event(150)) });
      expectObservable(ticks.pipe(hoppingWindow(1000, 300, countPerK()), describeChanges())).toBe(
        'a b',
        {
          a: ['[-300,700) n=1', '[-600,400) n=1', '[-900,100) n=1', '[0,1000) n=1'],
          b: ['[-300,700) n=2', '[-600,400) n=2', '[0,1000) n=2'], // 150 is in only three
        },
      );
    });
  });

  it('closes each window when the watermark reaches its own end', () => {
    marbles().run(({ cold, expectObservable }) => {
      const ticks = cold('a b c d', {
        a: tick(-Infinity, event(600)),
        b: tick(1000),
        c: tick(1499),
        d: tick(1500),
      });
      expectObservable(ticks.pipe(hoppingWindow(1000, 500, countPerK()), describeChanges())).toBe(
        'a b - d',
        {
          a: ['[0,1000) n=1', '[500,1500) n=1'],
          b: ['[0,1000) n=1 final'],
          d: ['[500,1500) n=1 final'],
        },
      );
    });
  });

  it('with slide equal to size is a tumbling window', () => {
    marbles().run(({ cold, expectObservable }) => {
      const ticks = cold('a', { a: tick(-Infinity, event(999), event(1000)) });
      expectObservable(ticks.pipe(hoppingWindow(1000, 1000, countPerK()), describeChanges())).toBe(
        'a',
        { a: ['[0,1000) n=1', '[1000,2000) n=1'] },
      );
    });
  });
});

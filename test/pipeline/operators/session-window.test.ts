import { describe, expect, it } from 'vitest';
import { sessionWindow } from '../../../src/pipeline/operators/session-window.js';
import type { OpenWindows } from '../../../src/pipeline/window-state.js';
import { countPerK, describeChanges, event, lateLog, marbles, tick } from '../stream-fixtures.js';

const startsOf = (open: OpenWindows) => [...open.values()].map((w) => `${w.key}@${w.start}`);

describe('sessionWindow', () => {
  it('merges events less than gapMs apart and closes gapMs after the last one', () => {
    marbles().run(({ cold, expectObservable }) => {
      const ticks = cold('a b c d e', {
        a: tick(-Infinity, event(0)),
        b: tick(-Infinity, event(600)),
        c: tick(-Infinity, event(1500)),
        d: tick(2499),
        e: tick(2500),
      });
      expectObservable(ticks.pipe(sessionWindow(1000, countPerK()), describeChanges())).toBe(
        'a b c - e',
        {
          a: ['[0,1000) n=1'],
          b: ['[0,1600) n=2'],
          c: ['[0,2500) n=3'],
          e: ['[0,2500) n=3 final'],
        },
      );
    });
  });

  it('starts a new session after a silence of gapMs', () => {
    marbles().run(({ cold, expectObservable }) => {
      const ticks = cold('a b', { a: tick(-Infinity, event(0), event(1000)), b: tick(1000) });
      expectObservable(ticks.pipe(sessionWindow(1000, countPerK()), describeChanges())).toBe(
        'a b',
        { a: ['[0,1000) n=1', '[1000,2000) n=1'], b: ['[0,1000) n=1 final'] },
      );
    });
  });

  it('joins two sessions when an event fills the gap between them', () => {
    const open: OpenWindows = new Map();
    marbles().run(({ cold, expectObservable }) => {
      const ticks = cold('a b c', {
        a: tick(-Infinity, event(0)),
        b: tick(-Infinity, event(1800)),
        c: tick(-Infinity, event(900)),
      });
      expectObservable(
        ticks.pipe(sessionWindow(1000, countPerK({ open })), describeChanges()),
      ).toBe('a b c', { a: ['[0,1000) n=1'], b: ['[1800,2800) n=1'], c: ['[0,2800) n=3'] });
    });
    expect(startsOf(open)).toEqual(['@0']);
  });

  it('moves a session start back for an out-of-order event', () => {
    const open: OpenWindows = new Map();
    marbles().run(({ cold, expectObservable }) => {
      const ticks = cold('a b', { a: tick(-Infinity, event(1000)), b: tick(600, event(500)) });
      expectObservable(
        ticks.pipe(sessionWindow(1000, countPerK({ open })), describeChanges()),
      ).toBe('a b', { a: ['[1000,2000) n=1'], b: ['[500,2000) n=2'] });
    });
    expect(startsOf(open)).toEqual(['@500']);
  });

  it('keeps separate sessions per key', () => {
    marbles().run(({ cold, expectObservable }) => {
      const ticks = cold('a b', {
        a: tick(-Infinity, event(0, { k: 'a' }), event(500, { k: 'b' }), event(900, { k: 'a' })),
        b: tick(1500),
      });
      expectObservable(ticks.pipe(sessionWindow(1000, countPerK()), describeChanges())).toBe(
        'a b',
        {
          a: ['a [0,1900) n=2', 'b [500,1500) n=1'],
          b: ['b [500,1500) n=1 final'],
        },
      );
    });
  });

  it('updates a closed session within allowedLatenessMs and drops events after that', () => {
    const late = lateLog();
    const open: OpenWindows = new Map();
    marbles().run(({ cold, expectObservable }) => {
      const ticks = cold('a b c d e', {
        a: tick(-Infinity, event(0)),
        b: tick(1500),
        c: tick(1500, event(400)),
        d: tick(2400), // [0,1400) ended allowedLatenessMs ago: forgotten
        e: tick(2400, event(300)),
      });
      const options = countPerK({ allowedLatenessMs: 1000, onLate: late.onLate, open });
      expectObservable(ticks.pipe(sessionWindow(1000, options), describeChanges())).toBe(
        'a b c - -',
        { a: ['[0,1000) n=1'], b: ['[0,1000) n=1 final'], c: ['[0,1400) n=2 final'] },
      );
    });
    expect(late.calls).toEqual([
      ['within', 1],
      ['too_late', 1],
    ]);
    expect(open.size).toBe(0);
  });

  it('reports a late event as within lateness when it starts an already-closed session', () => {
    const late = lateLog();
    marbles().run(({ cold, expectObservable }) => {
      const ticks = cold('a b c', {
        a: tick(-Infinity, event(0, { k: 'a' })),
        b: tick(3000),
        c: tick(3000, event(1000, { k: 'b' })),
      });
      const options = countPerK({ allowedLatenessMs: 5000, onLate: late.onLate });
      expectObservable(ticks.pipe(sessionWindow(1000, options), describeChanges())).toBe('a b c', {
        a: ['a [0,1000) n=1'],
        b: ['a [0,1000) n=1 final'],
        c: ['b [1000,2000) n=1 final'],
      });
    });
    expect(late.calls).toEqual([['within', 1]]);
  });
});

import { describe, it } from 'vitest';
import { withWatermark } from '../../../src/pipeline/operators/watermark.js';
import type { StreamEvent } from '../../../src/model/event.js';
import { event, marbles, tick } from '../stream-fixtures.js';

describe('withWatermark', () => {
  it('pairs each frame with the highest event time seen minus outOfOrderMs', () => {
    const scheduler = marbles();
    scheduler.run(({ cold, expectObservable }) => {
      const a = [event(1000), event(1200)];
      const b = [event(900)]; // out of order: the watermark does not go back
      const c = [event(1500)];
      const ticks = cold('a b c |', { a, b, c }).pipe(
        withWatermark({ outOfOrderMs: 100, idleTickMs: 10_000 }, scheduler),
      );
      expectObservable(ticks).toBe('x y z |', {
        x: tick(1100, ...a),
        y: tick(1100, ...b),
        z: tick(1400, ...c),
      });
    });
  });

  it('with no events for half a tick, follows the clock every quarter tick', () => {
    const scheduler = marbles();
    scheduler.run(({ cold, expectObservable }) => {
      const a = [event(50)];
      // idleTickMs 400: checks every 100 ms, idle once 200 ms have passed since the last frame.
      const ticks = cold('50ms a', { a }).pipe(
        withWatermark({ outOfOrderMs: 100, idleTickMs: 400 }, scheduler),
      );
      expectObservable(ticks, '^ 549ms !').toBe('50ms a 249ms b 99ms c 99ms d', {
        a: tick(-50, ...a),
        b: tick(200), // now 300 − outOfOrderMs
        c: tick(300),
        d: tick(400),
      });
    });
  });

  it('sends no idle ticks while frames keep coming more often than every half tick', () => {
    const scheduler = marbles();
    scheduler.run(({ cold, expectObservable }) => {
      const a = [event(10)];
      const b = [event(160)];
      const c = [event(310)];
      const ticks = cold('10ms a 149ms b 149ms c', { a, b, c }).pipe(
        withWatermark({ outOfOrderMs: 100, idleTickMs: 400 }, scheduler),
      );
      // Checks at 100, 200 … 500 find a frame less than 200 ms old; at 600 the stream is idle.
      expectObservable(ticks, '^ 749ms !').toBe('10ms a 149ms b 149ms c 289ms i 99ms j', {
        a: tick(-90, ...a),
        b: tick(60, ...b),
        c: tick(210, ...c),
        i: tick(500),
        j: tick(600),
      });
    });
  });

  it('never moves the watermark back when the clock lags the event times', () => {
    const scheduler = marbles();
    scheduler.run(({ cold, expectObservable }) => {
      const a = [event(5000)];
      const ticks = cold('a', { a }).pipe(
        withWatermark({ outOfOrderMs: 100, idleTickMs: 400 }, scheduler),
      );
      // The clock (0 … 1000) stays behind the watermark of 4900: no idle tick can lower it.
      expectObservable(ticks, '^ 999ms !').toBe('a', { a: tick(4900, ...a) });
    });
  });

  it('passes errors and completion through, ending its clock', () => {
    const scheduler = marbles();
    scheduler.run(({ cold, expectObservable }) => {
      const options = { outOfOrderMs: 0, idleTickMs: 400 };
      const a = [event(1)];
      const failing = cold('a #', { a }).pipe(withWatermark(options, scheduler));
      expectObservable(failing).toBe('a #', { a: tick(1, ...a) });
      // A clock left running would keep the virtual scheduler from ever finishing.
      const done = cold<StreamEvent[]>('250ms |').pipe(withWatermark(options, scheduler));
      expectObservable(done).toBe('200ms i 49ms |', { i: tick(200) });
    });
  });
});

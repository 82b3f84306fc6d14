import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../src/model/event.js';
import type { WindowResult } from '../../src/model/window-result.js';
import { streamPipeline } from '../../src/pipeline/stream-pipeline.js';
import { streamSpecSchema } from '../../src/pipeline/stream-spec.js';
import type { OpenWindows } from '../../src/pipeline/window-state.js';
import { event, lateLog, marbles, sortResults } from './stream-fixtures.js';

/** Votes per show in 1 s windows; out of order 100 ms, lateness 1 s, idle tick 400 ms. */
const votesPerShow = (overrides: Record<string, unknown> = {}) =>
  streamSpecSchema.parse({
    name: 'votes_per_show',
    source: {
      types: ['vote.cast'],
      where: [
        { field: 'props.showId', op: 'exists' },
        { field: 'props.region', op: 'in', value: ['eu', 'us'] },
        { field: 'props.weight', op: 'gt', value: 0 },
        { field: 'props.verified', op: 'eq', value: true },
      ],
    },
    groupBy: ['props.showId'],
    window: { kind: 'tumbling', sizeMs: 1000 },
    aggregates: [
      { name: 'votes', fn: 'count' },
      { name: 'weight', fn: 'sum', field: 'props.weight' },
      { name: 'voters', fn: 'uniq', field: 'userId' },
    ],
    outOfOrderMs: 100,
    allowedLatenessMs: 1000,
    idleTickMs: 400,
    ...overrides,
  });

const vote = (ts: number, showId: string, userId: string, props = {}): StreamEvent =>
  event(ts, { showId, region: 'eu', weight: 1, verified: true, ...props }, { userId });

const result = (
  key: string,
  start: number,
  values: Record<string, unknown>,
  rev: number,
  final = true,
): WindowResult => ({
  stream: 'votes_per_show',
  start,
  end: start + 1000,
  key,
  values,
  final,
  rev,
});

describe('streamPipeline', () => {
  it('aggregates the events matching every condition per group, final when the window closes', () => {
    const scheduler = marbles();
    scheduler.run(({ cold, expectObservable }) => {
      const frames = cold('110ms a 1039ms b', {
        a: [
          vote(100, 's1', 'u1'),
          vote(150, 's1', 'u2', { weight: 2 }),
          vote(180, 's1', 'u1'),
          vote(190, 's2', 'u3', { region: 'us' }),
          vote(110, 's1', 'u9', { region: 'asia' }), // not in
          vote(120, 's1', 'u9', { weight: 0 }), // not gt 0
          vote(130, 's1', 'u9', { verified: 'yes' }), // not eq true
          vote(140, 's1', 'u9', { showId: undefined }), // not exists
          event(160, { showId: 's1', region: 'eu', weight: 1, verified: true }, { type: 'view' }),
        ],
        b: [vote(1150, 's1', 'u1')], // watermark 1050
      });
      const results = frames.pipe(
        streamPipeline(votesPerShow({ idleTickMs: 10_000 }), { scheduler }),
        sortResults(),
      );
      expectObservable(results, '^ 1999ms !').toBe('1150ms x', {
        x: [
          result('s1', 0, { votes: 3, weight: 4, voters: 2 }, 1),
          result('s2', 0, { votes: 1, weight: 1, voters: 1 }, 1),
        ],
      });
    });
  });

  it('closes the last window of a quiet stream within outOfOrderMs + idleTickMs of its end', () => {
    const scheduler = marbles();
    scheduler.run(({ cold, expectObservable }) => {
      const frames = cold('910ms a', { a: [vote(910, 's1', 'u1')] });
      const results = frames.pipe(streamPipeline(votesPerShow(), { scheduler }));
      // Idle from 1110 ms (half a tick), checked each 100 ms: at 1200 the watermark is 1100.
      // That is 200 ms after the end of [0,1000), inside the promised 100 + 400 ms.
      expectObservable(results, '^ 2999ms !').toBe('1200ms x', {
        x: [result('s1', 0, { votes: 1, weight: 1, voters: 1 }, 1)],
      });
    });
  });

  it('re-emits a window for a late event with a higher rev, and drops events past lateness', () => {
    const scheduler = marbles();
    const late = lateLog();
    const open: OpenWindows = new Map();
    scheduler.run(({ cold, expectObservable }) => {
      const frames = cold('a b c d e |', {
        a: [vote(10, 's1', 'u1')],
        b: [vote(1100, 's1', 'u2')], // watermark 1000: [0,1000) closes
        c: [vote(500, 's1', 'u3')], // late, within the 1 s lateness
        d: [vote(2100, 's1', 'u4')], // watermark 2000: [0,1000) is forgotten
        e: [vote(600, 's1', 'u5')], // too late
      });
      const spec = votesPerShow({ idleTickMs: 10_000 });
      const results = frames.pipe(streamPipeline(spec, { scheduler, open, onLate: late.onLate }));
      expectObservable(results).toBe('- x y z - |', {
        x: [result('s1', 0, { votes: 1, weight: 1, voters: 1 }, 1)],
        y: [result('s1', 0, { votes: 2, weight: 2, voters: 2 }, 2)],
        z: [result('s1', 1000, { votes: 1, weight: 1, voters: 1 }, 1)],
      });
    });
    expect(late.calls).toEqual([
      ['within', 1],
      ['too_late', 1],
    ]);
    // What snapshots read: the closed window still within lateness, and the one in progress.
    expect([...open.values()].map((w) => [w.key, w.start, w.fired])).toEqual([
      ['s1', 1000, true],
      ['s1', 2000, false],
    ]);
  });

  it("in 'early' mode updates each group's window once per everyMs, then sends its final", () => {
    const scheduler = marbles();
    scheduler.run(({ cold, expectObservable }) => {
      const frames = cold('10ms a 9ms b 279ms c 299ms d 549ms e 449ms |', {
        a: [vote(10, 's1', 'u1')],
        b: [vote(20, 's2', 'u2')],
        c: [vote(300, 's1', 'u3')],
        d: [vote(600, 's1', 'u4')],
        e: [vote(1150, 's1', 'u5')], // watermark 1050: [0,1000) closes for both shows
      });
      const spec = votesPerShow({ idleTickMs: 10_000, emit: { mode: 'early', everyMs: 500 } });
      const results = frames.pipe(streamPipeline(spec, { scheduler }), sortResults());
      expectObservable(results).toBe('500ms w 499ms x 149ms y 349ms z 99ms |', {
        w: [
          result('s1', 0, { votes: 2, weight: 2, voters: 2 }, 1, false),
          result('s2', 0, { votes: 1, weight: 1, voters: 1 }, 1, false),
        ],
        x: [result('s1', 0, { votes: 3, weight: 3, voters: 3 }, 2, false)], // s2 did not change
        y: [
          result('s1', 0, { votes: 3, weight: 3, voters: 3 }, 3),
          result('s2', 0, { votes: 1, weight: 1, voters: 1 }, 2),
        ],
        z: [result('s1', 1000, { votes: 1, weight: 1, voters: 1 }, 1, false)],
      });
    });
  });

  it("publishes sessions joined by a merge once, as the merged session, in 'early' mode", () => {
    const scheduler = marbles();
    scheduler.run(({ cold, expectObservable }) => {
      const frames = cold('10ms a 289ms b 199ms c 599ms |', {
        a: [event(10)],
        b: [event(300)],
        c: [event(150)], // fills the gap between [10,210) and [300,500)
      });
      const spec = streamSpecSchema.parse({
        name: 'visits',
        window: { kind: 'session', gapMs: 200 },
        aggregates: [{ name: 'n', fn: 'count' }],
        outOfOrderMs: 5000,
        idleTickMs: 100_000,
        emit: { mode: 'early', everyMs: 1000 },
      });
      const results = frames.pipe(streamPipeline(spec, { scheduler }));
      expectObservable(results).toBe('1000ms x 99ms |', {
        x: [
          {
            stream: 'visits',
            start: 10,
            end: 500,
            key: '',
            values: { n: 3 },
            final: false,
            rev: 1,
          },
        ],
      });
    });
  });
});

import { map, type OperatorFunction } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { expect } from 'vitest';
import { bindAggregate } from '../../src/pipeline/aggregates/index.js';
import type { StreamEvent } from '../../src/model/event.js';
import type { WindowResult } from '../../src/model/window-result.js';
import type { Tick, WindowChange, WindowOperatorOptions } from '../../src/pipeline/window-state.js';

let nextId = 0;

/** An accepted `vote.cast` event at event time `ts`. */
export function event(
  ts: number,
  props: Record<string, unknown> = {},
  fields: Partial<StreamEvent> = {},
): StreamEvent {
  nextId += 1;
  const base = { id: `e${nextId}`, type: 'vote.cast', userId: '', anonymousId: '', sessionId: '' };
  return { ...base, ts, props, ...fields };
}

export const tick = (watermark: number, ...events: StreamEvent[]): Tick => ({ events, watermark });

/** Marble tests compare frames with vitest's deep equality. */
export const marbles = (): TestScheduler =>
  new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

/** Window operator options that count events (`n`) per `props.k`, with no lateness. */
export function countPerK(overrides: Partial<WindowOperatorOptions> = {}): WindowOperatorOptions {
  return {
    aggregates: [bindAggregate({ name: 'n', fn: 'count' })],
    keyOf: (e) => (typeof e.props.k === 'string' ? e.props.k : ''),
    allowedLatenessMs: 0,
    ...overrides,
  };
}

/**
 * What a window operator reported, as text copied at emission time (the operators mutate
 * their windows afterwards): `a [0,1000) n=2 final`, sorted, so marbles read like a log.
 */
export const describeChanges = (): OperatorFunction<WindowChange[], string[]> =>
  map((changes) =>
    changes
      .map(({ window: w, final }) => {
        const n = w.aggregates.findIndex((a) => a.name === 'n');
        const count = w.aggregates[n]!.fn.result(w.states[n]);
        return `${w.key ? `${w.key} ` : ''}[${w.start},${w.end}) n=${count}${final ? ' final' : ''}`;
      })
      .sort(),
  );

/** Results in a stable order (by key, then start), as a dashboard would index them. */
export const sortResults = (): OperatorFunction<WindowResult[], WindowResult[]> =>
  map((results) =>
    [...results].sort((a, b) => (a.key === b.key ? a.start - b.start : a.key < b.key ? -1 : 1)),
  );

/** Records `onLate` calls. */
export function lateLog() {
  const calls: [kind: 'within' | 'too_late', count: number][] = [];
  return {
    calls,
    onLate: (kind: 'within' | 'too_late', count: number) => calls.push([kind, count]),
  };
}

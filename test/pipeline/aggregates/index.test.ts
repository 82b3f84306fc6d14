import { describe, expect, it } from 'vitest';
import {
  aggregateSpecSchema,
  bindAggregate,
  fromRollup,
  rollupFunctionOf,
} from '../../../src/pipeline/aggregates/index.js';
import type { StreamEvent } from '../../../src/model/event.js';
import { streamSpecSchema } from '../../../src/pipeline/stream-spec.js';
import { event } from '../stream-fixtures.js';

const spec = streamSpecSchema.parse({
  name: 'everything',
  window: { kind: 'tumbling', sizeMs: 1000 },
  aggregates: [
    { name: 'events', fn: 'count' },
    { name: 'rated', fn: 'count', field: 'props.rating' },
    { name: 'total', fn: 'sum', field: 'props.rating' },
    { name: 'lowest', fn: 'min', field: 'props.rating' },
    { name: 'highest', fn: 'max', field: 'props.rating' },
    { name: 'mean', fn: 'avg', field: 'props.rating' },
    { name: 'users', fn: 'uniq', field: 'userId' },
    { name: 'rating', fn: 'quantiles', field: 'props.rating', q: [0.5] },
    { name: 'shows', fn: 'topK', field: 'props.show.id', k: 1 },
  ],
});

const events: StreamEvent[] = [
  event(1, { rating: 2, show: { id: 's1' } }, { userId: 'u1' }),
  event(2, { rating: 4, show: { id: 's1' } }, { userId: 'u2' }),
  event(3, { show: { id: 's2' } }, { userId: 'u1' }),
  event(4, { rating: 6 }, { userId: '' }), // no user: not a distinct user
];

describe('bindAggregate', () => {
  it('binds each aggregate of a spec to its name, function and field', () => {
    const values: Record<string, unknown> = {};
    for (const aggregate of spec.aggregates.map(bindAggregate)) {
      const state = aggregate.fn.create();
      for (const e of events) aggregate.fn.add(state, aggregate.read?.(e));
      values[aggregate.name] = aggregate.fn.result(state);
    }
    expect(values).toEqual({
      events: 4,
      rated: 3,
      total: 12,
      lowest: 2,
      highest: 6,
      mean: 4,
      users: 2,
      rating: { p50: expect.closeTo(4, 1) },
      shows: [{ value: 's1', count: 2 }],
    });
  });

  it('reads no field for a count of events', () => {
    expect(bindAggregate({ name: 'n', fn: 'count' }).read).toBeUndefined();
  });
});

describe('the aggregate registry', () => {
  it('lists every function once, in order, for stream definitions', () => {
    const unknown = aggregateSpecSchema.safeParse({ name: 'x', fn: 'median' });
    expect(unknown.error?.issues[0]?.message).toBe(
      "Invalid discriminator value. Expected 'count' | 'sum' | 'min' | 'max' | 'avg' | 'uniq' | 'quantiles' | 'topK'",
    );
  });

  it('names each rollup’s ClickHouse function, its parameters and what it reads', () => {
    expect(spec.aggregates.map(rollupFunctionOf)).toEqual([
      { fn: 'count', reads: 'text', typedState: false },
      { fn: 'count', reads: 'text', typedState: false },
      { fn: 'sum', reads: 'number' },
      { fn: 'min', reads: 'number' },
      { fn: 'max', reads: 'number' },
      { fn: 'avg', reads: 'number' },
      { fn: 'uniq', reads: 'text' },
      { fn: 'quantilesTDigest', params: [0.5], reads: 'number' },
      { fn: 'topK', params: [1], reads: 'text' },
    ]);
  });

  it('reads merged rollup values in the shape of the pipeline’s results', () => {
    const [events, , total, , , mean, , rating, shows] = spec.aggregates;
    expect(fromRollup(events!, '42')).toBe(42);
    expect(fromRollup(total!, 12.5)).toBe(12.5);
    expect(fromRollup(mean!, null)).toBeNull();
    expect(fromRollup(mean!, 'nan')).toBeNull();
    expect(fromRollup(rating!, [3.9])).toEqual({ p50: 3.9 });
    expect(fromRollup(rating!, [])).toEqual({ p50: null });
    expect(fromRollup(shows!, ['s1', 's2'])).toEqual([{ value: 's1' }, { value: 's2' }]);
  });
});

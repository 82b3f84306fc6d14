import { describe, expect, it } from 'vitest';
import { bindAggregate } from '../../../src/pipeline/aggregates/index.js';
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

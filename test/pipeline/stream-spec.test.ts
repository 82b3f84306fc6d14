import { describe, expect, it } from 'vitest';
import { streamSpecSchema } from '../../src/pipeline/stream-spec.js';

const minimal = {
  name: 'votes',
  window: { kind: 'tumbling', sizeMs: 60_000 },
  aggregates: [{ name: 'votes', fn: 'count' }],
};

/** The paths zod refuses, as the admin API reports them. */
function refusedPaths(spec: Record<string, unknown>): string[] {
  const parsed = streamSpecSchema.safeParse(spec);
  expect(parsed.success).toBe(false);
  return parsed.error!.issues.map((issue) => issue.path.join('.'));
}

describe('streamSpecSchema', () => {
  it('fills in the defaults of a minimal spec', () => {
    expect(streamSpecSchema.parse(minimal)).toEqual({
      ...minimal,
      source: { where: [] }, // every event type
      groupBy: [],
      outOfOrderMs: 5000,
      allowedLatenessMs: 60_000,
      idleTickMs: 1000,
      emit: { mode: 'final' },
      access: 'private', // project keys with read only
    });
  });

  it('takes the three access levels and nothing else', () => {
    for (const access of ['private', 'users', 'public'])
      expect(streamSpecSchema.parse({ ...minimal, access }).access).toBe(access);
    expect(streamSpecSchema.safeParse({ ...minimal, access: 'everyone' }).success).toBe(false);
  });

  it('defaults early emission to every second, quantiles to p50/p95/p99 and topK to 10', () => {
    const spec = streamSpecSchema.parse({
      ...minimal,
      emit: { mode: 'early' },
      aggregates: [
        { name: 'latency', fn: 'quantiles', field: 'props.ms' },
        { name: 'shows', fn: 'topK', field: 'props.showId' },
      ],
    });
    expect(spec.emit).toEqual({ mode: 'early', everyMs: 1000 });
    expect(spec.aggregates).toEqual([
      { name: 'latency', fn: 'quantiles', field: 'props.ms', q: [0.5, 0.95, 0.99] },
      { name: 'shows', fn: 'topK', field: 'props.showId', k: 10 },
    ]);
  });

  it('accepts every window kind and field kind', () => {
    for (const window of [
      { kind: 'hopping', sizeMs: 60_000, slideMs: 60_000 },
      { kind: 'session', gapMs: 30_000 },
    ]) {
      expect(streamSpecSchema.safeParse({ ...minimal, window }).success).toBe(true);
    }
    const fields = ['id', 'type', 'ts', 'userId', 'anonymousId', 'sessionId', 'props.a.b_c-$.0'];
    expect(streamSpecSchema.safeParse({ ...minimal, groupBy: fields.slice(3) }).success).toBe(true);
    const counts = fields.map((field, i) => ({ name: `n${i}`, fn: 'count', field }));
    expect(streamSpecSchema.safeParse({ ...minimal, aggregates: counts }).success).toBe(true);
  });

  it('refuses a hopping window that slides by more than its size', () => {
    const window = { kind: 'hopping', sizeMs: 1000, slideMs: 2000 };
    expect(refusedPaths({ ...minimal, window })).toEqual(['window.slideMs']);
  });

  it('refuses two aggregates with the same name', () => {
    const aggregates = [
      { name: 'n', fn: 'count' },
      { name: 'n', fn: 'sum', field: 'props.v' },
    ];
    expect(refusedPaths({ ...minimal, aggregates })).toEqual(['aggregates']);
  });

  it.each(['props', 'props.', 'props..a', 'show.id', 'user_id', 'props.a b', 'Props.a'])(
    'refuses the field path %j wherever a field goes',
    (field) => {
      expect(refusedPaths({ ...minimal, groupBy: [field] })).toEqual(['groupBy.0']);
      const aggregates = [{ name: 'v', fn: 'sum', field }];
      expect(refusedPaths({ ...minimal, aggregates })).toEqual(['aggregates.0.field']);
      const source = { where: [{ field, op: 'exists' }] };
      expect(refusedPaths({ ...minimal, source })).toEqual(['source.where.0.field']);
    },
  );

  it.each([
    ['an uppercase name', { name: 'Votes' }, 'name'],
    ['no aggregates', { aggregates: [] }, 'aggregates'],
    ['a sum without a field', { aggregates: [{ name: 's', fn: 'sum' }] }, 'aggregates.0.field'],
    ['an unknown function', { aggregates: [{ name: 's', fn: 'median' }] }, 'aggregates.0.fn'],
    [
      'a quantile of 1',
      { aggregates: [{ name: 'q', fn: 'quantiles', field: 'ts', q: [1] }] },
      'aggregates.0.q.0',
    ],
    [
      'a topK over 1000',
      { aggregates: [{ name: 't', fn: 'topK', field: 'ts', k: 1001 }] },
      'aggregates.0.k',
    ],
    ['a window under 10 ms', { window: { kind: 'tumbling', sizeMs: 5 } }, 'window.sizeMs'],
    [
      'an unknown operator',
      { source: { where: [{ field: 'ts', op: 'like' }] } },
      'source.where.0.op',
    ],
    ['five groupBy fields', { groupBy: ['id', 'type', 'ts', 'userId', 'sessionId'] }, 'groupBy'],
    ['a negative lateness', { allowedLatenessMs: -1 }, 'allowedLatenessMs'],
    ['early emission under 10 ms', { emit: { mode: 'early', everyMs: 1 } }, 'emit.everyMs'],
  ])('refuses %s', (_, overrides, path) => {
    expect(refusedPaths({ ...minimal, ...overrides })).toEqual([path]);
  });
});

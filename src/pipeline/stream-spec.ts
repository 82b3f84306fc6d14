import { z } from 'zod';

/** Event fields a stream may read: the top-level ones, or `props.<path>`. */
const fieldPath = z
  .string()
  .regex(
    /^(id|type|ts|userId|anonymousId|sessionId|props(\.[A-Za-z0-9_$-]+)+)$/,
    'a field is id, type, ts, userId, anonymousId, sessionId or props.<path>',
  );

const condition = z.object({
  field: fieldPath,
  op: z.enum(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'exists']),
  value: z.unknown().optional(),
});

const aggregate = z.discriminatedUnion('fn', [
  z.object({ name: z.string().min(1), fn: z.literal('count'), field: fieldPath.optional() }),
  z.object({
    name: z.string().min(1),
    fn: z.enum(['sum', 'min', 'max', 'avg', 'uniq']),
    field: fieldPath,
  }),
  z.object({
    name: z.string().min(1),
    fn: z.literal('quantiles'),
    field: fieldPath,
    q: z.array(z.number().gt(0).lt(1)).min(1).default([0.5, 0.95, 0.99]),
  }),
  z.object({
    name: z.string().min(1),
    fn: z.literal('topK'),
    field: fieldPath,
    k: z.number().int().min(1).max(1000).default(10),
  }),
]);

const windowSpec = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('tumbling'), sizeMs: z.number().int().min(10) }),
  z.object({
    kind: z.literal('hopping'),
    sizeMs: z.number().int().min(10),
    slideMs: z.number().int().min(10),
  }),
  z.object({ kind: z.literal('session'), gapMs: z.number().int().min(10) }),
]);

/**
 * A metric stream, declared in configuration or through the admin API.
 *
 * @example
 * { name: 'votes_per_show', source: { types: ['vote.cast'] }, groupBy: ['props.showId'],
 *   window: { kind: 'tumbling', sizeMs: 60000 }, aggregates: [{ name: 'votes', fn: 'count' }],
 *   emit: { mode: 'early', everyMs: 1000 } }
 */
export const streamSpecSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'stream names are lowercase [a-z0-9_-], at most 64'),
    source: z
      .object({
        types: z.array(z.string().min(1)).optional(), // absent: every type
        where: z.array(condition).default([]),
      })
      .prefault({}),
    groupBy: z.array(fieldPath).max(4).default([]),
    window: windowSpec,
    aggregates: z.array(aggregate).min(1).max(32),
    outOfOrderMs: z.number().int().min(0).default(5000), // watermark = max event time − this
    allowedLatenessMs: z.number().int().min(0).default(60_000), // late events still update closed windows
    idleTickMs: z.number().int().min(10).default(1000), // with no events, the watermark follows the clock each tick
    emit: z
      .discriminatedUnion('mode', [
        z.object({ mode: z.literal('final') }),
        z.object({ mode: z.literal('early'), everyMs: z.number().int().min(10).default(1000) }),
      ])
      .default({ mode: 'final' }),
  })
  .refine((s) => s.window.kind !== 'hopping' || s.window.slideMs <= s.window.sizeMs, {
    message: 'hopping windows need slideMs ≤ sizeMs',
    path: ['window', 'slideMs'],
  })
  // Each event lands in sizeMs / slideMs windows: bound the fan-out per event.
  .refine((s) => s.window.kind !== 'hopping' || s.window.sizeMs / s.window.slideMs <= 100, {
    message: 'hopping windows need sizeMs / slideMs ≤ 100',
    path: ['window', 'slideMs'],
  })
  .refine((s) => new Set(s.aggregates.map((a) => a.name)).size === s.aggregates.length, {
    message: 'aggregate names must be unique',
    path: ['aggregates'],
  });

export type StreamSpec = z.infer<typeof streamSpecSchema>;
export type AggregateSpec = StreamSpec['aggregates'][number];
export type WindowSpec = StreamSpec['window'];
export type Condition = z.infer<typeof condition>;

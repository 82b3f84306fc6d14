import { z } from 'zod';
import { aggregateSpecSchema } from './aggregates/index.js';
import { fieldPathSchema } from './field-path.js';

const condition = z.object({
  field: fieldPathSchema,
  op: z.enum(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'exists']),
  value: z.unknown().optional(),
});

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
 * Who may read a stream's windows (live and over HTTP): `private`, project keys with `read`;
 * `users`, also any signed-in user of the project (a JWT or a backline user token); `public`,
 * anyone, with no credential (the project named by `?project=`).
 */
export const streamAccessLevels = ['private', 'users', 'public'] as const;
export type StreamAccess = (typeof streamAccessLevels)[number];

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
    groupBy: z.array(fieldPathSchema).max(4).default([]),
    window: windowSpec,
    aggregates: z.array(aggregateSpecSchema).min(1).max(32),
    outOfOrderMs: z.number().int().min(0).default(5000), // watermark = max event time − this
    allowedLatenessMs: z.number().int().min(0).default(60_000), // late events still update closed windows
    idleTickMs: z.number().int().min(10).default(1000), // with no events, the watermark follows the clock each tick
    emit: z
      .discriminatedUnion('mode', [
        z.object({ mode: z.literal('final') }),
        z.object({ mode: z.literal('early'), everyMs: z.number().int().min(10).default(1000) }),
      ])
      .default({ mode: 'final' }),
    access: z.enum(streamAccessLevels).default('private'),
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
export type WindowSpec = StreamSpec['window'];
export type Condition = z.infer<typeof condition>;

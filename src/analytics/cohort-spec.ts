import { z } from 'zod';
import type { CohortCondition, CohortRule } from '../storage/analytics/cohort-sql.js';
import { conditionSchema, eventTypeSchema } from './query-params.js';

const span = {
  types: z.array(eventTypeSchema).min(1).max(20).optional(), // absent: any event
  where: z.array(conditionSchema).max(20).default([]),
  withinMs: z.number().int().min(1).optional(), // the last this long, at query time
  from: z.number().int().min(0).optional(), // or a fixed span [from, to) in epoch ms
  to: z.number().int().min(0).optional(),
};

const condition = z
  .discriminatedUnion('kind', [
    z.object({
      kind: z.literal('performed'),
      ...span,
      min: z.number().int().min(0).default(1),
      max: z.number().int().min(0).optional(), // max 0: did not
    }),
    z.object({ kind: z.literal('first_seen'), ...span }),
  ])
  .refine((c) => c.withinMs === undefined || (c.from === undefined && c.to === undefined), {
    message: 'a condition has withinMs or from/to, not both',
  })
  .refine((c) => c.from === undefined || c.to === undefined || c.from < c.to, {
    message: 'from must be before to',
  })
  .refine((c) => c.kind !== 'performed' || c.max === undefined || c.max >= c.min, {
    message: 'max must be at least min',
  });

/**
 * A saved cohort: the persons who meet all (or any) of its conditions, evaluated when used,
 * so a cohort of "played a song in the last 7 days" moves with time.
 *
 * @example
 * { name: 'new_fans', conditions: [{ kind: 'first_seen', withinMs: 604800000 },
 *   { kind: 'performed', types: ['song.play'], min: 3 }] }
 */
export const cohortSpecSchema = z.object({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'cohort names are lowercase [a-z0-9_-], at most 64'),
  description: z.string().max(500).optional(),
  match: z.enum(['all', 'any']).default('all'),
  conditions: z.array(condition).min(1).max(10),
});

export type CohortSpec = z.infer<typeof cohortSpecSchema>;

/** The cohort's rule with `withinMs` turned into times, as of `nowMs`. */
export function cohortRule(spec: CohortSpec, nowMs: number): CohortRule {
  const conditions = spec.conditions.map((c): CohortCondition => {
    const times = {
      ...(c.withinMs !== undefined ? { fromMs: nowMs - c.withinMs } : {}),
      ...(c.from !== undefined ? { fromMs: c.from } : {}),
      ...(c.to !== undefined ? { toMs: c.to } : {}),
    };
    const events = { ...(c.types ? { types: c.types } : {}), where: c.where, ...times };
    if (c.kind === 'first_seen') return { kind: 'first_seen', ...events };
    return {
      kind: 'performed',
      min: c.min,
      ...(c.max !== undefined ? { max: c.max } : {}),
      ...events,
    };
  });
  return { match: spec.match, conditions };
}

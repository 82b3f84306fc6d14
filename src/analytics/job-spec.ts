import { z } from 'zod';
import { predictionJobSchemas } from './model-job-spec.js';
import { eventTypeSchema } from './query-params.js';

const day = 86_400_000;

const common = {
  description: z.string().max(500).optional(),
  everyMs: z
    .number()
    .int()
    .min(60_000)
    .max(31 * day)
    .default(day), // a run at most this long after the last one began
};

/**
 * A warehouse job: a named materialization of a project's events into a table, run on a
 * schedule (README: Warehouse jobs).
 *
 * @example
 * { kind: 'daily_users', days: 30, everyMs: 3600000 }
 */
export const jobSpecSchema = z.discriminatedUnion('kind', [
  // Per UTC day and person: events, distinct types, first and last event; the last `days` days.
  z.object({
    kind: z.literal('daily_users'),
    ...common,
    days: z.number().int().min(1).max(400).default(30),
  }),
  // Per person: lifetime and recent counts, and the engagement score (analytics.engagement).
  z.object({ kind: z.literal('user_features'), ...common }),
  // A retention table of the cohorts that began in the last `days` days.
  z.object({
    kind: z.literal('retention'),
    ...common,
    interval: z.enum(['day', 'week']).default('week'),
    periods: z.number().int().min(1).max(100).default(8),
    cohort: eventTypeSchema.optional(), // the cohort event; absent: first seen
    return: eventTypeSchema.optional(), // the return event; absent: any
    days: z.number().int().min(1).max(400).default(56),
  }),
  // Models (README: Predictions): recommendations, churn risk, forecasts.
  ...predictionJobSchemas(common),
]);

export type JobSpec = z.infer<typeof jobSpecSchema>;
export type JobKind = JobSpec['kind'];

/** Job names, as cohort names: they are path segments and table values. */
export const jobNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'job names are lowercase [a-z0-9_-], at most 64');

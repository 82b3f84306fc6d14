import { z } from 'zod';

// The analytics settings (README: Analytics). Each API takes the same names as query
// parameters to override them per request.

const day = 24 * 3600_000;

/**
 * The engagement score's formula: score = 100 · (wR·R + wF·F + wB·B) / (wR + wF + wB), with
 * recency R = 2^(−(at − last event) / halfLifeMs), frequency F = min(1, active days in the
 * window / frequencyTarget) and breadth B = min(1, distinct event types in the window /
 * breadthTarget).
 */
export const engagementSchema = z.object({
  windowMs: z
    .number()
    .int()
    .min(3600_000)
    .max(366 * day)
    .default(30 * day), // events counted: [at − this, at)
  halfLifeMs: z
    .number()
    .int()
    .min(60_000)
    .default(7 * day), // recency halves every this long since the last event
  frequencyTarget: z.number().int().min(1).max(366).default(10), // active UTC days for F = 1
  breadthTarget: z.number().int().min(1).max(1000).default(5), // distinct event types for B = 1
  weights: z
    .object({
      recency: z.number().min(0).default(1),
      frequency: z.number().min(0).default(1),
      breadth: z.number().min(0).default(1),
    })
    .refine((w) => w.recency + w.frequency + w.breadth > 0, 'at least one weight is above 0')
    .prefault({}),
});

/**
 * Trending entities: a time-decayed score per value of a field, kept live in memory from the
 * accepted events (README: Trending).
 */
export const trendingSchema = z
  .object({
    periodMs: z
      .number()
      .int()
      .min(60_000)
      .max(30 * day)
      .default(day), // the current period; the previous one is as long
    halfLifeMs: z
      .number()
      .int()
      .min(60_000)
      .default(6 * 3600_000), // an event's weight halves every this long
    bucketMs: z.number().int().min(1000).max(3600_000).default(60_000), // time resolution of the live sums
    maxTrackers: z.number().int().min(1).max(1000).default(50), // fields tracked live at once, per node
    idleMs: z.number().int().min(60_000).default(3600_000), // a tracker nobody asked this long is dropped
    maxValues: z.number().int().min(100).default(100_000), // values kept per tracker; new ones past it are dropped, counted
  })
  .refine((t) => t.periodMs % t.bucketMs === 0, {
    message: 'periodMs must be a whole number of bucketMs',
    path: ['periodMs'],
  });

/** Warehouse jobs (README: Warehouse jobs). */
export const jobsSchema = z.object({
  checkEveryMs: z.number().int().min(100).default(10_000), // how often due jobs are looked for
});

/**
 * Send-time optimisation (`sendAt: "best"`; README: Send time): each user's UTC hour of day
 * with the most activity in the lookback, where an hour's score is its weighted events
 * (openTypes count `openWeight`, other events 1, ignoredTypes nothing) plus `neighbourWeight`
 * times each neighbouring hour's; a user with fewer than `minActiveDays` active days gets the
 * project's hour (its opens per hour scored the same way, or its events when it has no opens).
 */
export const sendTimeSchema = z.object({
  lookbackDays: z.number().int().min(1).max(366).default(28), // activity read: the days before now
  openWeight: z.number().min(0).max(1000).default(3), // an open or click counts as this many events
  openTypes: z
    .array(z.string().min(1))
    .max(50)
    .default([
      'email.open',
      'email.click',
      'notification.open',
      'notification.click',
      'push.click',
    ]),
  // What providers and push services report without the user doing anything: the send's
  // own hour, which would teach the model the hour it already sends at.
  ignoredTypes: z
    .array(z.string().min(1))
    .max(100)
    .default([
      'email.processed',
      'email.deferred',
      'email.delivered',
      'email.bounce',
      'email.dropped',
      'push.delivered',
      'push.failed',
      'push.gone',
      'push.retry',
    ]),
  neighbourWeight: z.number().min(0).max(1).default(0.5), // share of each adjacent hour's weight added
  minActiveDays: z.number().int().min(1).max(366).default(5), // distinct UTC days with activity for an own hour
  fallbackHour: z.number().int().min(0).max(23).default(17), // UTC; a project with no activity in the lookback
});

// Props read out of the JSON text by slow queries become columns by themselves (README:
// Materialized props).
const autoMaterializeSchema = z.object({
  enabled: z.boolean().default(true),
  slowMs: z.number().int().min(0).default(100), // a query this long or longer counts
  slowQueries: z.number().int().min(1).max(1000).default(3), // slow queries reading a field…
  windowMs: z.number().int().min(1000).default(3_600_000), // …within this long make it a column
  maxColumns: z.number().int().min(0).max(50).default(10), // columns made so, at most
  refreshMs: z.number().int().min(500).default(10_000), // how often the node reads the columns and their mutations
});

export const analyticsSchema = z.object({
  // `props.…` fields kept as columns of the events table, read by breakdowns, funnels and
  // trending without parsing each event's JSON (README: Materialized props).
  materializedProps: z
    .array(z.string().regex(/^props(\.[A-Za-z0-9_$-]+)+$/, 'a `props.…` field'))
    .max(50)
    .default([]),
  autoMaterialize: autoMaterializeSchema.prefault({}),
  engagement: engagementSchema.prefault({}),
  trending: trendingSchema.prefault({}),
  jobs: jobsSchema.prefault({}),
  sendTime: sendTimeSchema.prefault({}),
});

export type EngagementSettings = z.output<typeof engagementSchema>;
export type AutoMaterializeSettings = z.output<typeof autoMaterializeSchema>;
export type TrendingSettings = z.output<typeof trendingSchema>;
export type JobsSettings = z.output<typeof jobsSchema>;
export type SendTimeSettings = z.output<typeof sendTimeSchema>;

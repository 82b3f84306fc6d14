import { z } from 'zod';

const eventType = z.string().min(1).max(256);
/** A path into an event's props, as streams name fields: `props.showId`. */
const propPath = z
  .string()
  .regex(/^props(\.[A-Za-z0-9_$-]+)+$/, 'a props path such as props.showId')
  .max(200);
const types = (fallback: string[], min = 0) =>
  z.array(eventType).min(min).max(20).default(fallback);

/**
 * The model jobs among the warehouse jobs (README: Predictions), given the fields every job
 * has. Each run trains on the project's events up to its start, evaluates itself on a held-out
 * split against a baseline, and writes what the API serves.
 *
 * @example
 * { kind: 'churn', horizonDays: 14, windowDays: 28, everyMs: 86400000 }
 */
export function predictionJobSchemas<C extends z.ZodRawShape>(common: C) {
  return [
    z.object({
      kind: z.literal('recommendations'),
      ...common,
      // What a person "has": the item named by `item` on events of these types.
      types: types(['vote.cast', 'show.follow'], 1),
      item: propPath.default('props.showId'),
      // An item's content: these props of the events that name it (the most frequent value).
      attributes: z.array(propPath).max(8).default(['props.artistId', 'props.genre']),
      // Events that describe items without being interactions (a show announced).
      catalog: types(['show.scheduled']),
      days: z.number().int().min(1).max(400).default(90), // history read (days)
      limit: z.number().int().min(1).max(100).default(20), // items kept per person
      blend: z.number().min(0).max(1).default(0.6), // weight of co-occurrence against content
      neighbours: z.number().int().min(1).max(200).default(30), // kept per item
      holdoutDays: z.number().int().min(1).max(60).default(7), // evaluation: the last days' items
      trendingDays: z.number().int().min(1).max(90).default(7), // the fallback's popularity window
    }),
    z.object({
      kind: z.literal('churn'),
      ...common,
      horizonDays: z.number().int().min(1).max(90).default(14), // churned: no event this long
      windowDays: z.number().int().min(7).max(180).default(28), // features look back this far
      notificationTypes: types(['notification.open', 'notification.click']),
      holdoutShare: z.number().min(0.1).max(0.5).default(0.3), // persons kept out of training
      epochs: z.number().int().min(1).max(50).default(20), // passes of the SGD over the rows
    }),
    z.object({
      kind: z.literal('forecast'),
      ...common,
      horizonDays: z.number().int().min(1).max(28).default(7),
      historyDays: z.number().int().min(21).max(400).default(56),
      // Per-show engagement: events of these types per value of `show`, the `shows` busiest.
      showTypes: types(['vote.cast']),
      show: propPath.default('props.showId'),
      shows: z.number().int().min(0).max(200).default(20),
      coverage: z.number().min(0.5).max(0.99).default(0.8), // of the interval
    }),
  ] as const;
}

// The model fields alone, for the types the trainers take.
type Bare = ReturnType<typeof predictionJobSchemas<Record<never, never>>>;
export type RecommendationSpec = z.infer<Bare[0]>;
export type ChurnSpec = z.infer<Bare[1]>;
export type ForecastSpec = z.infer<Bare[2]>;
export type PredictionSpec = RecommendationSpec | ChurnSpec | ForecastSpec;
export const predictionKinds = ['recommendations', 'churn', 'forecast'] as const;
export type PredictionKind = (typeof predictionKinds)[number];

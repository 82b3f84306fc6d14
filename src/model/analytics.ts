/**
 * Shapes of analytics answers that the server computes and the dashboard reads, declared
 * once (the dashboard may import `model/`, never server code).
 */
import type { StreamEvent } from './event.js';

/** One person's engagement score and what it is made of (`GET /v1/analytics/engagement`). */
export interface PersonScore {
  person: string;
  score: number;
  recency: number;
  frequency: number;
  breadth: number;
  lastMs: number;
  activeDays: number;
  eventTypes: number;
  events: number;
}

/** One ranked value of `GET /v1/trending`. */
export interface TrendingItem {
  value: string;
  score: number;
  previousScore: number;
  /** score − previousScore. */
  change: number;
  /** score / previousScore − 1; null when the value had no event in the previous period. */
  changeRatio: number | null;
  events: number;
  previousEvents: number;
}

/** One event of a person's timeline, as stored: `props` parsed, or the stored text as it is. */
export type TimelineEvent = Omit<StreamEvent, 'props'> & { props: unknown };

import type { PersonScore, TimelineEvent, TrendingItem } from '../model/analytics.js';

export type { PersonScore, TimelineEvent, TrendingItem };

/** A refusal of the server, with its error code (`FORBIDDEN`, `BAD_QUERY`…). */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export type Query = Record<string, string | number | boolean | object | undefined>;

/**
 * `GET path?query` with the page's key; objects go as JSON, undefined values are left out.
 * Throws an `ApiError` with the server's code when refused.
 */
export async function getJson<T>(path: string, key: string, query: Query = {}): Promise<T> {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    params.set(name, typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
  const search = params.toString();
  const url = search ? `${path}?${search}` : path;
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  const body = (await res.json().catch(() => ({}))) as T & { code?: string; msg?: string };
  if (!res.ok) throw new ApiError(body.code ?? String(res.status), body.msg ?? 'request failed');
  return body;
}

/** `GET /v1/events/stats`: stored events per type. */
export interface EventStats {
  total: number;
  types: Array<{ type: string; count: number }>;
}

export interface TrendSeries {
  key: string | null;
  other: boolean;
  values: Array<number | null>;
  total: number | null;
}

/** `GET /v1/analytics/trends`. */
export interface Trend {
  measure: string;
  breakdown: string | null;
  interval: 'hour' | 'day' | 'week';
  from: number;
  to: number;
  buckets: number[];
  series: TrendSeries[];
  previous?: { from: number; to: number; buckets: number[]; series: TrendSeries[] };
}

export interface FunnelStep {
  type: string;
  count: number;
  conversion: number | null;
  fromPrevious: number | null;
  medianMsFromPrevious: number | null;
}

/** `GET /v1/analytics/funnels`. */
export interface Funnel {
  from: number;
  to: number;
  windowMs: number;
  breakdown: string | null;
  results: Array<{ key: string | null; other: boolean; steps: FunnelStep[] }>;
}

export interface RetentionCohort {
  start: number;
  size: number;
  counts: Array<number | null>;
  rates: Array<number | null>;
}

/** `GET /v1/analytics/retention`. */
export interface Retention {
  from: number;
  to: number;
  interval: 'day' | 'week';
  periods: number;
  cohorts: RetentionCohort[];
}

/** `GET /v1/trending`. */
export interface Trending {
  entity: string;
  periodMs: number;
  halfLifeMs: number;
  live: boolean;
  asOf: number;
  items: TrendingItem[];
}

/** `GET /v1/analytics/persons/:id`. */
export interface PersonProfile {
  id: string;
  person: string;
  identified: boolean;
  events: number;
  firstMs: number | null;
  lastMs: number | null;
  types: Array<{ type: string; events: number }>;
  identities: Array<{ anonymousId: string; mergedAt: number }>;
  timeline: TimelineEvent[];
  next: string | null;
}

/** `GET /v1/analytics/engagement/users`. */
export interface EngagementUsers {
  at: number;
  formula: {
    windowMs: number;
    halfLifeMs: number;
    frequencyTarget: number;
    breadthTarget: number;
    weights: { recency: number; frequency: number; breadth: number };
  };
  users: PersonScore[];
}

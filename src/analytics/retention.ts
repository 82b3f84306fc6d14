import { BacklineError } from '../errors.js';
import type { RetentionRow } from '../storage/analytics/retention-sql.js';
import { bucketStarts, intervalMs } from './buckets.js';
import { eventTypeSchema, integer, oneOf, text } from './query-params.js';

/** `GET /v1/analytics/retention` as asked, checked. */
export interface RetentionRequest {
  /** The cohort event type; absent: first seen (a person's first event of any type). */
  cohortType?: string;
  /** The return event type; absent: any event. */
  returnType?: string;
  interval: 'day' | 'week';
  periods: number;
  /** A saved cohort whose persons alone are counted. */
  inCohort?: string;
}

const typeOrKeyword = (query: URLSearchParams, name: string, keyword: string) => {
  const value = text(query, name) ?? keyword;
  if (value === keyword) return undefined;
  if (!eventTypeSchema.safeParse(value).success)
    throw new BacklineError('BAD_QUERY', `\`${name}\` is ${keyword} or an event type`);
  return value;
};

export function parseRetentionRequest(query: URLSearchParams): RetentionRequest {
  const cohortType = typeOrKeyword(query, 'cohort', 'first_seen');
  const returnType = typeOrKeyword(query, 'return', 'any');
  const inCohort = text(query, 'inCohort');
  return {
    ...(cohortType ? { cohortType } : {}),
    ...(returnType ? { returnType } : {}),
    interval: oneOf(query, 'interval', ['day', 'week'], 'day'),
    periods: integer(query, 'periods', { min: 1, max: 100 }, 7),
    ...(inCohort ? { inCohort } : {}),
  };
}

export interface RetentionCohort {
  /** The cohort's day, or its Monday for weeks (epoch ms, UTC). */
  start: number;
  size: number;
  /** Persons returning in period 0…periods; null for a period that has not begun. */
  counts: Array<number | null>;
  /** counts / size; null where the count is null or the cohort is empty. */
  rates: Array<number | null>;
}

/** One row per cohort start in the range, empty cohorts included, so the table is a triangle. */
export function retentionCohorts(
  rows: readonly RetentionRow[],
  range: { from: number; to: number },
  request: RetentionRequest,
  nowMs: number,
): RetentionCohort[] {
  const step = intervalMs[request.interval];
  const found = new Map(rows.map((row) => [row.bucket, row]));
  return bucketStarts(range.from, range.to, request.interval).map((start) => {
    const row = found.get(start);
    const size = row?.size ?? 0;
    const counts = Array.from({ length: request.periods + 1 }, (_, k) =>
      start + k * step > nowMs ? null : (row?.counts[k] ?? 0),
    );
    const rates = counts.map((count) => (count === null || size === 0 ? null : count / size));
    return { start, size, counts, rates };
  });
}

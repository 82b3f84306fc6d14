import { z } from 'zod';
import type { EngagementSettings } from '../config/analytics-schema.js';
import { BacklineError } from '../errors.js';
import type { EngagementFormula } from '../storage/analytics/engagement-sql.js';
import type { StickinessRow } from '../storage/analytics/stickiness-sql.js';
import { bucketStarts, intervalMs } from './buckets.js';
import { eventTypeSchema, integer, json, text } from './query-params.js';

const day = intervalMs.day;
/** `types=` of the engagement APIs: the event types that count as actions. */
export const typesSchema = z.array(eventTypeSchema).min(1).max(50);

/** What the engagement APIs share: which events, whose, as of when, by which formula. */
export interface EngagementRequest {
  atMs: number;
  formula: EngagementFormula;
  types?: string[];
  cohort?: string;
}

function weights(query: URLSearchParams, fallback: EngagementFormula['weights']) {
  const raw = text(query, 'weights');
  if (raw === undefined) return fallback;
  const parts = raw.split(',').map(Number);
  if (
    parts.length !== 3 ||
    parts.some((x) => !Number.isFinite(x) || x < 0) ||
    parts[0]! + parts[1]! + parts[2]! <= 0
  )
    throw new BacklineError(
      'BAD_QUERY',
      '`weights` is recency,frequency,breadth: three numbers of at least 0, not all 0',
    );
  return { recency: parts[0]!, frequency: parts[1]!, breadth: parts[2]! };
}

/** The request: each formula setting may be overridden by the parameter of its name. */
export function parseEngagementRequest(
  query: URLSearchParams,
  defaults: EngagementSettings,
  nowMs: number,
): EngagementRequest {
  const types = json(query, 'types', typesSchema);
  const cohort = text(query, 'cohort');
  return {
    atMs: integer(query, 'at', { min: 0, max: 8.64e15 }, nowMs),
    formula: {
      windowMs: integer(query, 'window', { min: 3600_000, max: 366 * day }, defaults.windowMs),
      halfLifeMs: integer(query, 'halfLife', { min: 60_000, max: 3650 * day }, defaults.halfLifeMs),
      frequencyTarget: integer(
        query,
        'frequencyTarget',
        { min: 1, max: 366 },
        defaults.frequencyTarget,
      ),
      breadthTarget: integer(query, 'breadthTarget', { min: 1, max: 1000 }, defaults.breadthTarget),
      weights: weights(query, defaults.weights),
    },
    ...(types ? { types } : {}),
    ...(cohort ? { cohort } : {}),
  };
}

export const maxStickinessDays = 400;

/** The whole UTC days a range touches: from `from`'s day through the day before `to`. */
export function stickinessDays(range: { from: number; to: number }): number[] {
  const days = bucketStarts(range.from, range.to, 'day');
  if (days.length > maxStickinessDays)
    throw new BacklineError('BAD_QUERY', `the range holds more than ${maxStickinessDays} days`);
  return days;
}

/** Every day of the range with its DAU, MAU and their ratio, and the range's summary. */
export function stickinessAnswer(rows: readonly StickinessRow[], days: readonly number[]) {
  const found = new Map(rows.map((row) => [row.day, row]));
  const series = days.map((d) => {
    const { dau, mau } = found.get(d) ?? { dau: 0, mau: 0 };
    return { day: d, dau, mau, ratio: mau === 0 ? null : dau / mau };
  });
  const dau = series.reduce((sum, s) => sum + s.dau, 0);
  const mau = series.reduce((sum, s) => sum + s.mau, 0);
  return {
    days: series,
    // Mean DAU over mean MAU: the days weigh by how many were active, not equally.
    ratio: mau === 0 ? null : dau / mau,
    meanDau: days.length === 0 ? 0 : dau / days.length,
    meanMau: days.length === 0 ? 0 : mau / days.length,
  };
}

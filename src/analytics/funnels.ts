import { z } from 'zod';
import { BacklineError } from '../errors.js';
import type { FunnelRow } from '../storage/analytics/funnel-sql.js';
import { conditionSchema, eventTypeSchema, field, integer, json, text } from './query-params.js';

const stepsSchema = z
  .array(z.object({ type: eventTypeSchema, where: z.array(conditionSchema).max(20).default([]) }))
  .min(2)
  .max(10);

export const maxWindowMs = 90 * 24 * 3600_000;

/** `GET /v1/analytics/funnels` as asked, checked. */
export interface FunnelRequest {
  steps: z.infer<typeof stepsSchema>;
  windowMs: number;
  breakdown?: string;
  limit: number;
  cohort?: string;
}

export function parseFunnelRequest(query: URLSearchParams): FunnelRequest {
  const steps = json(query, 'steps', stepsSchema);
  if (!steps) throw new BacklineError('BAD_QUERY', '`steps` is a JSON array of {type, where?}');
  const breakdown = field(query, 'breakdown');
  const cohort = text(query, 'cohort');
  return {
    steps,
    windowMs: integer(query, 'window', { min: 1, max: maxWindowMs }, 24 * 3600_000),
    ...(breakdown ? { breakdown } : {}),
    limit: integer(query, 'limit', { min: 1, max: 50 }, 10),
    ...(cohort ? { cohort } : {}),
  };
}

export interface FunnelStepResult {
  type: string;
  /** Persons who reached this step. */
  count: number;
  /** Of those who entered (step 1); null when nobody did. */
  conversion: number | null;
  /** Of those who reached the step before; null for step 1 and when nobody did. */
  fromPrevious: number | null;
  /** Median time from the previous step, over those who reached this one. */
  medianMsFromPrevious: number | null;
}

export interface FunnelResult {
  key: string | null;
  other: boolean;
  steps: FunnelStepResult[];
}

const rate = (part: number, whole: number | undefined) =>
  whole === undefined || whole === 0 ? null : part / whole;

/** Counts per step with their conversion rates; one zero result when nobody entered. */
export function funnelResults(rows: readonly FunnelRow[], request: FunnelRequest): FunnelResult[] {
  const filled = rows.length > 0 || request.breakdown ? rows : [zeroRow(request.steps.length)];
  return filled.map((row) => ({
    key: row.key,
    other: row.other,
    steps: request.steps.map((step, i) => ({
      type: step.type,
      count: row.counts[i]!,
      conversion: rate(row.counts[i]!, row.counts[0]),
      fromPrevious: i === 0 ? null : rate(row.counts[i]!, row.counts[i - 1]),
      medianMsFromPrevious: i === 0 ? null : (row.medianMs[i - 1] ?? null),
    })),
  }));
}

function zeroRow(steps: number): FunnelRow {
  return {
    key: null,
    other: false,
    counts: Array.from({ length: steps }, () => 0),
    medianMs: Array.from({ length: steps - 1 }, () => null),
  };
}

import type { PersonScore } from '../../model/analytics.js';
import type { ClickHouse } from '../clickhouse.js';
import { withCohort, type AnalyticsScope } from './cohort-sql.js';
import { personEventsSql } from './person-sql.js';
import { createSqlParams, type SqlParams } from './sql-params.js';

/** The score's formula (src/config/analytics-schema.ts states it). */
export interface EngagementFormula {
  windowMs: number;
  halfLifeMs: number;
  frequencyTarget: number;
  breadthTarget: number;
  weights: { recency: number; frequency: number; breadth: number };
}

export interface EngagementQuery {
  /** `types` and `cohort` narrow the events and persons; times come from `atMs` and the window. */
  scope: Omit<AnalyticsScope, 'fromMs' | 'toMs'>;
  /** Scores as of this time: events in [atMs − windowMs, atMs). */
  atMs: number;
  formula: EngagementFormula;
}

export type { PersonScore };

export interface ScoreDistribution {
  persons: number;
  /** null when nobody is scored. */
  mean: number | null;
  /** The lower median (the ⌈n/2⌉-th score from the lowest); null when nobody is scored. */
  median: number | null;
  /** Persons per bin: bin i holds scores in [100·i/bins, 100·(i+1)/bins), the last one 100 too. */
  counts: number[];
}

/**
 * One row per person with an event in the window: the parts of the score and the score (the
 * warehouse's feature table joins it too).
 */
export function scoresSql(p: SqlParams, query: EngagementQuery): string {
  const { formula, atMs } = query;
  const at = p.bind(atMs, 'Int64');
  const scope = { ...query.scope, fromMs: atMs - formula.windowMs, toMs: atMs };
  const events = personEventsSql(p, withCohort(p, scope), ['e.ts AS ts', 'e.type AS type']);
  const w = formula.weights;
  const [wR, wF, wB] = [w.recency, w.frequency, w.breadth].map((x) => p.bind(x, 'Float64'));
  return `SELECT person, last_ms, active_days, event_types, events,
      exp2(-(${at} - last_ms) / ${p.bind(formula.halfLifeMs, 'Float64')}) AS recency,
      least(1, active_days / ${p.bind(formula.frequencyTarget, 'Float64')}) AS frequency,
      least(1, event_types / ${p.bind(formula.breadthTarget, 'Float64')}) AS breadth,
      100 * (${wR} * recency + ${wF} * frequency + ${wB} * breadth) / (${wR} + ${wF} + ${wB}) AS score
    FROM (
      SELECT person, toInt64(toUnixTimestamp64Milli(max(ts))) AS last_ms,
        uniqExact(toStartOfDay(ts)) AS active_days, uniqExact(type) AS event_types, count() AS events
      FROM (${events}) GROUP BY person)`;
}

const toScore = (row: Record<string, string | number>): PersonScore => ({
  person: String(row.person),
  score: Number(row.score),
  recency: Number(row.recency),
  frequency: Number(row.frequency),
  breadth: Number(row.breadth),
  lastMs: Number(row.last_ms),
  activeDays: Number(row.active_days),
  eventTypes: Number(row.event_types),
  events: Number(row.events),
});

const orNull = (value: number | string | null) =>
  value === null || !Number.isFinite(Number(value)) ? null : Number(value);

/**
 * Engagement scores on ClickHouse: per person, and their distribution.
 *
 * @example
 * const engagement = createEngagementQuery(ch);
 * await engagement.top({ scope: { project: 'dev' }, atMs: Date.now(), formula }, { limit: 10 });
 */
export function createEngagementQuery(ch: ClickHouse) {
  return {
    /** The highest scores first (ties by person), or one person's (`person`). */
    async top(
      query: EngagementQuery,
      page: { limit: number; person?: string },
    ): Promise<PersonScore[]> {
      const p = createSqlParams();
      const scores = scoresSql(p, query);
      const only =
        page.person === undefined ? '' : `WHERE person = ${p.bind(page.person, 'String')}`;
      const rows = await ch.query<Record<string, string | number>>(
        `SELECT * FROM (${scores}) ${only} ORDER BY score DESC, person LIMIT ${p.bind(page.limit, 'UInt64')}`,
        p.values,
      );
      return rows.map(toScore);
    },

    async distribution(query: EngagementQuery, bins: number): Promise<ScoreDistribution> {
      const p = createSqlParams();
      const scores = scoresSql(p, query);
      const n = p.bind(bins, 'UInt32');
      const [row] = await ch.query<{
        persons: string | number;
        mean: number | null;
        median: number | null;
        hist: [number[], Array<string | number>];
      }>(
        `SELECT count() AS persons, avg(score) AS mean, quantileExactLow(0.5)(score) AS median,
           sumMap([least(${n} - 1, toUInt32(floor(score * ${n} / 100)))], [toUInt64(1)]) AS hist
         FROM (${scores})`,
        p.values,
      );
      const counts = Array.from({ length: bins }, () => 0);
      const [at, values] = row?.hist ?? [[], []];
      at.forEach((bin, i) => (counts[Number(bin)] = Number(values[i])));
      const persons = Number(row?.persons ?? 0);
      return {
        persons,
        mean: persons === 0 ? null : orNull(row!.mean),
        median: persons === 0 ? null : orNull(row!.median),
        counts,
      };
    },
  };
}

export type EngagementQueryRunner = ReturnType<typeof createEngagementQuery>;

import type { EngagementSettings } from '../config/analytics-schema.js';
import type { EngagementQueryRunner } from '../storage/analytics/engagement-sql.js';
import type { StickinessQueryRunner } from '../storage/analytics/stickiness-sql.js';
import type { TimeRange } from './analytics-service.js';
import {
  parseEngagementRequest,
  stickinessAnswer,
  stickinessDays,
  typesSchema,
  type EngagementRequest,
} from './engagement.js';
import { createQueryContext, type QueryContextDeps } from './query-context.js';
import { integer, json, text } from './query-params.js';

export interface EngagementDeps extends QueryContextDeps {
  queries: { engagement: EngagementQueryRunner; stickiness: StickinessQueryRunner };
  /** The formula's defaults (`analytics.engagement`). */
  settings: EngagementSettings;
}

/**
 * Engagement over a project's persons: each person's score (recency, frequency, breadth; the
 * formula in src/config/analytics-schema.ts, every part a parameter), the scores'
 * distribution, and stickiness (DAU/MAU per day).
 *
 * @example
 * const engagement = createEngagement({ queries, cohorts, settings: config.analytics.engagement });
 * await engagement.distribution('dev', new URLSearchParams('bins=5'));
 */
export function createEngagement(deps: EngagementDeps) {
  const { queries, settings } = deps;
  const { now, cohortOf, timed } = createQueryContext(deps);

  async function ask(project: string, request: EngagementRequest) {
    return {
      scope: {
        project,
        ...(request.types ? { types: request.types } : {}),
        ...(await cohortOf(project, request.cohort)),
      },
      atMs: request.atMs,
      formula: request.formula,
    };
  }

  const head = (request: EngagementRequest) => ({
    at: request.atMs,
    formula: request.formula,
    types: request.types ?? null,
    cohort: request.cohort ?? null,
  });

  async function distribution(project: string, query: URLSearchParams) {
    const request = parseEngagementRequest(query, settings, now());
    const bins = integer(query, 'bins', { min: 1, max: 100 }, 10);
    const { counts, ...found } = await queries.engagement.distribution(
      await ask(project, request),
      bins,
    );
    const edges = counts.map((persons, i) => ({
      from: (100 * i) / bins,
      to: (100 * (i + 1)) / bins,
      persons,
    }));
    return { ...head(request), ...found, bins: edges };
  }

  async function users(project: string, query: URLSearchParams) {
    const request = parseEngagementRequest(query, settings, now());
    const limit = integer(query, 'limit', { min: 1, max: 10_000 }, 100);
    const person = text(query, 'person');
    const page = { limit, ...(person !== undefined ? { person } : {}) };
    const scores = await queries.engagement.top(await ask(project, request), page);
    return { ...head(request), users: scores };
  }

  async function stickiness(project: string, query: URLSearchParams, range: TimeRange) {
    const days = stickinessDays(range);
    const monthDays = integer(query, 'monthDays', { min: 1, max: 90 }, 30);
    const types = json(query, 'types', typesSchema);
    const cohort = text(query, 'cohort');
    const from = days[0] ?? range.from;
    const to = days.length === 0 ? range.from : days[days.length - 1]! + 86_400_000;
    const cohortRule = await cohortOf(project, cohort);
    const rows = await queries.stickiness.rows({
      scope: { project, fromMs: from, toMs: to, ...(types ? { types } : {}), ...cohortRule },
      monthDays,
    });
    const head = { from, to, monthDays, types: types ?? null, cohort: cohort ?? null };
    return { ...head, ...stickinessAnswer(rows, days) };
  }

  return {
    distribution: timed('engagement', distribution),
    users: timed('engagement_users', users),
    stickiness: timed('stickiness', stickiness),
  };
}

export type Engagement = ReturnType<typeof createEngagement>;

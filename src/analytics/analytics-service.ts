import { BacklineError } from '../errors.js';
import type { AnalyticsQueries } from '../storage/analytics/analytics-queries.js';
import { cohortRule } from './cohort-spec.js';
import { funnelResults, parseFunnelRequest } from './funnels.js';
import { parseRetentionRequest, retentionCohorts } from './retention.js';
import { alignPrevious, checkBuckets, parseTrendRequest, trendAnswer } from './trends.js';
import { bucketCount } from './buckets.js';
import { createQueryContext, type QueryContextDeps } from './query-context.js';
import { integer, text } from './query-params.js';

export interface TimeRange {
  from: number;
  to: number;
}

export interface AnalyticsDeps extends QueryContextDeps {
  queries: Pick<AnalyticsQueries, 'trends' | 'funnels' | 'retention' | 'cohorts'>;
}

export const maxRetentionCohorts = 400;

/**
 * The analytics APIs over a project's events: each reads its query string (400 BAD_QUERY
 * names a bad parameter), resolves a saved cohort filter (404 UNKNOWN_COHORT), runs its
 * ClickHouse query and shapes the answer. Timed and counted per API.
 *
 * @example
 * const analytics = createAnalytics({ queries: createAnalyticsQueries(ch), cohorts });
 * await analytics.trends('dev', new URLSearchParams('event=song.play&measure=users'), { from, to });
 */
export function createAnalytics(deps: AnalyticsDeps) {
  const { queries } = deps;
  const { now, cohortOf, timed } = createQueryContext(deps);

  async function trends(project: string, query: URLSearchParams, range: TimeRange) {
    const request = parseTrendRequest(query);
    checkBuckets(range.from, range.to, request.interval);
    const cohort = await cohortOf(project, request.cohort);
    const ask = (from: number, to: number, keys?: ReadonlyArray<string | null>) => ({
      scope: {
        project,
        fromMs: from,
        toMs: to,
        ...(request.event ? { types: [request.event] } : {}),
        where: request.where,
        ...cohort,
      },
      ...{ interval: request.interval, measure: request.measure, limit: request.limit },
      ...(request.prop ? { prop: request.prop } : {}),
      ...(request.breakdown ? { breakdown: request.breakdown } : {}),
      ...(keys ? { keys } : {}),
    });
    const span = range.to - range.from;
    const before = { from: Math.max(0, range.from - span), to: range.from };
    // Without a breakdown the previous period needs nothing of the current one: both at once.
    const early =
      request.compare && !request.breakdown
        ? queries.trends.rows(ask(before.from, before.to))
        : undefined;
    early?.catch(() => undefined); // awaited below; not unhandled if the current one fails first
    const current = trendAnswer(
      await queries.trends.rows(ask(range.from, range.to)),
      range,
      request,
    );
    const answer = {
      event: request.event ?? null,
      measure: request.measure,
      interval: request.interval,
    };
    const head = { ...answer, breakdown: request.breakdown ?? null, ...current };
    if (!request.compare) return head;
    // The previous period is keyed as the current one: the same top values, the rest as other.
    const keys = request.breakdown
      ? current.series.filter((s) => !s.other).map((s) => s.key)
      : undefined;
    const rows = await (early ?? queries.trends.rows(ask(before.from, before.to, keys)));
    const previous = alignPrevious(current, trendAnswer(rows, before, request), request.measure);
    return { ...head, previous };
  }

  async function funnels(project: string, query: URLSearchParams, range: TimeRange) {
    const request = parseFunnelRequest(query);
    const cohort = await cohortOf(project, request.cohort);
    const rows = await queries.funnels.rows({
      scope: { project, fromMs: range.from, toMs: range.to, ...cohort },
      steps: request.steps,
      windowMs: request.windowMs,
      limit: request.limit,
      ...(request.breakdown ? { breakdown: request.breakdown } : {}),
    });
    const { steps, windowMs } = request;
    const head = { ...range, windowMs, steps, breakdown: request.breakdown ?? null };
    return { ...head, results: funnelResults(rows, request) };
  }

  async function retention(project: string, query: URLSearchParams, range: TimeRange) {
    const request = parseRetentionRequest(query);
    if (bucketCount(range.from, range.to, request.interval) > maxRetentionCohorts)
      throw new BacklineError(
        'BAD_QUERY',
        `the range holds more than ${maxRetentionCohorts} cohorts`,
      );
    const cohort = await cohortOf(project, request.inCohort);
    const rows = await queries.retention.rows({
      project,
      fromMs: range.from,
      toMs: range.to,
      interval: request.interval,
      periods: request.periods,
      ...(request.cohortType ? { cohortType: request.cohortType } : {}),
      ...(request.returnType ? { returnType: request.returnType } : {}),
      ...cohort,
    });
    return {
      ...range,
      ...{ interval: request.interval, periods: request.periods },
      cohort: request.cohortType ?? 'first_seen',
      return: request.returnType ?? 'any',
      inCohort: request.inCohort ?? null,
      cohorts: retentionCohorts(rows, range, request, now()),
    };
  }

  /** A page of a saved cohort's persons now (`identified=true`: known users only). */
  async function members(project: string, name: string, query: URLSearchParams) {
    const spec = await deps.cohorts.get(project, name);
    if (!spec) throw new BacklineError('UNKNOWN_COHORT', `no cohort \`${name}\` in this project`);
    const limit = integer(query, 'limit', { min: 1, max: 10_000 }, 1000);
    const identifiedOnly = text(query, 'identified') === 'true';
    const page = { after: text(query, 'after') ?? '', limit, identifiedOnly };
    const persons = await queries.cohorts.members(project, cohortRule(spec, now()), page);
    const next = persons.length === limit ? persons[persons.length - 1]! : null;
    return { cohort: name, persons, next };
  }

  return {
    trends: timed('trends', trends),
    cohortMembers: timed('cohort_members', members),
    funnels: timed('funnels', funnels),
    retention: timed('retention', retention),
  };
}

export type Analytics = ReturnType<typeof createAnalytics>;

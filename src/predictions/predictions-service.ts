import { createQueryContext } from '../analytics/query-context.js';
import type { WarehouseJobs } from '../analytics/warehouse-jobs.js';
import { BacklineError } from '../errors.js';
import type { Metrics } from '../ops/metrics.js';
import type { ChurnAudience } from '../rules/audience.js';
import type { PredictionReads } from '../storage/analytics/prediction-reads.js';
import { recommend } from './hybrid-recommender.js';
import type { Neighbour } from './item-neighbours.js';
import type { PredictionKind, RecommendationSpec } from '../analytics/model-job-spec.js';

export interface PredictionsDeps {
  /** The model tables' reads (storage/analytics/prediction-reads.ts). */
  reads: PredictionReads;
  jobs: Pick<WarehouseJobs, 'list'>;
  metrics?: Pick<Metrics, 'analyticsQuerySeconds' | 'analyticsQueryFailures' | 'predictionAnswers'>;
}

/** Items a template's `recommendations` holds. */
export const templateItems = 3;

type JobView = Awaited<ReturnType<WarehouseJobs['list']>>[number];

/** The model an answer comes from: a job of the kind with a completed run. */
interface Model<S = unknown> {
  job: string;
  run: number;
  /** `<job>@<run>`: named by every answer. */
  version: string;
  spec: S;
}

/**
 * What the model jobs' tables serve (README: Predictions): a user's recommendations (their
 * precomputed list, or for a user who came after the run, one made now from their items since
 * and the stored item neighbours, topped up with trending items), a person's churn risk with
 * what drove it, the forecasts, the models' latest evaluations, and churn audiences for rules.
 * Every answer names the model version; NO_MODEL when the project has no trained model.
 *
 * @example
 * const predictions = createPredictions({ reads: createPredictionReads(ch), jobs });
 * await predictions.recommendations('dev', 'fan-7', { limit: 10 });
 */
export function createPredictions(deps: PredictionsDeps) {
  const { reads } = deps;
  const { timed } = createQueryContext({ cohorts: { get: async () => undefined }, ...deps });

  async function model<S>(project: string, kind: PredictionKind, job?: string): Promise<Model<S>> {
    const all = await deps.jobs.list(project);
    const found = all.find(
      (j: JobView) =>
        j.kind === kind && (job === undefined || j.name === job) && j.status.lastSuccess,
    );
    if (!found) {
      const named = job === undefined ? '' : ` named \`${job}\``;
      throw new BacklineError('NO_MODEL', `no ${kind} job${named} has a completed run`);
    }
    const run = found.status.lastSuccess!.run;
    return { job: found.name, run, version: `${found.name}@${run}`, spec: found as S };
  }

  const answered = (api: string, source: string) =>
    deps.metrics?.predictionAnswers.inc({ api, source });

  async function recommendationsOf(
    project: string,
    userId: string,
    query: { limit: number; job?: string },
  ) {
    const m = await model<RecommendationSpec>(project, 'recommendations', query.job);
    const at = { project, job: m.job, run: m.run };
    const stored = await reads.recommendations(at, userId, query.limit);
    if (stored.length > 0) {
      answered('recommendations', 'precomputed');
      return { userId, model: m.version, source: 'precomputed', items: stored };
    }
    // A user the run did not know: their items since, near items, then trending.
    const has = await reads.itemsSince(project, userId, m.spec.types, m.spec.item, m.run);
    const near = await reads.neighbours(at, has);
    const trending = await reads.recommendations(at, '', m.spec.limit);
    const byItem = new Map<string, Neighbour[]>();
    for (const n of near) {
      const list = byItem.get(n.from) ?? [];
      byItem.set(n.from, list);
      list.push(n);
    }
    const items = recommend(
      (item) => byItem.get(item),
      has,
      trending.map((t) => t.item),
      { limit: query.limit, blend: m.spec.blend },
    );
    answered('recommendations', has.length ? 'fresh' : 'trending');
    return { userId, model: m.version, source: has.length ? 'fresh' : 'trending', items };
  }

  return {
    recommendations: timed('recommendations', recommendationsOf),

    /**
     * What email templates may show of a user: `{{recommendations.text}}` (their top items,
     * comma-separated), `recommendations.items` and `recommendations.model`; nothing when the
     * project has no trained recommender.
     */
    async templateVariables(project: string, userId: string): Promise<Record<string, unknown>> {
      try {
        const answer = await recommendationsOf(project, userId, { limit: templateItems });
        const items = answer.items.map((i) => i.item);
        return { recommendations: { text: items.join(', '), items, model: answer.model } };
      } catch (err) {
        if (err instanceof BacklineError && err.code === 'NO_MODEL') return {};
        throw err;
      }
    },

    churn: timed('churn', async (project: string, person: string, query: { job?: string }) => {
      const m = await model(project, 'churn', query.job);
      const found = await reads.churn({ project, job: m.job, run: m.run }, person);
      answered('churn', found ? 'precomputed' : 'unscored');
      // A person without a row had no event in the model's window: nothing to score.
      return { person, model: m.version, scored: Boolean(found), ...(found ?? {}) };
    }),

    forecasts: timed(
      'forecasts',
      async (project: string, query: { job?: string; series?: string }) => {
        const m = await model(project, 'forecast', query.job);
        const series = await reads.forecasts({ project, job: m.job, run: m.run }, query.series);
        answered('forecasts', 'precomputed');
        return { model: m.version, series };
      },
    ),

    /** Every model job with its last successful run's evaluation: the dashboard's model page. */
    models: timed('models', async (project: string) => {
      const all = await deps.jobs.list(project);
      return all
        .filter((j) => ['recommendations', 'churn', 'forecast'].includes(j.kind))
        .map((j) => {
          const last = j.status.lastSuccess;
          return {
            name: j.name,
            kind: j.kind,
            version: last ? `${j.name}@${last.run}` : null,
            trainedAt: last?.finishedAt ?? null,
            trainingMs: last?.durationMs ?? null,
            rows: last?.rows ?? null,
            evaluation: last?.evaluation ?? null,
            nextRunAt: j.status.nextRunAt,
          };
        });
    }),

    /** Rule audiences "churn risk above X" (src/rules/audience.ts). */
    churnAudience: {
      async users(project, audience, page) {
        const m = await model(project, 'churn', audience.job);
        return reads.atRisk({ project, job: m.job, run: m.run }, audience.above, page);
      },
    } satisfies ChurnAudience,
  };
}

export type Predictions = ReturnType<typeof createPredictions>;

import {
  churnFeatures,
  type ChurnFeature,
  type ChurnScope,
} from '../storage/analytics/churn-sql.js';
import type { PredictionStore } from '../storage/analytics/prediction-store.js';
import { figure, mean, rocAuc, type Evaluation } from './evaluation.js';
import type { ModelRun } from '../analytics/model-jobs.js';
import type { ChurnSpec } from '../analytics/model-job-spec.js';

const day = 86_400_000;

type ChurnRow = Record<ChurnFeature, number> & {
  person: string;
  identified: number;
  bucket: number;
  churned: boolean;
  rawEvents7d: number;
  rawEventsBefore: number;
  rawSessions: number;
  rawNotifications: number;
};

/** A trained churn model: standardization and weights (one per feature, then the bias). */
export interface ChurnModel {
  means: number[];
  scales: number[];
  weights: number[];
}

/** ClickHouse answers numbers of wide types as text: every row's figures as numbers. */
function parse(raw: Record<string, unknown>): ChurnRow {
  const row: Record<string, unknown> = { ...raw };
  for (const key of Object.keys(row)) if (key !== 'person') row[key] = Number(row[key]);
  row.churned = Boolean(row.churned);
  return row as ChurnRow;
}

async function rows(store: PredictionStore, scope: ChurnScope) {
  return (await store.churnRows(scope)).map(parse);
}

/** Each feature's mean and spread over `rows` (a constant feature scales by 1). */
function standardization(rows: readonly ChurnRow[]) {
  const means = churnFeatures.map((f) => mean(rows.map((r) => r[f])));
  const scales = churnFeatures.map((f, k) => {
    const variance = mean(rows.map((r) => (r[f] - means[k]!) ** 2));
    return variance > 1e-12 ? Math.sqrt(variance) : 1;
  });
  return { means, scales };
}

/** A person's risk and what drove it: each feature's share of the log-odds. */
export function churnRisk(model: ChurnModel, row: Record<ChurnFeature, number>) {
  const contributions = {} as Record<ChurnFeature, number>;
  let logit = model.weights[churnFeatures.length] ?? 0;
  churnFeatures.forEach((f, k) => {
    const part = (model.weights[k]! * (row[f] - model.means[k]!)) / model.scales[k]!;
    contributions[f] = figure(part);
    logit += part;
  });
  return { risk: 1 / (1 + Math.exp(-logit)), contributions };
}

/** What the churn table and the profile show of a person's features: readable figures. */
const shown = (r: ChurnRow) => ({
  recencyDays: figure(r.recencyDays),
  events7d: r.rawEvents7d,
  weeklyEventsBefore: figure(r.rawEventsBefore),
  trend: figure(r.trend),
  sessions: r.rawSessions,
  notifications: r.rawNotifications,
});

/**
 * One run of a `churn` job. Training rows are the persons active in the `windowDays` before
 * `run − horizonDays`, with their features as of then and their label (no event since). A share
 * of persons (`holdoutShare`, by a hash of their id) is held out; the model is ClickHouse's
 * logistic regression on the rest. The held-out persons' AUC is reported next to recency
 * alone's. Then every person active in the window before the run is scored.
 */
export async function trainChurn(
  store: PredictionStore,
  r: ModelRun<ChurnSpec>,
): Promise<{ rows: number; evaluation: Evaluation }> {
  const { spec } = r;
  const horizonMs = spec.horizonDays * day;
  const common = {
    project: r.project,
    windowDays: spec.windowDays,
    notificationTypes: spec.notificationTypes,
  };
  const trainingScope = { ...common, atMs: r.run - horizonMs, horizonMs };
  const labelled = await rows(store, trainingScope);
  const cut = Math.round(spec.holdoutShare * 1000);
  const training = labelled.filter((row) => row.bucket >= cut);
  const heldOut = labelled.filter((row) => row.bucket < cut);
  if (!training.some((row) => row.churned) || !training.some((row) => !row.churned))
    throw new Error('churn training needs persons who churned and persons who stayed');
  const { means, scales } = standardization(training);
  const fit = { means, scales, cut, epochs: spec.epochs };
  const model: ChurnModel = {
    means,
    scales,
    weights: await store.churnWeights(trainingScope, fit),
  };
  const evaluation: Evaluation = {
    baseline: 'recency',
    heldOut: heldOut.length,
    metrics: {
      auc: {
        model: figure(
          rocAuc(
            heldOut.map((row) => churnRisk(model, row).risk),
            heldOut.map((row) => row.churned),
          ),
        ),
        baseline: figure(
          rocAuc(
            heldOut.map((row) => row.recencyDays),
            heldOut.map((row) => row.churned),
          ),
        ),
        better: 'higher',
      },
    },
  };
  const scored = await rows(store, { ...common, atMs: r.run, horizonMs: 0 });
  const head = { project: r.project, job: r.job, run: r.run };
  const written = await store.write(
    'warehouse_churn',
    scored.map((row) => {
      const { risk, contributions } = churnRisk(model, row);
      return {
        ...{ ...head, person: row.person, identified: row.identified, risk: figure(risk) },
        features: JSON.stringify(shown(row)),
        contributions: JSON.stringify(contributions),
      };
    }),
  );
  return { rows: written, evaluation };
}

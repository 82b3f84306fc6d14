import type { ClickHouse } from '../storage/clickhouse.js';
import { trainChurn } from './churn-job.js';
import type { Evaluation } from './evaluation.js';
import { trainForecasts } from './forecast-job.js';
import { predictionKinds, type PredictionKind, type PredictionSpec } from './prediction-spec.js';
import { trainRecommendations } from './recommendation-job.js';

/** One run of a model job: train on the project's events before `run` (epoch ms). */
export interface ModelRun<S extends PredictionSpec = PredictionSpec> {
  project: string;
  job: string;
  run: number;
  spec: S;
}

/** What the warehouse job runner asks of the models: a run's rows written and its figures. */
export interface ModelTrainer {
  train(r: ModelRun): Promise<{ rows: number; evaluation: Evaluation }>;
}

/** Whether a job's definition is a model's (README: Predictions). */
export const isPredictionSpec = <S extends { kind: string }>(
  spec: S,
): spec is Extract<S, { kind: PredictionKind }> =>
  (predictionKinds as readonly string[]).includes(spec.kind);

/**
 * The model jobs' training, on ClickHouse: each kind reads the project's events, evaluates
 * itself on a held-out split, and writes its table (clickhouse/008_predictions.sql).
 *
 * @example
 * const jobs = createWarehouseJobs({ …, models: createModelTrainer({ ch }) });
 */
export function createModelTrainer(deps: { ch: ClickHouse }): ModelTrainer {
  const { ch } = deps;
  return {
    train(r) {
      const { spec } = r;
      switch (spec.kind) {
        case 'recommendations':
          return trainRecommendations(ch, { ...r, spec });
        case 'churn':
          return trainChurn(ch, { ...r, spec });
        case 'forecast':
          return trainForecasts(ch, { ...r, spec });
      }
    },
  };
}

import type { PredictionStore } from '../storage/analytics/prediction-store.js';
import { trainChurn } from './churn-job.js';
import { trainForecasts } from './forecast-job.js';
import type { ModelTrainer } from '../analytics/model-jobs.js';
import {
  computeRecommender,
  trainRecommendations,
  type RecommenderInput,
  type RecommenderOutput,
} from './recommendation-job.js';

/**
 * The model jobs' training: each kind reads the project's events through the store, evaluates
 * itself on a held-out split, and writes its table (clickhouse/008_predictions.sql).
 *
 * @example
 * const jobs = createWarehouseJobs({ …, models: createModelTrainer({ store: createPredictionStore(ch) }) });
 */
export function createModelTrainer(deps: {
  store: PredictionStore;
  /** Where recommendations train: `computeInThread` in the server; by default in this thread. */
  computeRecommender?: (input: RecommenderInput) => Promise<RecommenderOutput>;
}): ModelTrainer {
  const { store } = deps;
  const compute = deps.computeRecommender ?? (async (input) => computeRecommender(input));
  return {
    train(r) {
      const { spec } = r;
      switch (spec.kind) {
        case 'recommendations':
          return trainRecommendations(store, { ...r, spec }, compute);
        case 'churn':
          return trainChurn(store, { ...r, spec });
        case 'forecast':
          return trainForecasts(store, { ...r, spec });
      }
    },
  };
}

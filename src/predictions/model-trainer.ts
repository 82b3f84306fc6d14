import type { PredictionStore } from '../storage/analytics/prediction-store.js';
import { trainChurn } from './churn-job.js';
import { trainForecasts } from './forecast-job.js';
import type { ModelTrainer } from '../analytics/model-jobs.js';
import { trainRecommendations } from './recommendation-job.js';

/**
 * The model jobs' training: each kind reads the project's events through the store, evaluates
 * itself on a held-out split, and writes its table (clickhouse/008_predictions.sql).
 *
 * @example
 * const jobs = createWarehouseJobs({ …, models: createModelTrainer({ store: createPredictionStore(ch) }) });
 */
export function createModelTrainer(deps: { store: PredictionStore }): ModelTrainer {
  const { store } = deps;
  return {
    train(r) {
      const { spec } = r;
      switch (spec.kind) {
        case 'recommendations':
          return trainRecommendations(store, { ...r, spec });
        case 'churn':
          return trainChurn(store, { ...r, spec });
        case 'forecast':
          return trainForecasts(store, { ...r, spec });
      }
    },
  };
}

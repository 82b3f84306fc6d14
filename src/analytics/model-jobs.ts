import { predictionKinds, type PredictionKind, type PredictionSpec } from './model-job-spec.js';

/** A model job's figures on its held-out split, each next to its baseline's. */
export interface Evaluation {
  /** What the baseline is (`popularity`, `recency`, `naive`). */
  baseline: string;
  /** How many held-out persons (or series-days) the figures are over. */
  heldOut: number;
  metrics: Record<string, { model: number; baseline: number; better: 'higher' | 'lower' }>;
}

/** One run of a model job: train on the project's events before `run` (epoch ms). */
export interface ModelRun<S extends PredictionSpec = PredictionSpec> {
  project: string;
  job: string;
  run: number;
  spec: S;
}

/**
 * What the warehouse job runner asks of the models (src/predictions/model-trainer.ts): a
 * run's rows written and its figures.
 */
export interface ModelTrainer {
  train(r: ModelRun): Promise<{ rows: number; evaluation: Evaluation }>;
}

/** Whether a job's definition is a model's (README: Predictions). */
export const isPredictionSpec = <S extends { kind: string }>(
  spec: S,
): spec is Extract<S, { kind: PredictionKind }> =>
  (predictionKinds as readonly string[]).includes(spec.kind);

import type { Evaluation } from '../analytics/model-jobs.js';

export type { Evaluation };

/** Precision and recall of the first `k` recommended items against the items held out. */
export function hitsAt(recommended: readonly string[], relevant: ReadonlySet<string>, k: number) {
  let hits = 0;
  for (const item of recommended.slice(0, k)) if (relevant.has(item)) hits += 1;
  return { precision: hits / k, recall: relevant.size === 0 ? 0 : hits / relevant.size };
}

/**
 * Area under the ROC curve: the chance that a random positive scores above a random negative,
 * ties counting half (the Mann–Whitney U statistic over the ranks). 0.5 when a class is empty.
 */
export function rocAuc(scores: readonly number[], positive: readonly boolean[]): number {
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  let rankSum = 0;
  let positives = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j < order.length && order[j]![0] === order[i]![0]) j += 1;
    const meanRank = (i + 1 + j) / 2; // ranks i+1..j share their mean
    for (let t = i; t < j; t++)
      if (positive[order[t]![1]]) {
        rankSum += meanRank;
        positives += 1;
      }
    i = j;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return 0.5;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Mean absolute error of `forecast` against `actual` (same length). */
export function meanAbsoluteError(forecast: readonly number[], actual: readonly number[]): number {
  if (actual.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += Math.abs(forecast[i]! - actual[i]!);
  return sum / actual.length;
}

/** The mean of a list (0 when empty). */
export const mean = (values: readonly number[]): number =>
  values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;

/** Rounds a figure for the status and the logs: 4 significant decimals are plenty. */
export const figure = (value: number): number => Math.round(value * 10_000) / 10_000;

import { mean } from './evaluation.js';

/** One day's forecast and its interval. */
export interface DayForecast {
  value: number;
  low: number;
  high: number;
}

export const defaultSeasonalOptions = {
  weeks: 4, // past weeks the weekday profile averages
  minHistoryDays: 14, // the backtest's first origin: fewer days fit no weekday profile
};

/**
 * Point forecasts for the `horizon` days after `history` (one value per day, oldest first):
 * seasonal-naive with a weekly profile and the last week's level. The level is the mean of the
 * last 7 days; each weekday's index is its value over its week's mean, averaged over the last
 * `weeks` weeks; the forecast of a day is level × its weekday's index. A growing or shrinking
 * series follows its last week, and the weekly shape comes from a month of weeks, not one.
 */
export function seasonalPoints(
  history: readonly number[],
  horizon: number,
  options: Pick<typeof defaultSeasonalOptions, 'weeks'> = defaultSeasonalOptions,
): number[] {
  const n = history.length;
  const level = mean(history.slice(-7));
  const weeks = Math.min(options.weeks, Math.floor(n / 7));
  const index = new Array<number>(7).fill(weeks === 0 ? 1 : 0);
  for (let w = 0; w < weeks; w++) {
    const block = history.slice(n - 7 * (w + 1), n - 7 * w);
    const m = mean(block);
    // Position k of a block is the weekday of day n + k + 7j: the blocks end where history ends.
    block.forEach((y, k) => (index[k] = index[k]! + (m > 0 ? y / m : 1) / weeks));
  }
  return Array.from({ length: horizon }, (_, i) => Math.max(0, level * index[i % 7]!));
}

/** The q-quantile of `values` (linear between order statistics). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/**
 * Forecasts with an interval of the given `coverage`: the interval adds the empirical
 * quantiles of the method's own errors, measured by a rolling-origin backtest over the history
 * (every origin from `minHistoryDays` on, every horizon up to `horizon`).
 *
 * @example
 * seasonalForecast(dailyActiveUsers, 7, 0.8); // [{ value, low, high } × 7]
 */
export function seasonalForecast(
  history: readonly number[],
  horizon: number,
  coverage: number,
  options: Partial<typeof defaultSeasonalOptions> = {},
): DayForecast[] {
  const opts = { ...defaultSeasonalOptions, ...options };
  const errors: number[] = [];
  for (let origin = opts.minHistoryDays; origin < history.length; origin++) {
    const ahead = Math.min(horizon, history.length - origin);
    seasonalPoints(history.slice(0, origin), ahead, opts).forEach((f, i) =>
      errors.push(history[origin + i]! - f),
    );
  }
  const below = quantile(errors, (1 - coverage) / 2);
  const above = quantile(errors, (1 + coverage) / 2);
  return seasonalPoints(history, horizon, opts).map((value) => ({
    value,
    low: Math.max(0, value + below),
    high: Math.max(0, value + above),
  }));
}

/** The naive baseline: the last day's value, every day. */
export const naivePoints = (history: readonly number[], horizon: number): number[] =>
  new Array<number>(horizon).fill(history[history.length - 1] ?? 0);

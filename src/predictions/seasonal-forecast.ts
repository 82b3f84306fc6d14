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
 * Each weekday's index, aligned to the end of `series`: position k is the weekday of day
 * n + k + 7j. The index is a day's value over its week's mean, averaged over the last `weeks`
 * weeks (all 1 with less than a week).
 */
export function weeklyIndex(series: readonly number[], weeks: number): number[] {
  const n = series.length;
  const used = Math.min(weeks, Math.floor(n / 7));
  const index = new Array<number>(7).fill(used === 0 ? 1 : 0);
  for (let w = 0; w < used; w++) {
    const block = series.slice(n - 7 * (w + 1), n - 7 * w);
    const m = mean(block);
    block.forEach((y, k) => (index[k] = index[k]! + (m > 0 ? y / m : 1) / used));
  }
  return index;
}

export interface SeasonalOptions {
  /** Past weeks the weekday profile averages. */
  weeks: number;
  /**
   * The series whose weekly profile to use, day for day with the history (absent: the
   * history's own). A sparse series (one show's few events a day) borrows the shape of a
   * busier one (all shows' events together), whose weekdays are not drowned in noise.
   */
  shape?: readonly number[];
}

/**
 * Point forecasts for the `horizon` days after `history` (one value per day, oldest first):
 * seasonal-naive with a weekly profile and the last week's level. The level is the mean of the
 * last 7 days; the forecast of a day is level × its weekday's index (`weeklyIndex`). A growing
 * or shrinking series follows its last week, and the weekly shape comes from a month of
 * weeks, not one.
 */
export function seasonalPoints(
  history: readonly number[],
  horizon: number,
  options: SeasonalOptions = defaultSeasonalOptions,
): number[] {
  const level = mean(history.slice(-7));
  const index = weeklyIndex(options.shape ?? history, options.weeks);
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
  options: Partial<typeof defaultSeasonalOptions & SeasonalOptions> = {},
): DayForecast[] {
  const opts = { ...defaultSeasonalOptions, ...options };
  const errors: number[] = [];
  for (let origin = opts.minHistoryDays; origin < history.length; origin++) {
    const ahead = Math.min(horizon, history.length - origin);
    const shape = opts.shape?.slice(0, origin);
    seasonalPoints(history.slice(0, origin), ahead, {
      ...opts,
      ...(shape ? { shape } : {}),
    }).forEach((f, i) => errors.push(history[origin + i]! - f));
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

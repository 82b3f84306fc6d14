import { errorFunction } from 'simple-statistics';

/**
 * Comparing the variants of an A/B test: each rate (opens or clicks of those delivered) with
 * its 95% Wilson score interval, and whether the leading variant is significantly better than
 * every other one (two-sided two-proportion z-test, p < 0.05 against each). Wilson's interval
 * stays inside [0, 1] and is sound for small counts and rates near 0 or 1, where the normal
 * approximation is not.
 */

const z95 = 1.959963984540054;

export interface RateEstimate {
  successes: number;
  trials: number;
  /** successes / trials; null without trials. */
  rate: number | null;
  /** The 95% Wilson score interval; null without trials. */
  low: number | null;
  high: number | null;
}

export function wilson(successes: number, trials: number): RateEstimate {
  if (trials === 0) return { successes, trials, rate: null, low: null, high: null };
  const p = successes / trials;
  const z2 = z95 * z95;
  const centre = (p + z2 / (2 * trials)) / (1 + z2 / trials);
  const half =
    (z95 * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / (1 + z2 / trials);
  return {
    successes,
    trials,
    rate: p,
    low: Math.max(0, centre - half),
    high: Math.min(1, centre + half),
  };
}

/** The two-sided p-value that two rates differ (pooled two-proportion z-test); 1 when undefined. */
export function twoProportionP(a: RateEstimate, b: RateEstimate): number {
  if (a.trials === 0 || b.trials === 0) return 1;
  const pooled = (a.successes + b.successes) / (a.trials + b.trials);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials));
  if (se === 0) return 1;
  const z = Math.abs(a.successes / a.trials - b.successes / b.trials) / se;
  return Math.min(1, 2 * (1 - normalCdf(z)));
}

/**
 * The variant with the highest rate when it is significantly better than each other one
 * (p < 0.05), else null; with the p-value against its closest rival.
 */
export function leader(estimates: ReadonlyArray<{ name: string; estimate: RateEstimate }>): {
  winner: string | null;
  p: number | null;
} {
  const ranked = estimates
    .filter((e) => e.estimate.rate !== null)
    .sort((x, y) => y.estimate.rate! - x.estimate.rate!);
  if (ranked.length < 2) return { winner: null, p: null };
  const [best, ...rest] = ranked;
  const p = Math.max(...rest.map((other) => twoProportionP(best!.estimate, other.estimate)));
  return { winner: p < 0.05 ? best!.name : null, p };
}

/** Φ(x), the standard normal CDF, from the error function. */
const normalCdf = (x: number) => (1 + errorFunction(x / Math.SQRT2)) / 2;

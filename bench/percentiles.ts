/**
 * Percentiles of a plain list of samples, for figures the HDR histogram cannot hold
 * (latency-histogram.ts records positive values only): signed differences, a few rounds.
 */

/** Nearest-rank percentile (0–100) of `values`; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export const median = (values: readonly number[]): number => percentile(values, 50);

export interface SignedSummary {
  samples: number;
  minMs: number;
  p1Ms: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Min, p1, p50, p99 and max of signed millisecond samples, rounded to microseconds. */
export function signedSummary(values: readonly number[]): SignedSummary {
  const at = (p: number) => Math.round(percentile(values, p) * 1000) / 1000;
  return {
    samples: values.length,
    minMs: at(0),
    p1Ms: at(1),
    p50Ms: at(50),
    p99Ms: at(99),
    maxMs: at(100),
  };
}

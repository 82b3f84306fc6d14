import { DDSketch } from '@datadog/sketches-js';
import { numeric, type Aggregate } from './aggregate.js';

/** DDSketch's guarantee: every returned quantile is within 1% of the true value at that rank. */
export const quantileRelativeAccuracy = 0.01;

/** `p50`, `p95`, `p99.9`: the result key of a quantile level. */
export const quantileName = (q: number): string => `p${Number((q * 100).toFixed(4))}`;

/** Quantiles of a numeric field with DDSketch (mergeable, relative accuracy 1%). */
export const quantiles = (levels: readonly number[]): Aggregate<DDSketch> => ({
  create: () => new DDSketch({ relativeAccuracy: quantileRelativeAccuracy }),
  add: (state, value) => {
    const n = numeric(value);
    if (n !== undefined) state.accept(n);
  },
  merge: (into, from) => into.merge(from),
  result: (state) =>
    Object.fromEntries(
      levels.map((q) => [quantileName(q), state.count === 0 ? null : state.getValueAtQuantile(q)]),
    ),
});

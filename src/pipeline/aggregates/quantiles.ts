import { z } from 'zod';
import { fieldPathSchema } from '../field-path.js';
import { DDSketch } from '@datadog/sketches-js';
import { defineAggregate, numeric, type Aggregate } from './aggregate.js';

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

/** In ClickHouse a t-digest: close to DDSketch's figures, not equal to them. */
export const quantilesAggregate = defineAggregate(
  'quantiles',
  { field: fieldPathSchema, q: z.array(z.number().gt(0).lt(1)).min(1).default([0.5, 0.95, 0.99]) },
  {
    create: (spec) => quantiles(spec.q),
    rollup: (spec) => ({ fn: 'quantilesTDigest', params: spec.q, reads: 'number' }),
    fromRollup: (value, spec) =>
      Object.fromEntries(spec.q.map((q, i) => [quantileName(q), (value as number[])[i] ?? null])),
  },
);

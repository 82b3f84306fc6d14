import { z } from 'zod';
import { fieldPathSchema } from '../field-path.js';
import { DDSketch } from '@datadog/sketches-js';
import { defineAggregate, numeric, type Aggregate } from './aggregate.js';

/** DDSketch's guarantee: every returned quantile is within 1% of the true value at that rank. */
export const quantileRelativeAccuracy = 0.01;

/** `p50`, `p95`, `p99.9`: the result key of a quantile level. */
export const quantileName = (q: number): string => `p${Number((q * 100).toFixed(4))}`;

/** Values a window keeps as they are, sorted, before it takes a DDSketch. */
export const exactQuantileLimit = 32;

/**
 * A window's quantile state: its values themselves while there are few (most windows of a
 * stream grouped by many keys hold a handful of events), a DDSketch past
 * `exactQuantileLimit`. A DDSketch costs about 2.2 KB from its first value (its mapping and
 * two stores of 128-bin chunks); a handful of numbers, tens of bytes.
 */
interface QuantileState {
  /** Sorted ascending; undefined once the sketch took over. */
  values: number[] | undefined;
  sketch: DDSketch | undefined;
}

const newSketch = () => new DDSketch({ relativeAccuracy: quantileRelativeAccuracy });

function take(state: QuantileState, n: number): void {
  const values = state.values;
  if (!values) {
    state.sketch!.accept(n);
    return;
  }
  let i = values.length;
  while (i > 0 && values[i - 1]! > n) i -= 1;
  values.splice(i, 0, n);
  if (values.length > exactQuantileLimit) {
    const sketch = newSketch();
    for (const v of values) sketch.accept(v);
    state.sketch = sketch;
    state.values = undefined;
  }
}

/**
 * Quantiles of a numeric field: exact up to `exactQuantileLimit` values (the value at rank
 * ⌊q·(n − 1)⌋, as DDSketch ranks), then DDSketch (mergeable, relative accuracy 1%).
 */
export const quantiles = (levels: readonly number[]): Aggregate<QuantileState> => {
  const names = levels.map(quantileName);
  return {
    create: () => ({ values: [], sketch: undefined }),
    add: (state, value) => {
      const n = numeric(value);
      if (n !== undefined) take(state, n);
    },
    merge: (into, from) => {
      if (from.values) for (const v of from.values) take(into, v);
      else if (into.values) {
        const sketch = newSketch();
        sketch.merge(from.sketch!);
        for (const v of into.values) sketch.accept(v);
        into.sketch = sketch;
        into.values = undefined;
      } else into.sketch!.merge(from.sketch!);
    },
    result: ({ values, sketch }) => {
      const result: Record<string, number | null> = {};
      for (let i = 0; i < levels.length; i++) {
        const q = levels[i]!;
        result[names[i]!] = values
          ? values.length === 0
            ? null
            : values[Math.floor(q * (values.length - 1))]!
          : sketch!.getValueAtQuantile(q);
      }
      return result;
    },
  };
};

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

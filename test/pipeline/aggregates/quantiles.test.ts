import { describe, expect, it } from 'vitest';
import {
  exactQuantileLimit,
  quantileName,
  quantileRelativeAccuracy,
  quantiles,
} from '../../../src/pipeline/aggregates/quantiles.js';

const levels = [0.05, 0.5, 0.9, 0.95, 0.99, 0.999];

/** Latencies spread over four decades (1 ms … 10 s), from a fixed-seed generator. */
function latencies(n: number, seed = 42): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return 10 ** ((s / 2 ** 32) * 4);
  });
}

/** The exact quantile as DDSketch ranks it: the value at rank ⌊q·(n − 1)⌋. */
function exact(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

function expectWithinAccuracy(result: unknown, values: number[]) {
  const byName = result as Record<string, number>;
  for (const q of levels) {
    const want = exact(values, q);
    const error = Math.abs(byName[quantileName(q)]! - want) / Math.abs(want);
    expect(error, quantileName(q)).toBeLessThanOrEqual(quantileRelativeAccuracy);
  }
}

describe('quantiles', () => {
  it('names each level as users write it', () => {
    expect([0.5, 0.95, 0.99, 0.999, 0.9999, 0.05].map(quantileName)).toEqual([
      'p50',
      'p95',
      'p99',
      'p99.9',
      'p99.99',
      'p5',
    ]);
  });

  const samples: [string, number[]][] = [
    ['latencies over four decades', latencies(10_000)],
    ['1 … 10,000', Array.from({ length: 10_000 }, (_, i) => i + 1)],
    ['values around zero', Array.from({ length: 10_000 }, (_, i) => i - 4_999.5)],
  ];
  for (const [name, values] of samples) {
    it(`is within 1% of the exact quantile for 10,000 ${name}`, () => {
      const sketch = quantiles(levels);
      const state = sketch.create();
      for (const v of values) sketch.add(state, v);
      expectWithinAccuracy(sketch.result(state), values);
    });
  }

  it('merges two sketches into the quantiles of all their values', () => {
    const sketch = quantiles(levels);
    const [a, b] = [sketch.create(), sketch.create()];
    const first = latencies(5_000, 1);
    const second = latencies(5_000, 2).map((v) => v * 3);
    for (const v of first) sketch.add(a, v);
    for (const v of second) sketch.add(b, v);
    sketch.merge(a, b);
    expectWithinAccuracy(sketch.result(a), [...first, ...second]);
  });

  it('skips non-numbers and reads null for every level when there was none', () => {
    const sketch = quantiles([0.5, 0.99]);
    const state = sketch.create();
    for (const v of ['12', null, undefined, NaN]) sketch.add(state, v);
    expect(sketch.result(state)).toEqual({ p50: null, p99: null });
    sketch.add(state, 12);
    const { p50 } = sketch.result(state) as { p50: number };
    expect(Math.abs(p50 - 12) / 12).toBeLessThanOrEqual(quantileRelativeAccuracy);
  });

  it(`is exact up to ${exactQuantileLimit} values, at DDSketch's rank`, () => {
    const sketch = quantiles(levels);
    const state = sketch.create();
    const values = latencies(exactQuantileLimit, 7);
    for (const v of values) sketch.add(state, v);
    expect(sketch.result(state)).toEqual(
      Object.fromEntries(levels.map((q) => [quantileName(q), exact(values, q)])),
    );
    sketch.add(state, 5); // one past the limit: the sketch takes over, within 1%
    expectWithinAccuracy(sketch.result(state), [...values, 5]);
  });

  it('merges every pairing of few values and a sketch', () => {
    const sketch = quantiles(levels);
    const few = latencies(10, 3);
    const many = latencies(2_000, 4).map((v) => v * 2);
    const sizes: [string, number[], number[]][] = [
      ['few into few', few, latencies(10, 5)],
      ['few into few, past the limit', few, latencies(exactQuantileLimit, 6)],
      ['a sketch into few', few, many],
      ['few into a sketch', many, few],
      ['a sketch into a sketch', many, latencies(3_000, 8)],
    ];
    for (const [name, left, right] of sizes) {
      const [a, b] = [sketch.create(), sketch.create()];
      for (const v of left) sketch.add(a, v);
      for (const v of right) sketch.add(b, v);
      sketch.merge(a, b);
      const all = [...left, ...right];
      if (all.length <= exactQuantileLimit)
        expect(sketch.result(a), name).toEqual(
          Object.fromEntries(levels.map((q) => [quantileName(q), exact(all, q)])),
        );
      else expectWithinAccuracy(sketch.result(a), all);
    }
  });
});

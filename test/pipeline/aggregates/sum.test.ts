import { describe, expect, it } from 'vitest';
import { sum } from '../../../src/pipeline/aggregates/sum.js';

describe('sum', () => {
  it('adds the numeric values and skips the rest', () => {
    const total = sum();
    const state = total.create();
    for (const value of [1, 2.5, -0.5, '10', null, undefined, NaN, Infinity, true]) {
      total.add(state, value);
    }
    expect(total.result(state)).toBe(3);
  });

  it('is 0 for no values and merges by adding', () => {
    const total = sum();
    const [a, b] = [total.create(), total.create()];
    expect(total.result(a)).toBe(0);
    total.add(a, 4);
    total.add(b, 6);
    total.merge(a, b);
    expect(total.result(a)).toBe(10);
  });
});

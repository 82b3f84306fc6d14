import { describe, expect, it } from 'vitest';
import { min } from '../../../src/pipeline/aggregates/min.js';

describe('min', () => {
  it('keeps the smallest numeric value and ignores the rest', () => {
    const smallest = min();
    const state = smallest.create();
    for (const value of [5, -3, 12, '-100', null, -Infinity, NaN]) smallest.add(state, value);
    expect(smallest.result(state)).toBe(-3);
  });

  it('is null when no event had a number', () => {
    const smallest = min();
    const state = smallest.create();
    smallest.add(state, 'x');
    expect(smallest.result(state)).toBeNull();
  });

  it('merges to the smaller of both, an empty side changing nothing', () => {
    const smallest = min();
    const [a, b, empty] = [smallest.create(), smallest.create(), smallest.create()];
    smallest.add(a, 4);
    smallest.add(b, 2);
    smallest.merge(a, empty);
    expect(smallest.result(a)).toBe(4);
    smallest.merge(a, b);
    expect(smallest.result(a)).toBe(2);
    smallest.merge(empty, a);
    expect(smallest.result(empty)).toBe(2);
  });
});

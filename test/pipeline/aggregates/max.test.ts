import { describe, expect, it } from 'vitest';
import { max } from '../../../src/pipeline/aggregates/max.js';

describe('max', () => {
  it('keeps the largest numeric value and ignores the rest', () => {
    const largest = max();
    const state = largest.create();
    for (const value of [-5, -3, -12, '100', null, Infinity, NaN]) largest.add(state, value);
    expect(largest.result(state)).toBe(-3);
  });

  it('is null when no event had a number', () => {
    const largest = max();
    const state = largest.create();
    largest.add(state, undefined);
    expect(largest.result(state)).toBeNull();
  });

  it('merges to the larger of both, an empty side changing nothing', () => {
    const largest = max();
    const [a, b, empty] = [largest.create(), largest.create(), largest.create()];
    largest.add(a, 4);
    largest.add(b, 9);
    largest.merge(a, empty);
    expect(largest.result(a)).toBe(4);
    largest.merge(a, b);
    expect(largest.result(a)).toBe(9);
    largest.merge(empty, a);
    expect(largest.result(empty)).toBe(9);
  });
});

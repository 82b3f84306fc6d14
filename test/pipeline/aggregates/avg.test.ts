import { describe, expect, it } from 'vitest';
import { avg } from '../../../src/pipeline/aggregates/avg.js';

describe('avg', () => {
  it('is the mean over the events that have a number', () => {
    const mean = avg();
    const state = mean.create();
    for (const value of [1, 2, 6, undefined, '100', null]) mean.add(state, value);
    expect(mean.result(state)).toBe(3);
  });

  it('is null when no event had a number', () => {
    const mean = avg();
    expect(mean.result(mean.create())).toBeNull();
  });

  it('merges as the mean of all values, not the mean of the means', () => {
    const mean = avg();
    const [a, b] = [mean.create(), mean.create()];
    mean.add(a, 10);
    for (const value of [1, 1, 1, 1]) mean.add(b, value);
    mean.merge(a, b);
    expect(mean.result(a)).toBe(14 / 5);
  });
});

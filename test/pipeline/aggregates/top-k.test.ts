import { describe, expect, it } from 'vitest';
import { topK } from '../../../src/pipeline/aggregates/top-k.js';

function topOf(k: number, values: Iterable<unknown>, capacity?: number) {
  const top = topK(k, capacity);
  const state = top.create();
  for (const value of values) top.add(state, value);
  return { top, state };
}

const repeat = (value: unknown, n: number) => Array.from({ length: n }, () => value);

describe('topK', () => {
  it('lists the k most frequent values by count, ties by value, with exact counts', () => {
    const { top, state } = topOf(3, [...repeat('c', 3), ...repeat('a', 5), ...repeat('b', 3), 'd']);
    expect(top.result(state)).toEqual([
      { value: 'a', count: 5 },
      { value: 'b', count: 3 },
      { value: 'c', count: 3 },
    ]);
  });

  it('is exact while the distinct values fit in its counters (100 for k ≤ 10)', () => {
    const values = Array.from({ length: 100 }, (_, i) => repeat(`show-${i}`, i + 1)).flat();
    const { top, state } = topOf(3, values);
    expect(top.result(state)).toEqual([
      { value: 'show-99', count: 100 },
      { value: 'show-98', count: 99 },
      { value: 'show-97', count: 98 },
    ]);
  });

  it('finds the heavy hitters among many more distinct values, overcounting by at most N/capacity', () => {
    const values: string[] = [];
    for (let i = 0; i < 5_000; i++)
      values.push(`once-${i}`, ...(i % 5 === 0 ? ['x', 'y', 'z'] : []));
    const { top, state } = topOf(3, values); // 8,000 values, 100 counters
    const found = top.result(state) as { value: string; count: number }[];
    expect(found.map((f) => f.value).sort()).toEqual(['x', 'y', 'z']);
    for (const { count } of found) {
      expect(count).toBeGreaterThanOrEqual(1_000);
      expect(count).toBeLessThanOrEqual(1_000 + 8_000 / 100);
    }
  });

  it('never undercounts: a value that lost its counter comes back above the smallest count', () => {
    // Two counters: c takes over a's counter (1 + 1), then a takes over b's (1 + 1).
    const { top, state } = topOf(2, ['a', 'b', 'c', 'a'], 2);
    expect(top.result(state)).toEqual([
      { value: 'a', count: 2 },
      { value: 'c', count: 2 },
    ]);
  });

  it('counts values by their text and ignores absent ones', () => {
    const { top, state } = topOf(5, [7, '7', true, null, undefined]);
    expect(top.result(state)).toEqual([
      { value: '7', count: 2 },
      { value: 'true', count: 1 },
    ]);
  });

  it('merges by adding counts', () => {
    const { top, state: a } = topOf(2, ['a', 'a', 'b']);
    const { state: b } = topOf(2, ['b', 'b', 'c']);
    top.merge(a, b);
    expect(top.result(a)).toEqual([
      { value: 'b', count: 3 },
      { value: 'a', count: 2 },
    ]);
    expect(topOf(2, []).top.result(topOf(2, []).state)).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import {
  naivePoints,
  quantile,
  seasonalForecast,
  seasonalPoints,
} from '../../src/predictions/seasonal-forecast.js';

const profile = [10, 12, 14, 16, 20, 30, 18];

describe('seasonal forecast', () => {
  it('repeats an exact weekly pattern, starting on the weekday after the history', () => {
    const history = Array.from({ length: 30 }, (_, d) => profile[d % 7]!);
    const next = seasonalPoints(history, 7);
    const expected = Array.from({ length: 7 }, (_, i) => profile[(30 + i) % 7]!);
    next.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 9));
  });

  it('follows the last week level of a growing series and beats the naive forecast', () => {
    const grow = (d: number) => profile[d % 7]! * (1 + d / 50);
    const history = Array.from({ length: 42 }, (_, d) => grow(d));
    const actual = Array.from({ length: 7 }, (_, i) => grow(42 + i));
    const err = (f: number[]) => f.reduce((s, v, i) => s + Math.abs(v - actual[i]!), 0);
    expect(err(seasonalPoints(history, 7))).toBeLessThan(err(naivePoints(history, 7)) / 2);
  });

  it('widens the interval with the noise of the history', () => {
    let seed = 1;
    const noise = () => ((seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647 - 0.5) * 8;
    const quiet = Array.from({ length: 56 }, (_, d) => profile[d % 7]!);
    const noisy = quiet.map((v) => v + noise());
    const width = (h: number[]) => seasonalForecast(h, 7, 0.8).map((f) => f.high - f.low);
    expect(Math.max(...width(quiet))).toBeLessThan(1e-9);
    expect(Math.min(...width(noisy))).toBeGreaterThan(1);
    for (const f of seasonalForecast(noisy, 7, 0.8)) {
      expect(f.low).toBeLessThanOrEqual(f.value);
      expect(f.high).toBeGreaterThanOrEqual(f.value);
    }
  });

  it('quantiles interpolate between order statistics', () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([4, 1, 3, 2], 0)).toBe(1);
    expect(quantile([4, 1, 3, 2], 1)).toBe(4);
  });
});

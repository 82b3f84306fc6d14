import { describe, expect, it } from 'vitest';
import { leader, twoProportionP, wilson } from '../../src/analytics/ab-test.js';

describe('A/B test statistics', () => {
  it('gives Wilson intervals, exact at the edges and inside [0, 1]', () => {
    // With no successes the interval is [0, z²/(n + z²)]; with all, [n/(n + z²), 1].
    const z2 = 1.959963984540054 ** 2;
    const none = wilson(0, 10);
    expect(none.rate).toBe(0);
    expect(none.low).toBe(0);
    expect(none.high).toBeCloseTo(z2 / (10 + z2), 12);
    const all = wilson(10, 10);
    expect(all.low).toBeCloseTo(10 / (10 + z2), 12);
    expect(all.high).toBeCloseTo(1, 12);
    // A textbook case: 81 of 263 (Newcombe 1998, Table I: 0.2553 to 0.3662).
    const mid = wilson(81, 263);
    expect(mid.low).toBeCloseTo(0.2553, 4);
    expect(mid.high).toBeCloseTo(0.3662, 4);
    expect(wilson(0, 0)).toEqual({ successes: 0, trials: 0, rate: null, low: null, high: null });
  });

  it('tests two proportions as the pooled z-test does', () => {
    // 45/100 against 30/100: pooled 0.375, z = 0.15 / 0.0684653 = 2.19089, p = 0.028459.
    const p = twoProportionP(wilson(45, 100), wilson(30, 100));
    expect(p).toBeCloseTo(0.028459, 5);
    expect(twoProportionP(wilson(30, 100), wilson(30, 100))).toBe(1);
    expect(twoProportionP(wilson(0, 0), wilson(3, 10))).toBe(1);
  });

  it('names a winner only when it beats every other variant significantly', () => {
    const clear = leader([
      { name: 'a', estimate: wilson(60, 100) },
      { name: 'b', estimate: wilson(20, 100) },
      { name: 'c', estimate: wilson(25, 100) },
    ]);
    expect(clear.winner).toBe('a');
    expect(clear.p).toBeLessThan(0.05);
    // Far ahead of one, level with another: no winner.
    const close = leader([
      { name: 'a', estimate: wilson(60, 100) },
      { name: 'b', estimate: wilson(20, 100) },
      { name: 'c', estimate: wilson(58, 100) },
    ]);
    expect(close.winner).toBeNull();
    expect(close.p).toBeGreaterThan(0.05);
    expect(leader([{ name: 'a', estimate: wilson(1, 2) }])).toEqual({ winner: null, p: null });
  });
});

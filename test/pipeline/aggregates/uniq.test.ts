import { describe, expect, it } from 'vitest';
import { hllRelativeError } from '../../../src/pipeline/aggregates/hyperloglog.js';
import { uniq } from '../../../src/pipeline/aggregates/uniq.js';

const distinct = uniq();
const threeSigma = 3 * hllRelativeError; // 99.7% of estimates, as uniq.ts promises

function uniqOf(values: Iterable<unknown>) {
  const state = distinct.create();
  for (const value of values) distinct.add(state, value);
  return state;
}

function* range(from: number, to: number, prefix = 'user-') {
  for (let i = from; i < to; i++) yield `${prefix}${i}`;
}

describe('uniq', () => {
  it('is exact up to 1,024 distinct values, however often each repeats', () => {
    const values = [...range(0, 1000)];
    expect(distinct.result(uniqOf([...values, ...values, ...values]))).toBe(1000);
    expect(distinct.result(uniqOf(range(0, 1024)))).toBe(1024);
  });

  it('counts values by their text and ignores absent ones', () => {
    const state = uniqOf(['7', 7, 'seven', { id: 1 }, { id: 1 }, null, undefined]);
    expect(distinct.result(state)).toBe(3);
  });

  for (const n of [2_000, 40_000, 100_000]) {
    it(`estimates ${n} distinct values within ±3 × 0.81%`, () => {
      for (const prefix of ['user-', 'u', '']) {
        const estimate = distinct.result(uniqOf(range(0, n, prefix))) as number;
        expect(Math.abs(estimate - n) / n, `prefix ${JSON.stringify(prefix)}`).toBeLessThan(
          threeSigma,
        );
      }
    });
  }

  it('merges to the exact union while small', () => {
    const a = uniqOf(range(0, 600));
    const b = uniqOf(range(300, 900));
    distinct.merge(a, b);
    expect(distinct.result(a)).toBe(900);
    expect(distinct.result(b)).toBe(600);
  });

  it('merges large sets to the estimated union', () => {
    const a = uniqOf(range(0, 60_000));
    distinct.merge(a, uniqOf(range(40_000, 100_000)));
    expect(Math.abs((distinct.result(a) as number) - 100_000) / 100_000).toBeLessThan(threeSigma);
  });

  it('merges a small set into a large one and a large one into a small one alike', () => {
    const union = 50_500;
    const small = () => uniqOf(range(0, 500, 'small-'));
    const large = () => uniqOf(range(0, 50_000, 'large-'));
    const [intoLarge, intoSmall] = [large(), small()];
    distinct.merge(intoLarge, small());
    distinct.merge(intoSmall, large());
    expect(distinct.result(intoSmall)).toBe(distinct.result(intoLarge));
    expect(Math.abs((distinct.result(intoLarge) as number) - union) / union).toBeLessThan(
      threeSigma,
    );
  });
});

import { describe, expect, it } from 'vitest';
import {
  createHll,
  hashString,
  hllAdd,
  hllCount,
  hllMerge,
  hllRelativeError,
} from '../../../src/pipeline/aggregates/hyperloglog.js';

function hllOf(n: number, prefix: string) {
  const hll = createHll();
  for (let i = 0; i < n; i++) hllAdd(hll, `${prefix}${i}`);
  return hll;
}

const relativeError = (estimate: number, n: number) => (estimate - n) / n;

describe('hashString', () => {
  it('is a stable 32-bit hash that tells near-identical strings apart', () => {
    expect(hashString('')).toBe(0); // MurmurHash3 of nothing with seed 0
    const hashes = ['a', 'b', 'ab', 'ba', 'abc', 'abd', 'user-1', 'user-10'].map(hashString);
    expect(new Set(hashes).size).toBe(hashes.length);
    for (const h of hashes) expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
    expect(hashString('user-1')).toBe(hashes[6]);
  });

  it('spreads sequential ids evenly over the registers (top bits)', () => {
    const buckets = new Array<number>(16).fill(0);
    for (let i = 0; i < 65_536; i++) buckets[hashString(`user-${i}`) >>> 28]! += 1;
    for (const n of buckets) expect(Math.abs(n - 4096)).toBeLessThan(4096 * 0.06);
  });
});

describe('HyperLogLog', () => {
  it('has the relative standard error of 2^14 registers', () => {
    expect(hllRelativeError).toBeCloseTo(1.04 / 128, 6);
  });

  it('counts exactly up to 1,024 distinct values, then estimates', () => {
    const hll = hllOf(1024, 'id-');
    expect(hllCount(hll)).toBe(1024);
    hllAdd(hll, 'id-1024');
    expect(Math.abs(relativeError(hllCount(hll), 1025))).toBeLessThan(3 * hllRelativeError);
  });

  it('has no bias where linear counting hands over to the raw estimate (about 40,000)', () => {
    // The classic estimator read 2.5% high here; the mean of 8 independent sketches
    // (standard error 0.29%) must stay within 1%.
    for (const n of [30_000, 40_000, 50_000]) {
      const errors = Array.from({ length: 8 }, (_, f) =>
        relativeError(hllCount(hllOf(n, `f${f}-`)), n),
      );
      for (const e of errors) expect(Math.abs(e)).toBeLessThan(3 * hllRelativeError);
      expect(Math.abs(errors.reduce((a, b) => a + b) / errors.length), `n = ${n}`).toBeLessThan(
        0.01,
      );
    }
  });

  it('merging two small sketches past 1,024 values keeps the union', () => {
    const a = hllOf(700, 'a-');
    hllMerge(a, hllOf(700, 'b-'));
    expect(Math.abs(relativeError(hllCount(a), 1400))).toBeLessThan(3 * hllRelativeError);
  });

  it('merging is idempotent and leaves the merged-in sketch unchanged', () => {
    const a = hllOf(20_000, 'x-');
    const b = hllOf(20_000, 'x-');
    const before = hllCount(a);
    hllMerge(a, b);
    expect(hllCount(a)).toBe(before);
    const small = hllOf(10, 'y-');
    hllMerge(a, small);
    expect(hllCount(small)).toBe(10);
  });

  it('reads 0 for an empty sketch', () => {
    expect(hllCount(createHll())).toBe(0);
  });
});

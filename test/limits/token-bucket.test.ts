import { describe, expect, it } from 'vitest';
import { createTokenBucket } from '../../src/limits/token-bucket.js';

describe('createTokenBucket', () => {
  it('allows a burst, then asks to wait as long as the refill takes', () => {
    let t = 0;
    const bucket = createTokenBucket(100, 200, () => t);
    expect(bucket.take(200)).toBe(0);
    expect(bucket.take(50)).toBe(500);
    t = 500;
    expect(bucket.take(50)).toBe(0);
  });

  it('lets a batch larger than the bucket through only when full', () => {
    let t = 0;
    const bucket = createTokenBucket(100, 10, () => t);
    expect(bucket.take(50)).toBe(0);
    expect(bucket.take(50)).toBeGreaterThan(0);
    t = 10_000;
    expect(bucket.take(50)).toBe(0);
  });
});

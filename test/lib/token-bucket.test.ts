import { describe, expect, it } from 'vitest';
import { createTokenBucket } from '../../src/lib/token-bucket.js';

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

describe('token bucket reservations', () => {
  it('queues reservations behind each other and takes back released ones', () => {
    let t = 0;
    const bucket = createTokenBucket(10, 2, () => t);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([
      0, 0, 100, 200,
    ]);
    bucket.release();
    expect(bucket.reserve()).toBe(200);
    t = 1000;
    expect(bucket.full()).toBe(true);
  });

  it('gives back taken tokens, never above the burst', () => {
    const bucket = createTokenBucket(100, 200, () => 0);
    expect(bucket.take(150)).toBe(0);
    expect(bucket.full()).toBe(false);
    bucket.release(150);
    bucket.release(150);
    expect(bucket.full()).toBe(true);
    expect(bucket.take(200)).toBe(0);
    expect(bucket.take(1)).toBe(10);
  });
});

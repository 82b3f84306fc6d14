import { describe, expect, it } from 'vitest';
import { backoffMs } from '../../src/ops/backoff.js';

describe('backoffMs', () => {
  it('doubles from the base and stays within [ceiling/2, ceiling]', () => {
    expect(backoffMs(1, 200, 30_000, () => 0)).toBe(100);
    expect(backoffMs(1, 200, 30_000, () => 1)).toBe(200);
    expect(backoffMs(4, 200, 30_000, () => 0.5)).toBe(1200);
  });

  it('is capped', () => {
    expect(backoffMs(40, 200, 30_000, () => 1)).toBe(30_000);
  });
});

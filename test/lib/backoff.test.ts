import { describe, expect, it } from 'vitest';
import { backoffMs } from '../../src/lib/backoff.js';

describe('backoffMs', () => {
  it('doubles from the base and stays within [ceiling/2, ceiling]', () => {
    expect(backoffMs(1, 200, 30_000, () => 0)).toBe(100);
    expect(backoffMs(1, 200, 30_000, () => 1)).toBe(200);
    expect(backoffMs(4, 200, 30_000, () => 0.5)).toBe(1200);
    expect(backoffMs(1, 250, 10_000, () => 0)).toBe(125);
    expect(backoffMs(1, 250, 10_000, () => 1)).toBe(250);
    expect(backoffMs(3, 250, 10_000, () => 0)).toBe(500);
    expect(backoffMs(3, 250, 10_000, () => 1)).toBe(1000);
  });

  it('is capped', () => {
    expect(backoffMs(40, 200, 30_000, () => 1)).toBe(30_000);
  });

  it('never waits longer than maxMs, however many attempts failed', () => {
    for (const attempt of [7, 20, 1000, 5000]) {
      expect(backoffMs(attempt, 250, 10_000, () => 1)).toBe(10_000);
      expect(backoffMs(attempt, 250, 10_000, () => 0)).toBe(5000);
    }
  });
});

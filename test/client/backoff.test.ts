import { describe, expect, it } from 'vitest';
import { backoffMs } from '../../src/client/backoff.js';

const options = { baseMs: 250, maxMs: 10_000 };

describe('client backoff', () => {
  it('doubles from baseMs with equal jitter: between half and all of the ceiling', () => {
    expect(backoffMs(1, options, () => 0)).toBe(125);
    expect(backoffMs(1, options, () => 1)).toBe(250);
    expect(backoffMs(3, options, () => 0)).toBe(500);
    expect(backoffMs(3, options, () => 1)).toBe(1000);
  });

  it('never waits longer than maxMs, however many attempts failed', () => {
    for (const attempt of [7, 20, 1000, 5000]) {
      expect(backoffMs(attempt, options, () => 1)).toBe(10_000);
      expect(backoffMs(attempt, options, () => 0)).toBe(5000);
    }
  });
});

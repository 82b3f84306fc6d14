import { describe, expect, it } from 'vitest';
import { backoffMs, retryDelayMs } from '../../src/client/backoff.js';

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

  it('over a list: a short step within a round, the backoff of the round number after each round', () => {
    expect(retryDelayMs(1, 3, options, () => 0)).toBe(0);
    expect(retryDelayMs(2, 3, options, () => 0.999)).toBe(124); // below baseMs / 2
    expect(retryDelayMs(3, 3, options, () => 1)).toBe(backoffMs(1, options, () => 1));
    expect(retryDelayMs(4, 3, options, () => 0.5)).toBe(62); // round 2 starts with a step too
    expect(retryDelayMs(6, 3, options, () => 0)).toBe(backoffMs(2, options, () => 0));
    expect(retryDelayMs(300, 3, options, () => 1)).toBe(10_000);
  });

  it('with one server, every attempt is a round: the same delays as backoffMs', () => {
    for (const attempt of [1, 2, 3, 7, 100]) {
      expect(retryDelayMs(attempt, 1, options, () => 0.3)).toBe(
        backoffMs(attempt, options, () => 0.3),
      );
    }
  });
});

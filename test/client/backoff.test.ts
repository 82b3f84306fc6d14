import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../src/client/backoff.js';
import { backoffMs } from '../../src/lib/backoff.js';

const options = { baseMs: 250, maxMs: 10_000 };
const backoff = (attempt: number, random: () => number) =>
  backoffMs(attempt, options.baseMs, options.maxMs, random);

describe('client backoff', () => {
  it('over a list: a short step within a round, the backoff of the round number after each round', () => {
    expect(retryDelayMs(1, 3, options, () => 0)).toBe(0);
    expect(retryDelayMs(2, 3, options, () => 0.999)).toBe(124); // below baseMs / 2
    expect(retryDelayMs(3, 3, options, () => 1)).toBe(backoff(1, () => 1));
    expect(retryDelayMs(4, 3, options, () => 0.5)).toBe(62); // round 2 starts with a step too
    expect(retryDelayMs(6, 3, options, () => 0)).toBe(backoff(2, () => 0));
    expect(retryDelayMs(300, 3, options, () => 1)).toBe(10_000);
  });

  it('with one server, every attempt is a round: the same delays as backoffMs', () => {
    for (const attempt of [1, 2, 3, 7, 100]) {
      expect(retryDelayMs(attempt, 1, options, () => 0.3)).toBe(backoff(attempt, () => 0.3));
    }
  });
});

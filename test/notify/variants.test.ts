import { describe, expect, it } from 'vitest';
import { pickVariant } from '../../src/notify/variants.js';

const variants = [
  { template: 'a', weight: 1 },
  { template: 'b', weight: 3 },
];

describe('template variants', () => {
  it('gives a user the same variant every time, and other scopes their own draw', () => {
    const first = pickVariant(variants, 'welcome', 'u42').template;
    for (let i = 0; i < 5; i++)
      expect(pickVariant(variants, 'welcome', 'u42').template).toBe(first);
    const users = Array.from({ length: 200 }, (_, i) => `u${i}`);
    const inScope = (scope: string) => users.map((u) => pickVariant(variants, scope, u).template);
    expect(inScope('welcome')).not.toEqual(inScope('reminder'));
  });

  it('shares the users out by weight', () => {
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < 20_000; i++)
      counts[pickVariant(variants, 'welcome', `user-${i}`).template as 'a' | 'b'] += 1;
    // 1 in 4 get `a`: within 1.5 points (the binomial's sd is 0.3 points).
    expect(counts.a / 20_000).toBeGreaterThan(0.235);
    expect(counts.a / 20_000).toBeLessThan(0.265);
  });
});

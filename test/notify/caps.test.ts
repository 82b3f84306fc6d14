import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaps } from '../../src/notify/caps.js';
import { sharedRedisState } from '../helpers/shared-redis-state.js';

let shared: Awaited<ReturnType<typeof sharedRedisState>>;
beforeAll(async () => {
  shared = await sharedRedisState();
});
afterAll(() => shared.stop());

describe('caps in cluster mode', () => {
  it('counts the sends of two nodes at once, none lost', async () => {
    const cap = { category: 'promo', max: 40, periodMs: 3600_000 };
    const [a, b] = shared.nodes.map((state) => createCaps(state, () => [cap]));
    const now = Date.UTC(2026, 0, 1, 12);
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? a! : b!).count('p', 'u1', 'promo', now)),
    );
    expect(await a!.exceeded('p', 'u1', 'promo', now)).toEqual(cap);
  });
});

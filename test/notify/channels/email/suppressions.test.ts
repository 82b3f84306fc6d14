import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSuppressions } from '../../../../src/notify/channels/email/suppressions.js';
import { sharedRedisState } from '../../../helpers/shared-redis-state.js';

let shared: Awaited<ReturnType<typeof sharedRedisState>>;
beforeAll(async () => {
  shared = await sharedRedisState();
});
afterAll(() => shared.stop());

describe('suppressions in cluster mode', () => {
  it('keeps a spam report when a bounce for the same user lands on another node at once', async () => {
    const [a, b] = shared.nodes.map((state) => createSuppressions(state));
    const users = Array.from({ length: 30 }, (_, i) => `u${i}`);
    // Each node takes either side for half the users, whichever connection Redis serves first.
    const recorded = await Promise.all(
      users.flatMap((user, i) => {
        const [spamNode, bounceNode] = i % 2 ? [a!, b!] : [b!, a!];
        return [
          spamNode.suppress('p', user, { reason: 'spamreport', notificationId: 'n1', detail: '' }),
          bounceNode.suppress('p', user, {
            reason: 'bounce',
            email: 'old@x.io',
            notificationId: 'n2',
            detail: '550',
          }),
        ];
      }),
    );
    expect(recorded.filter(Boolean).length).toBeGreaterThanOrEqual(30);
    // Spam reports stop email to any address; a bounce only to the one that bounced.
    for (const user of users)
      expect((await a!.blocks('p', user, 'new@x.io'))?.reason, user).toBe('spamreport');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSendRecords } from '../../../../src/notify/channels/email/send-records.js';
import { sharedRedisState } from '../../../helpers/shared-redis-state.js';

let shared: Awaited<ReturnType<typeof sharedRedisState>>;
beforeAll(async () => {
  shared = await sharedRedisState();
});
afterAll(() => shared.stop());

describe('send records in cluster mode', () => {
  it('confirms a send once when the provider event reaches two nodes at once', async () => {
    const [a, b] = shared.nodes.map((state) => createSendRecords(state));
    const ids = Array.from({ length: 30 }, (_, i) => `n${i}`);
    for (const id of ids) expect(await a!.begin('p', id)).toBeUndefined();
    const confirmations = await Promise.all(
      ids.flatMap((id) => [a!.confirm('p', id, 'delivered'), b!.confirm('p', id, 'delivered')]),
    );
    expect(confirmations.filter(Boolean)).toHaveLength(30);
    for (const id of ids) expect(await b!.get('p', id)).toMatchObject({ status: 'sent' });
  });
});

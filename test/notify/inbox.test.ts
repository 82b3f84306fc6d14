import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInbox } from '../../src/notify/inbox.js';
import type { Notification } from '../../src/notify/notification.js';
import { sharedRedisState } from '../helpers/shared-redis-state.js';

let shared: Awaited<ReturnType<typeof sharedRedisState>>;
beforeAll(async () => {
  shared = await sharedRedisState();
});
afterAll(() => shared.stop());

const notification = (id: string): Notification => ({
  id,
  ts: 1,
  project: 'p',
  userId: 'u1',
  rule: 'r',
  category: 'c',
  title: id,
  body: '',
  data: {},
  priority: 'normal',
  dedupKey: undefined,
  channels: ['in_app'],
  template: undefined,
  variables: {},
});

describe('inbox in cluster mode', () => {
  it('keeps both marks when two nodes mark the same items at once', async () => {
    const [a, b] = shared.nodes.map((state) => createInbox(state));
    const ids = Array.from({ length: 30 }, (_, i) => `n${String(i).padStart(3, '0')}`);
    for (const id of ids) await a!.append(notification(id));
    const marks = ids.flatMap((id) => [
      a!.mark('p', 'u1', [id], 'read'),
      b!.mark('p', 'u1', [id], 'archived'),
    ]);
    expect((await Promise.all(marks)).flat()).toHaveLength(60);
    const { items } = await b!.list('p', 'u1', { archived: true, limit: 100 });
    expect(items.filter((item) => !(item.read && item.archived && item.seen))).toEqual([]);
    expect(items).toHaveLength(30);
  });
});

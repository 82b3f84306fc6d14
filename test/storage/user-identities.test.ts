import { afterAll, beforeAll, expect, it } from 'vitest';
import { openMigratedChdb } from '../helpers/migrated-chdb.js';
import type { ClickHouse } from '../../src/storage/clickhouse.js';
import { createUserData } from '../../src/storage/user-data.js';
import { row } from './clickhouse.contract.js';

let ch: ClickHouse;
let close: () => Promise<void>;
beforeAll(async () => ({ ch, close } = await openMigratedChdb('backline-user-identities-')));
afterAll(() => close());

const merges = async () =>
  (
    await ch.query<{ anonymous_id: string; user: string }>(
      `SELECT anonymous_id, argMinMerge(user_id) AS user FROM identities
       WHERE project = 'p1' GROUP BY anonymous_id ORDER BY anonymous_id`,
    )
  ).map((r) => `${r.anonymous_id}→${r.user}`);

/** Every state row's own user, merged or not: the erased id must be in none. */
const stateUsers = async () =>
  (await ch.query<{ u: string }>('SELECT finalizeAggregation(user_id) AS u FROM identities')).map(
    (r) => r.u,
  );

it('erases a user’s identity merges; a shared device merges into the next user on it', async () => {
  const at = (ms: number) => ({ ts: 1_800_000_000_000 + ms });
  // One insert: one state row per anonymous id, naming its first user only.
  await ch.insert('events', [
    row('e1', { user_id: 'gone', anonymous_id: 'dev-1', ...at(1000) }),
    row('e2', { user_id: '', anonymous_id: 'dev-1', ...at(1500) }),
    row('e3', { user_id: 'stays', anonymous_id: 'dev-1', ...at(2000) }),
    row('e5', { user_id: 'other', anonymous_id: 'dev-3', ...at(1000) }),
  ]);
  await ch.insert('events', [row('e4', { user_id: 'gone', anonymous_id: 'dev-2', ...at(500) })]);
  await ch.insert('events', [row('e6', { user_id: 'gone', anonymous_id: 'dev-3', ...at(9000) })]);
  expect(await merges()).toEqual(['dev-1→gone', 'dev-2→gone', 'dev-3→other']);

  const data = createUserData(ch);
  const user = {
    project: 'p1',
    userId: 'gone',
    anonymousIds: await data.anonymousIds('p1', 'gone'),
  };
  expect(user.anonymousIds).toEqual(['dev-1', 'dev-2', 'dev-3']);
  await data.eraseEvents(user);
  expect(await data.eraseIdentities(user)).toBe(3);
  expect(await merges()).toEqual(['dev-1→stays', 'dev-3→other']);
  expect(await stateUsers()).not.toContain('gone');
  // Idempotent: a resumed erase removes nothing more and changes no merge.
  expect(await data.eraseIdentities(user)).toBe(0);
  expect(await merges()).toEqual(['dev-1→stays', 'dev-3→other']);
});

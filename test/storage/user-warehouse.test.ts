import { afterAll, beforeAll, expect, it } from 'vitest';
import { openMigratedChdb } from '../helpers/migrated-chdb.js';
import { engagementSchema } from '../../src/config/analytics-schema.js';
import { createWarehouseQuery } from '../../src/storage/analytics/warehouse-sql.js';
import type { ClickHouse } from '../../src/storage/clickhouse.js';
import { createUserData } from '../../src/storage/user-data.js';
import { row } from './clickhouse.contract.js';

let ch: ClickHouse;
let close: () => Promise<void>;
beforeAll(async () => ({ ch, close } = await openMigratedChdb('backline-user-warehouse-')));
afterAll(() => close());

const persons = async (table: string) =>
  (await ch.query<{ person: string }>(`SELECT DISTINCT person FROM ${table} ORDER BY person`)).map(
    (r) => r.person,
  );

it('erases a user’s rows, under their id and their anonymous ids, from every person table', async () => {
  const at = Date.now();
  await ch.insert('events', [
    row('w1', { user_id: '', anonymous_id: 'dev-9', ts: at - 5000 }), // never merged: its own person
    row('w2', { user_id: 'gone', ts: at - 4000 }),
    row('w3', { user_id: 'stays', ts: at - 3000 }),
  ]);
  const warehouse = createWarehouseQuery(ch);
  const head = { project: 'p1', run: at };
  await warehouse.materialize({ ...head, job: 'd', kind: 'daily_users', days: 2 });
  const formula = { ...engagementSchema.parse({}) };
  await warehouse.materialize({ ...head, job: 'f', kind: 'user_features', formula });
  expect(await persons('warehouse_daily_users')).toEqual(['dev-9', 'gone', 'stays']);

  const data = createUserData(ch);
  const user = { project: 'p1', userId: 'gone', anonymousIds: ['dev-9'] };
  expect(await data.eraseWarehouse(user)).toBe(4);
  expect(await persons('warehouse_daily_users')).toEqual(['stays']);
  expect(await persons('warehouse_user_features')).toEqual(['stays']);
  expect(await data.eraseWarehouse(user)).toBe(0);
});

import type { ClickHouse } from './clickhouse.js';
import { quote } from './field-sql.js';
import { arrayLiteral, deleteWhere, idsOf, type UserIds } from './user-rows.js';

/**
 * The warehouse tables that hold rows per person (clickhouse/006_warehouse.sql and the model
 * jobs' 008_predictions.sql; item neighbours and forecasts name no one).
 */
export const personTables = [
  'warehouse_daily_users',
  'warehouse_user_features',
  'warehouse_recommendations',
  'warehouse_churn',
];

/**
 * Removes a user's rows from the warehouse jobs' tables: rows whose person is the user or one
 * of their anonymous ids, in every run kept (their recommendations and churn risk too). The
 * retention tables hold counts only. A job's
 * next run is computed from the events left, so the user does not come back. Answers the
 * rows deleted.
 */
export async function eraseUserWarehouse(ch: ClickHouse, user: UserIds): Promise<number> {
  const where = `project = ${quote(user.project)} AND has(${arrayLiteral(idsOf(user))}, person)`;
  let deleted = 0;
  for (const table of personTables) deleted += await deleteWhere(ch, table, where);
  return deleted;
}

import type { ClickHouse } from '../clickhouse.js';

/** Rows per INSERT: large enough to amortize a statement, small enough to hold a batch. */
export const insertBatchRows = 20_000;

/** Inserts `rows` into `table` in batches, never holding more than one; answers how many. */
export async function insertRows(
  ch: ClickHouse,
  table: string,
  rows: Iterable<object>,
): Promise<number> {
  let batch: object[] = [];
  let count = 0;
  for (const row of rows) {
    batch.push(row);
    if (batch.length === insertBatchRows) {
      await ch.insert(table, batch);
      count += batch.length;
      batch = [];
    }
  }
  if (batch.length) await ch.insert(table, batch);
  return count + batch.length;
}

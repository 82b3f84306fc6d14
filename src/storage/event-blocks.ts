import type { ClickHouse } from './clickhouse.js';
import { eventsTable } from './event-store.js';

/**
 * The insert order of `events`, which rollups follow. ClickHouse numbers every insert's part
 * with a block number taken, for a (non-replicated) MergeTree, under the same lock that makes
 * the part visible, so block numbers become visible in order: once block B is seen, no block
 * at or below B can still appear. Spooled batches replayed later and inserts from other nodes
 * get new, higher numbers. `enable_block_number_column` (clickhouse/005) keeps each row's
 * number through merges, as `_block_number`.
 */

/** A scalar query of the highest block number of `events` visible now; 0 before the first insert. */
export const lastBlockSql = `SELECT max(max_block_number) FROM system.parts
  WHERE database = currentDatabase() AND table = '${eventsTable}' AND active`;

/** The highest block number of `events` visible now; 0 before the first insert. */
export async function lastBlock(ch: ClickHouse): Promise<number> {
  const [row] = await ch.query<{ block: string | number }>(
    `SELECT toString((${lastBlockSql})) AS block`,
  );
  return Number(row?.block ?? 0);
}

/**
 * The rows of the blocks in `(after, upto]` (no upper bound without `upto`). The part name's
 * third field is the part's highest block: ClickHouse skips older parts without reading them.
 */
export function blocksAfter(after: number, upto?: number): string {
  const range = [`_block_number > ${Math.floor(after)}`];
  if (upto !== undefined) range.push(`_block_number <= ${Math.floor(upto)}`);
  return `toUInt64(splitByChar('_', _part)[3]) > ${Math.floor(after)} AND ${range.join(' AND ')}`;
}

import { assertIdentifier, type ClickHouse } from './clickhouse.js';
import { quote } from './field-sql.js';
import {
  arrayLiteral,
  deleteWhere,
  idsOf,
  unlogged,
  valuesWithout,
  type UserIds,
} from './user-rows.js';
import { windowsTable, type WindowRow } from './window-store.js';

/**
 * Removes a user from stored window results. Windows hold counts and sketches, not ids,
 * except where a stream makes an id part of them: a group key of a user field (the row is
 * the user's: deleted) or a topK of one (the entry naming the user is taken out of the
 * list, the rest of the window stays). In a rollup an hour's topK state cannot be edited:
 * a bucket whose topK lists the user is deleted whole. `uniq` states are hash sets, which
 * no id can be read back from: they stay. Answers the rows deleted or rewritten.
 */
export async function eraseUserWindows(
  ch: ClickHouse,
  user: UserIds,
  rollupTables: readonly string[],
): Promise<number> {
  const ids = idsOf(user);
  const project = `project = ${quote(user.project)}`;
  let changed = await deleteWhere(
    ch,
    windowsTable,
    `${project} AND hasAny(splitByChar('|', key), ${arrayLiteral(ids)})`,
  );
  const mentions = `${project} AND arrayExists(x -> position(values, x) > 0, ${arrayLiteral(ids.map((id) => JSON.stringify(id)))})`;
  const listed = await ch.query<Record<string, unknown>>(
    `SELECT project, stream, key, toString(toUnixTimestamp64Milli(start)) AS start_ms,
            toString(toUnixTimestamp64Milli(end)) AS end_ms, rev, values,
            toString(toUnixTimestamp64Milli(emitted_at)) AS emitted_ms
     FROM ${windowsTable} WHERE ${mentions} ${unlogged}`,
  );
  // The rewritten rows go in first and the old ones out after: a crash in between leaves
  // both, and the next run deletes the old ones only.
  const rewritten = listed.map((row): WindowRow => ({
    project: row.project as string,
    stream: row.stream as string,
    key: row.key as string,
    start: Number(row.start_ms),
    end: Number(row.end_ms),
    rev: Number(row.rev),
    values: valuesWithout(row.values as string, ids) ?? (row.values as string),
    emitted_at: Number(row.emitted_ms),
  }));
  if (rewritten.length > 0) await ch.insert(windowsTable, rewritten);
  changed += await deleteWhere(ch, windowsTable, mentions);
  for (const table of rollupTables) changed += await eraseFromRollup(ch, table, ids);
  return changed;
}

/** Rollup rows keyed by one of `ids`, or whose topK state lists one; a table gone is skipped. */
async function eraseFromRollup(ch: ClickHouse, table: string, ids: string[]): Promise<number> {
  const columns = await ch.query<{ name: string; type: string }>(
    `SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {table:String}`,
    { table: assertIdentifier(table) },
  );
  if (columns.length === 0) return 0;
  const list = arrayLiteral(ids);
  const topK = columns.filter((column) => column.type.startsWith('AggregateFunction(topK'));
  const where = [
    `hasAny(splitByChar('|', key), ${list})`,
    ...topK.map(
      (column) => `hasAny(finalizeAggregation(${assertIdentifier(column.name)}), ${list})`,
    ),
  ].join(' OR ');
  return deleteWhere(ch, table, where);
}

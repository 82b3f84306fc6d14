import { join } from 'node:path';
import { openChdb } from '../../src/storage/chdb-client.js';
import { quote } from '../../src/storage/field-sql.js';
import { openLmdbStateStore } from '../../src/state/lmdb-state-store.js';

/** A place where a search found one of the texts it looked for. */
export interface Trace {
  where: string;
  hits: number;
}

/** Column types whose values can hold text: a user id could be in any of them. */
const textual =
  /^(LowCardinality\()?(Nullable\()?String|^Array\((LowCardinality\()?(Nullable\()?String/;

/**
 * Every place in a stopped server's ClickHouse database (the `DATA_DIR/clickhouse` folder)
 * holding one of `needles`: each String column (plain, nullable, low-cardinality, arrays) of
 * every table in `system.tables`, the lists kept by topK aggregate states (rollups) and the
 * users kept by argMin states (identity merges).
 * Opens the folder itself, so the server must have exited.
 */
export async function clickhouseTraces(dataDir: string, needles: readonly string[]) {
  const ch = openChdb(join(dataDir, 'clickhouse'));
  const traces: Trace[] = [];
  try {
    const tables = await ch.query<{ name: string }>(
      `SELECT name FROM system.tables WHERE database = currentDatabase() AND engine NOT LIKE '%View'`,
    );
    for (const { name } of tables) {
      const columns = await ch.query<{ name: string; type: string }>(
        'SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String}',
        { t: name },
      );
      for (const column of columns) {
        const text = textual.test(column.type)
          ? `toString(\`${column.name}\`)`
          : /^AggregateFunction\((topK|argMin)/.test(column.type)
            ? `toString(finalizeAggregation(\`${column.name}\`))`
            : undefined;
        if (!text) continue;
        const found = needles.map((needle) => `position(${text}, ${quote(needle)}) > 0`);
        const [row] = await ch.query<{ n: number | string }>(
          `SELECT count() AS n FROM \`${name}\` WHERE ${found.join(' OR ')}`,
        );
        if (Number(row?.n) > 0)
          traces.push({ where: `${name}.${column.name}`, hits: Number(row!.n) });
      }
    }
  } finally {
    await ch.close();
  }
  return traces;
}

/** Every state entry (LMDB, `DATA_DIR/state`) whose key or value holds one of `needles`. */
export async function stateTraces(dataDir: string, needles: readonly string[]) {
  const state = openLmdbStateStore(join(dataDir, 'state'));
  try {
    const entries = await state.list<unknown>('');
    return entries
      .filter(([key, value]) => {
        const text = key + JSON.stringify(value);
        return needles.some(
          (needle) => text.includes(needle) || key.includes(encodeURIComponent(needle)),
        );
      })
      .map(([key]): Trace => ({ where: key, hits: 1 }));
  } finally {
    await state.close();
  }
}

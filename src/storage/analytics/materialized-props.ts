import { createHash } from 'node:crypto';
import type { ClickHouse } from '../clickhouse.js';
import { quote } from '../field-sql.js';
import { assertField, isEventField, textSql } from './field-sql.js';
import { createLiteralSqlParams } from './sql-params.js';

/** Event fields kept as their own columns of `events`, by field: `props.artistId` → column. */
export type PropColumns = ReadonlyMap<string, string>;

/**
 * `prop_<path>_<hash>`: the path for people reading `system.columns`, the hash of the field
 * keeps two fields whose paths read alike (`props.a-b`, `props.a_b`) apart.
 */
export function propColumn(field: string): string {
  const hash = createHash('sha1').update(field).digest('hex').slice(0, 8);
  return `prop_${field.slice('props.'.length).replace(/[^A-Za-z0-9_]/g, '_')}_${hash}`;
}

/** The field's text as the analytics queries read it (field-sql.ts `textSql`), over `props`. */
const textExpression = (field: string) =>
  textSql(createLiteralSqlParams(), field).replaceAll('e.props', 'props');

/** The columns of the listed fields (those of `props`), by field. */
export function propColumns(fields: readonly string[]): PropColumns {
  const props = fields.filter((field) => assertField(field).startsWith('props.'));
  return new Map(props.map((field) => [field, propColumn(field)]));
}

/**
 * Materializes the listed `props.…` fields as columns of `events` (what PostHog calls
 * materialized properties): each a `LowCardinality(Nullable(String))` computed from `props`
 * on every insert, and for the parts already stored by a background mutation (until it ends,
 * ClickHouse computes the column from `props` when a query reads an old part, so answers are
 * the same all along). Breakdowns, funnel breakdowns and trending read the column instead of
 * parsing each event's JSON text (the analytics bench: ~1.5M events' `props.artistId`, most of
 * a breakdown's time). A field dropped from the list keeps its column, still read
 * (prop-columns.ts reads every prop column `events` has).
 *
 * @example
 * await materializeProps(ch, ['props.artistId']); // at start, after the migrations
 * createAnalyticsQueries(ch, { columns: propColumns(['props.artistId']) });
 */
export async function materializeProps(ch: ClickHouse, fields: readonly string[]): Promise<void> {
  if (fields.length === 0) return;
  const present = new Set((await storedPropColumns(ch)).values());
  for (const [field, column] of propColumns(fields)) {
    if (!present.has(column)) await addPropColumn(ch, field);
  }
}

/**
 * Adds the field's column to `events` (nothing when it is there) and starts the background
 * mutation that writes it into the stored parts; answers the column's name, usable at once.
 */
export async function addPropColumn(ch: ClickHouse, field: string): Promise<string> {
  const column = propColumn(assertField(field));
  await ch.exec(
    `ALTER TABLE events ADD COLUMN IF NOT EXISTS ${column} LowCardinality(Nullable(String))
     MATERIALIZED ${textExpression(field)} COMMENT ${quote(field)}`,
  );
  // In the background: chdb waits for a mutation by default (mutations_sync 1), and its one
  // session would answer nothing else meanwhile (~13 s for 90 daily parts of 3,000 rows).
  await ch.exec(`ALTER TABLE events MATERIALIZE COLUMN ${column} SETTINGS mutations_sync = 0`);
  return column;
}

/**
 * The prop columns `events` has, by field (read from each column's comment, kept only when
 * the name is the one propColumn gives the field): those listed and those made automatically
 * (prop-columns.ts), by this process or another node of the cluster.
 */
export async function storedPropColumns(ch: ClickHouse): Promise<Map<string, string>> {
  const rows = await ch.query<{ name: string; comment: string }>(
    `SELECT name, comment FROM system.columns
     WHERE database = currentDatabase() AND table = 'events' AND startsWith(name, 'prop_')`,
  );
  const fields = rows.filter(
    (r) =>
      r.comment.startsWith('props.') && isEventField(r.comment) && propColumn(r.comment) === r.name,
  );
  return new Map(fields.map((r) => [r.comment, r.name]));
}

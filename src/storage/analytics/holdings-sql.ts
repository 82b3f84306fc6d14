import { textSql } from './field-sql.js';
import { personEventsSql, scopedEventsSql } from './person-sql.js';
import type { SqlParams } from './sql-params.js';

/** What a recommendations run reads: the events of `types` in [fromMs, toMs) naming an item. */
export interface HoldingsScope {
  project: string;
  fromMs: number;
  toMs: number;
  types: readonly string[];
  /** The props path naming the item (`props.showId`). */
  item: string;
}

/**
 * Per person and item they took up (identities merged): when they first did, epoch ms. A
 * person's items are what the recommender counts as theirs and never recommends back.
 */
export function holdingsSql(p: SqlParams, scope: HoldingsScope): string {
  const { project, fromMs, toMs, types } = scope;
  const events = personEventsSql(p, { project, fromMs, toMs, types }, [
    `${textSql(p, scope.item)} AS item`,
    'e.ts AS ts',
  ]);
  return `SELECT person, item, toUnixTimestamp64Milli(min(ts)) AS first
    FROM (${events}) WHERE item IS NOT NULL GROUP BY person, item`;
}

/**
 * Per item: its content, the most frequent value of each of `attributes` on the events that
 * name it ('' when none does). No person lookup: content needs no identities.
 */
export function itemAttributesSql(
  p: SqlParams,
  scope: HoldingsScope,
  attributes: readonly string[],
): string {
  const select = [
    `${textSql(p, scope.item)} AS item`,
    ...attributes.map((field, i) => `${textSql(p, field)} AS a${i}`),
  ];
  const { project, fromMs, toMs, types } = scope;
  const events = scopedEventsSql(p, { project, fromMs, toMs, types }, select);
  const values = attributes.map((_, i) => `coalesce(anyHeavy(a${i}), '')`);
  return `SELECT item, [${values.join(', ')}]::Array(String) AS attrs
    FROM (${events}) WHERE item IS NOT NULL GROUP BY item`;
}

import type { DecisionRow } from '../model/decision.js';
import type { EventRow } from '../model/event.js';
import type { ClickHouse } from './clickhouse.js';
import { quote } from './field-sql.js';
import type { WindowRow } from './window-store.js';

/**
 * One user as erase and export find their rows: the user id, and the anonymous ids seen on
 * events that carry it (those events are the merges; the `identities` table only keeps them
 * for the analytics queries, see user-identities.ts).
 */
export interface UserIds {
  project: string;
  userId: string;
  anonymousIds: readonly string[];
}

/**
 * Ends every statement that names a user: a ClickHouse server keeps the text of each query in
 * `system.query_log`, which would keep the ids an erase removes everywhere else.
 */
export const unlogged = 'SETTINGS log_queries = 0';

/** A ClickHouse array literal of `texts`, each quoted (statements take no parameters). */
export const arrayLiteral = (texts: readonly string[]): string =>
  `[${texts.map(quote).join(', ')}]`;

/**
 * The user's events: those carrying the user id, and anonymous ones (no user id) of the
 * user's anonymous ids. An anonymous id on an event of another user (a shared device after a
 * sign-in) stays that user's.
 */
export const userEventsWhere = (user: UserIds): string =>
  `project = ${quote(user.project)} AND (user_id = ${quote(user.userId)}
    OR (user_id = '' AND anonymous_id != '' AND has(${arrayLiteral(user.anonymousIds)}, anonymous_id)))`;

export const userDecisionsWhere = (user: UserIds): string =>
  `project = ${quote(user.project)} AND user_id = ${quote(user.userId)}`;

/** The ids a window key or a topK list may hold: the user id and the anonymous ids. */
export const idsOf = (user: UserIds): string[] => [user.userId, ...user.anonymousIds];

/** Whether an event row is the user's (as `userEventsWhere`), for rows still in a spool. */
export function isUserEvent(user: UserIds, row: EventRow): boolean {
  if (row.project !== user.project) return false;
  if (row.user_id === user.userId) return true;
  return (
    row.user_id === '' && row.anonymous_id !== '' && user.anonymousIds.includes(row.anonymous_id)
  );
}

export const isUserDecision = (user: UserIds, row: DecisionRow): boolean =>
  row.project === user.project && row.user_id === user.userId;

/** Whether a group key (`a|b` for several fields) has one of `ids` as a part. */
export const keyNames = (key: string, ids: readonly string[]): boolean =>
  key.split('|').some((part) => ids.includes(part));

/**
 * A window's values without the topK entries naming one of `ids` (`[{value, count}]` lists);
 * other aggregates hold numbers or hash sets, never ids. `undefined` when nothing changed.
 */
export function valuesWithout(values: string, ids: readonly string[]): string | undefined {
  if (!ids.some((id) => values.includes(JSON.stringify(id)))) return undefined;
  const parsed = JSON.parse(values) as Record<string, unknown>;
  for (const [name, value] of Object.entries(parsed)) {
    if (!Array.isArray(value)) continue;
    parsed[name] = value.filter(
      (entry) =>
        !(entry && typeof entry === 'object' && ids.includes((entry as { value: string }).value)),
    );
  }
  return JSON.stringify(parsed);
}

/**
 * A stored window row as it must stay after the user is erased: none when keyed by the user,
 * rewritten when a topK lists them, the same row otherwise.
 */
export function windowWithout(user: UserIds, row: WindowRow): WindowRow | undefined {
  if (row.project !== user.project) return row;
  const ids = idsOf(user);
  if (keyNames(row.key, ids)) return undefined;
  const values = valuesWithout(row.values, ids);
  return values === undefined ? row : { ...row, values };
}

/** Counts rows of `table` matching `where`. */
export async function countWhere(ch: ClickHouse, table: string, where: string): Promise<number> {
  const [row] = await ch.query<{ n: string | number }>(
    `SELECT count() AS n FROM ${table} WHERE ${where} ${unlogged}`,
  );
  return Number(row?.n ?? 0);
}

/** Deletes the rows of `table` matching `where` (a lightweight delete: hidden at once, gone from disk at the next merge); answers how many. */
export async function deleteWhere(ch: ClickHouse, table: string, where: string): Promise<number> {
  const count = await countWhere(ch, table, where);
  if (count > 0) await ch.exec(`DELETE FROM ${table} WHERE ${where} ${unlogged}`);
  return count;
}

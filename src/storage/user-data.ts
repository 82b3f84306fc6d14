import type { ClickHouse } from './clickhouse.js';
import { decisionsTable } from './decision-store.js';
import { eventsTable } from './event-store.js';
import {
  countWhere,
  deleteWhere,
  userDecisionsWhere,
  unlogged,
  userEventsWhere,
  type UserIds,
} from './user-rows.js';
import { personDaysTable } from './analytics/person-days-sql.js';
import { eraseUserIdentities } from './user-identities.js';
import { eraseUserWarehouse } from './user-warehouse.js';
import { eraseUserWindows } from './user-windows.js';

export const defaultUserDataOptions = {
  maxAnonymousIds: 10_000, // anonymous ids followed per user; more are left to retention
  pageRows: 5000, // rows per query when a user's events or decisions are read out
};

/** An event as exported: its stored fields, times in epoch ms, props parsed. */
export interface ExportedEvent {
  id: string;
  type: string;
  ts: number;
  client_ts: number;
  received_at: number;
  user_id: string;
  anonymous_id: string;
  session_id: string;
  props: unknown;
}

/**
 * One user's rows in ClickHouse, for the GDPR erase and export: events (by user id and by
 * the anonymous ids seen with it), notification decisions, and stored windows and rollups
 * keyed by the user or listing them in a topK. Deletes are lightweight `DELETE FROM`: the
 * rows leave every query at once and the disk at their parts' next merge.
 *
 * @example
 * const data = createUserData(ch);
 * const user = { project: 'dev', userId: 'u42', anonymousIds: await data.anonymousIds('dev', 'u42') };
 * await data.eraseEvents(user); // rows deleted
 */
export function createUserData(
  ch: ClickHouse,
  options: Partial<typeof defaultUserDataOptions> = {},
) {
  const opts = { ...defaultUserDataOptions, ...options };

  async function* pages<T>(
    sql: (offset: number) => string,
    map: (row: Record<string, unknown>) => T,
  ) {
    for (let offset = 0; ; offset += opts.pageRows) {
      const rows = await ch.query<Record<string, unknown>>(sql(offset));
      if (rows.length > 0) yield rows.map(map);
      if (rows.length < opts.pageRows) return;
    }
  }

  return {
    async anonymousIds(project: string, userId: string): Promise<string[]> {
      const rows = await ch.query<{ anonymous_id: string }>(
        `SELECT DISTINCT anonymous_id FROM events
         WHERE project = {project:String} AND user_id = {user:String} AND anonymous_id != ''
         ORDER BY anonymous_id LIMIT {limit:UInt32} ${unlogged}`,
        { project, user: userId, limit: opts.maxAnonymousIds },
      );
      return rows.map((row) => row.anonymous_id);
    },

    /** Ids of the notifications decided for the user (their email send records are keyed by them). */
    async notificationIds(project: string, userId: string): Promise<string[]> {
      const rows = await ch.query<{ id: string }>(
        `SELECT DISTINCT notification_id AS id FROM notification_decisions
         WHERE project = {project:String} AND user_id = {user:String} ${unlogged}`,
        { project, user: userId },
      );
      return rows.map((row) => row.id);
    },

    async counts(user: UserIds): Promise<{ events: number; decisions: number }> {
      return {
        events: await countWhere(ch, eventsTable, userEventsWhere(user)),
        decisions: await countWhere(ch, decisionsTable, userDecisionsWhere(user)),
      };
    },

    /** The user's events oldest first, a page at a time. */
    events: (user: UserIds) =>
      pages(
        (offset) =>
          `SELECT id, type, toString(toUnixTimestamp64Milli(ts)) AS ts_ms,
                  toString(toUnixTimestamp64Milli(client_ts)) AS client_ts_ms,
                  toString(toUnixTimestamp64Milli(received_at)) AS received_at_ms,
                  user_id, anonymous_id, session_id, props
           FROM events WHERE ${userEventsWhere(user)}
           ORDER BY ts, id LIMIT ${opts.pageRows} OFFSET ${offset} ${unlogged}`,
        (row): ExportedEvent => ({
          id: row.id as string,
          type: row.type as string,
          ts: Number(row.ts_ms),
          client_ts: Number(row.client_ts_ms),
          received_at: Number(row.received_at_ms),
          user_id: row.user_id as string,
          anonymous_id: row.anonymous_id as string,
          session_id: row.session_id as string,
          props: JSON.parse((row.props as string) || '{}'),
        }),
      ),

    /** The user's notification decisions oldest first, a page at a time. */
    decisions: (user: UserIds) =>
      pages(
        (offset) =>
          `SELECT notification_id, rule, category, dedup_key, channel, outcome, reason, attempt,
                  toString(toUnixTimestamp64Milli(ts)) AS ts_ms
           FROM notification_decisions WHERE ${userDecisionsWhere(user)}
           ORDER BY ts, notification_id, channel, attempt, outcome
           LIMIT ${opts.pageRows} OFFSET ${offset} ${unlogged}`,
        ({ ts_ms, attempt, ...row }) => ({ ...row, attempt: Number(attempt), ts: Number(ts_ms) }),
      ),

    /**
     * The user's events (answers how many), and their days in `person_days` (rows of the same
     * ids, see clickhouse/008_person_days.sql).
     */
    async eraseEvents(user: UserIds): Promise<number> {
      const events = await deleteWhere(ch, eventsTable, userEventsWhere(user));
      await deleteWhere(ch, personDaysTable, userEventsWhere(user));
      return events;
    },
    eraseDecisions: (user: UserIds) => deleteWhere(ch, decisionsTable, userDecisionsWhere(user)),
    /** The user's identity merges (after the events: the merges are taken again from the rest). */
    eraseIdentities: (user: UserIds) => eraseUserIdentities(ch, user),
    /** The user's rows in the warehouse jobs' tables. */
    eraseWarehouse: (user: UserIds) => eraseUserWarehouse(ch, user),
    /** Stored windows and the rollup `tables` of the user's project; answers rows deleted or rewritten. */
    eraseWindows: (user: UserIds, rollupTables: readonly string[]) =>
      eraseUserWindows(ch, user, rollupTables),
  };
}

export type UserData = ReturnType<typeof createUserData>;

import type { EventRow } from '../model/event.js';
import { insertInto, type ClickHouse } from './clickhouse.js';

export interface TypeCount {
  type: string;
  count: number;
}

/** What ingest and the query endpoints need of raw event storage. */
export interface EventStore {
  insert(rows: readonly EventRow[], dedupToken: string, timeoutMs?: number): Promise<void>;
  /** Stored events per type for a project, `ts` in [from, to). */
  countByType(project: string, fromMs: number, toMs: number): Promise<TypeCount[]>;
  /** `project` and `id` of every event received at or after `sinceMs`, newest first. */
  recentIds(sinceMs: number, limit: number): Promise<Array<[project: string, id: string]>>;
  /** A project's events with `ts` at or after `sinceMs` (optionally of some types), oldest first. */
  eventsSince(
    project: string,
    sinceMs: number,
    types: readonly string[] | undefined,
    limit: number,
  ): Promise<EventRow[]>;
  /** The newest event time stored for a project (optionally of some types), if any. */
  latestTs(project: string, types: readonly string[] | undefined): Promise<number | undefined>;
  /**
   * Which of a project's `ids` are stored (the recovery path of the storage consumer). With
   * `tsRange`, the rows' event times, ClickHouse reads only the parts of those days.
   */
  storedIds(project: string, ids: readonly string[], tsRange?: TsRange): Promise<Set<string>>;
  ping(): Promise<void>;
}

/** Event times in epoch ms, both ends included. */
export interface TsRange {
  fromMs: number;
  toMs: number;
}

export const eventsTable = 'events';

// Ids per `storedIds` query: bounds the query text and the IN set ClickHouse builds.
const idsPerQuery = 5000;

/**
 * The events table on either ClickHouse backend.
 *
 * @example
 * const store = createEventStore(openChdb('./data/clickhouse'));
 * await store.countByType('dev', Date.now() - 3600_000, Date.now());
 */
export function createEventStore(ch: ClickHouse): EventStore {
  return {
    insert: insertInto<EventRow>(ch, eventsTable),

    async countByType(project, fromMs, toMs) {
      const rows = await ch.query<{ type: string; count: string | number }>(
        `SELECT type, count() AS count FROM events
         WHERE project = {project:String}
           AND ts >= fromUnixTimestamp64Milli({from:Int64})
           AND ts < fromUnixTimestamp64Milli({to:Int64})
         GROUP BY type ORDER BY type`,
        { project, from: fromMs, to: toMs },
      );
      return rows.map((row) => ({ type: row.type, count: Number(row.count) }));
    },

    async recentIds(sinceMs, limit) {
      const rows = await ch.query<{ project: string; id: string }>(
        `SELECT project, id FROM events
         WHERE received_at >= fromUnixTimestamp64Milli({since:Int64})
         ORDER BY received_at DESC LIMIT {limit:UInt64}`,
        { since: sinceMs, limit },
      );
      return rows.map((row) => [row.project, row.id]);
    },

    async eventsSince(project, sinceMs, types, limit) {
      const rows = await ch.query<Record<string, unknown>>(
        `SELECT type, toString(toUnixTimestamp64Milli(ts)) AS ts_ms, id, user_id, anonymous_id, session_id, props
         FROM events
         WHERE project = {project:String} AND ts >= fromUnixTimestamp64Milli({since:Int64})
           ${types ? 'AND type IN {types:Array(String)}' : ''}
         ORDER BY ts LIMIT {limit:UInt64}`,
        { project, since: sinceMs, limit, ...(types ? { types } : {}) },
      );
      return rows.map((row) => ({
        project,
        type: row.type as string,
        ts: Number(row.ts_ms),
        client_ts: Number(row.ts_ms),
        sent_at: null,
        received_at: Number(row.ts_ms),
        id: row.id as string,
        user_id: row.user_id as string,
        anonymous_id: row.anonymous_id as string,
        session_id: row.session_id as string,
        props: row.props as string,
      }));
    },

    async latestTs(project, types) {
      const [row] = await ch.query<{ latest: string; n: string | number }>(
        `SELECT toString(toUnixTimestamp64Milli(max(ts))) AS latest, count() AS n FROM events
         WHERE project = {project:String} ${types ? 'AND type IN {types:Array(String)}' : ''}`,
        { project, ...(types ? { types } : {}) },
      );
      return row && Number(row.n) > 0 ? Number(row.latest) : undefined;
    },

    async storedIds(project, ids, tsRange) {
      const stored = new Set<string>();
      for (let first = 0; first < ids.length; first += idsPerQuery) {
        const rows = await ch.query<{ id: string }>(
          `SELECT DISTINCT id FROM events
           WHERE project = {project:String} AND id IN {ids:Array(String)}
             ${tsRange ? 'AND ts BETWEEN fromUnixTimestamp64Milli({from:Int64}) AND fromUnixTimestamp64Milli({to:Int64})' : ''}`,
          {
            project,
            ids: ids.slice(first, first + idsPerQuery),
            ...(tsRange ? { from: tsRange.fromMs, to: tsRange.toMs } : {}),
          },
        );
        for (const row of rows) stored.add(row.id);
      }
      return stored;
    },

    async ping() {
      await ch.query('SELECT 1 AS ok');
    },
  };
}

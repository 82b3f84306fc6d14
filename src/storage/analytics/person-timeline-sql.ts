import type { TimelineEvent } from '../../model/analytics.js';
import type { ClickHouse } from '../clickhouse.js';
import { identityMapSql } from './person-sql.js';
import { createSqlParams, type SqlParams } from './sql-params.js';

export type { TimelineEvent };

/** A person's events of one type. */
export interface PersonTypeCount {
  type: string;
  events: number;
  firstMs: number;
  lastMs: number;
  /** Whether any of them carries the person as its `userId` (a known user). */
  asUser: boolean;
}

/** An anonymous id merged into the person, and its first event carrying both ids. */
export interface MergedIdentity {
  anonymousId: string;
  mergedAt: number;
}

/** Where a page of the timeline starts: events strictly older than this (time, then id). */
export interface TimelineCursor {
  ts: number;
  id: string;
}

/**
 * The events of one person, as every analytics API assigns them (person-sql.ts): their own
 * `user_id`; anonymous events of the ids merged into them; and, for a person who is an
 * anonymous id that never merged, its anonymous events. Written as that condition rather than
 * as a join with a filter on the person, so ClickHouse reads one project's rows once.
 */
function personRowsSql(p: SqlParams, project: string, person: string, select: string): string {
  const at = p.bind(project, 'String');
  const who = p.bind(person, 'String');
  const map = identityMapSql(at);
  const merged = `SELECT anonymous_id FROM (${map}) WHERE merged_user = ${who}`;
  const anyMerged = `SELECT anonymous_id FROM (${map})`;
  return `SELECT ${select} FROM events AS e
    WHERE e.project = ${at} AND (e.user_id = ${who} OR (e.user_id = '' AND (
      e.anonymous_id IN (${merged})
      OR (e.anonymous_id = ${who} AND ${who} NOT IN (${anyMerged})))))`;
}

const timelineColumns = `e.id AS id, e.type AS type, toInt64(toUnixTimestamp64Milli(e.ts)) AS ts,
  e.user_id AS user_id, e.anonymous_id AS anonymous_id, e.session_id AS session_id, e.props AS props`;

function parseProps(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text; // stored props are JSON text; anything else is shown as it is
  }
}

/**
 * One person's profile on ClickHouse: who an id stands for, the anonymous ids merged into
 * them, their events per type, and their timeline newest first, a page at a time.
 *
 * @example
 * const persons = createPersonQuery(ch);
 * const person = await persons.resolve('dev', 'anon-3'); // 'user-3' once anon-3 logged in
 * await persons.timeline('dev', person, { limit: 50 });
 */
export function createPersonQuery(ch: ClickHouse) {
  return {
    /** The user an anonymous id merged into; any other id stands for itself. */
    async resolve(project: string, id: string): Promise<string> {
      const p = createSqlParams();
      const map = identityMapSql(p.bind(project, 'String'));
      const rows = await ch.query<{ merged_user: string }>(
        `SELECT merged_user FROM (${map}) WHERE anonymous_id = ${p.bind(id, 'String')}`,
        p.values,
      );
      return rows[0]?.merged_user || id;
    },

    /** The anonymous ids merged into `person`, the earliest merge first. */
    async identities(project: string, person: string): Promise<MergedIdentity[]> {
      const p = createSqlParams();
      const rows = await ch.query<{ anonymous_id: string; merged_ms: string | number }>(
        `SELECT anonymous_id, toInt64(toUnixTimestamp64Milli(first_merge)) AS merged_ms
         FROM (SELECT anonymous_id, argMinMerge(user_id) AS merged_user, min(merged_at) AS first_merge
               FROM identities WHERE project = ${p.bind(project, 'String')} GROUP BY anonymous_id)
         WHERE merged_user = ${p.bind(person, 'String')}
         ORDER BY merged_ms, anonymous_id`,
        p.values,
      );
      return rows.map((r) => ({ anonymousId: r.anonymous_id, mergedAt: Number(r.merged_ms) }));
    },

    /** The person's events per type, the most frequent first (ties by type). */
    async types(project: string, person: string): Promise<PersonTypeCount[]> {
      const p = createSqlParams();
      const rows = await ch.query<Record<string, string | number>>(
        `SELECT type, count() AS n, toInt64(min(ms)) AS first_ms, toInt64(max(ms)) AS last_ms,
           max(own) AS as_user
         FROM (${personRowsSql(p, project, person, `e.type AS type, toUnixTimestamp64Milli(e.ts) AS ms, e.user_id != '' AS own`)})
         GROUP BY type ORDER BY n DESC, type`,
        p.values,
      );
      return rows.map((r) => ({
        type: String(r.type),
        events: Number(r.n),
        firstMs: Number(r.first_ms),
        lastMs: Number(r.last_ms),
        asUser: Number(r.as_user) === 1,
      }));
    },

    /** A page of the person's events, newest first (ties by id, descending), before `before`. */
    async timeline(
      project: string,
      person: string,
      page: { limit: number; before?: TimelineCursor },
    ): Promise<TimelineEvent[]> {
      const p = createSqlParams();
      const rows = personRowsSql(p, project, person, timelineColumns);
      const before = page.before
        ? `WHERE (ts, id) < (${p.bind(page.before.ts, 'Int64')}, ${p.bind(page.before.id, 'String')})`
        : '';
      const found = await ch.query<Record<string, string | number>>(
        `SELECT * FROM (${rows}) ${before} ORDER BY ts DESC, id DESC LIMIT ${p.bind(page.limit, 'UInt64')}`,
        p.values,
      );
      return found.map((r) => ({
        id: String(r.id),
        type: String(r.type),
        ts: Number(r.ts),
        userId: String(r.user_id),
        anonymousId: String(r.anonymous_id),
        sessionId: String(r.session_id),
        props: parseProps(String(r.props)),
      }));
    },
  };
}

export type PersonQueryRunner = ReturnType<typeof createPersonQuery>;

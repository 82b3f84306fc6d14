import type { ClickHouse } from './clickhouse.js';
import { conditionSql, type FieldCondition } from './field-sql.js';

/** A segment audience with its condition values filled in from the firing. */
export interface Segment {
  /** Event types that count; absent: every type. */
  types?: readonly string[];
  where: readonly FieldCondition[];
  /** How far back an event counts. */
  sinceMs: number;
}

export interface SegmentPage {
  /** Users after this one in byte order: pages follow one another without OFFSET. */
  after: string;
  limit: number;
}

/**
 * The SQL for one page of a segment: users with a matching event in the last `sinceMs`.
 * The project filter is fixed text bound as a parameter, and the conditions go through the
 * same generator as the rollups (validated fields, quoted literals): no user text is spliced
 * in as SQL, so a segment can never read another project's events.
 *
 * @example
 * const { sql, params } = segmentSql('dev', { where: [], sinceMs: 86_400_000 }, Date.now(), { after: '', limit: 1000 });
 */
export function segmentSql(
  project: string,
  segment: Segment,
  nowMs: number,
  page: SegmentPage,
): { sql: string; params: Record<string, unknown> } {
  const where = [
    'project = {project:String}',
    "user_id != ''",
    'user_id > {after:String}',
    'ts >= fromUnixTimestamp64Milli({since:Int64})',
  ];
  if (segment.types) where.push('type IN {types:Array(String)}');
  for (const condition of segment.where) where.push(`(${conditionSql(condition)})`);
  return {
    sql: `SELECT user_id FROM events WHERE ${where.join(' AND ')}
      GROUP BY user_id ORDER BY user_id LIMIT {limit:UInt64}`,
    params: {
      project,
      after: page.after,
      since: Math.floor(nowMs - segment.sinceMs),
      limit: page.limit,
      ...(segment.types ? { types: segment.types } : {}),
    },
  };
}

/**
 * Segment audiences on ClickHouse's `events`, a page of users at a time.
 *
 * @example
 * const segments = createSegmentQuery(ch);
 * await segments.users('dev', segment, Date.now(), { after: '', limit: 10_000 }); // ['u1', 'u2']
 */
export function createSegmentQuery(ch: ClickHouse) {
  return {
    async users(
      project: string,
      segment: Segment,
      nowMs: number,
      page: SegmentPage,
    ): Promise<string[]> {
      const { sql, params } = segmentSql(project, segment, nowMs, page);
      const rows = await ch.query<{ user_id: string }>(sql, params);
      return rows.map((row) => row.user_id);
    },
  };
}

import { conditionSql } from '../pipeline/rollup-sql.js';
import type { Condition } from '../pipeline/stream-spec.js';
import { render, type Context } from './render.js';
import type { AudienceOf } from './rule-spec.js';

export interface SegmentPage {
  /** Users after this one in byte order: pages follow one another without OFFSET. */
  after: string;
  limit: number;
}

/** String values (and strings in `in` lists) may name the firing's context: `{{props.showId}}`. */
const renderCondition = (condition: Condition, context: Context): Condition => {
  const { value } = condition;
  if (typeof value === 'string') return { ...condition, value: render(value, context) };
  if (Array.isArray(value))
    return {
      ...condition,
      value: value.map((v: unknown) => (typeof v === 'string' ? render(v, context) : v)),
    };
  return condition;
};

/**
 * The SQL for one page of a segment: users with a matching event in the last `sinceMs`.
 * The project filter is fixed text bound as a parameter, and the conditions go through the
 * same generator as the rollups (validated fields, quoted literals): no user text is spliced
 * in as SQL, so a segment can never read another project's events.
 *
 * @example
 * const { sql, params } = segmentQuery('dev', audience, context, Date.now(), { after: '', limit: 1000 });
 * const rows = await ch.query<{ user_id: string }>(sql, params);
 */
export function segmentQuery(
  project: string,
  audience: AudienceOf<'segment'>,
  context: Context,
  nowMs: number,
  page: SegmentPage,
): { sql: string; params: Record<string, unknown> } {
  const where = [
    'project = {project:String}',
    "user_id != ''",
    'user_id > {after:String}',
    'ts >= fromUnixTimestamp64Milli({since:Int64})',
  ];
  if (audience.types) where.push('type IN {types:Array(String)}');
  for (const condition of audience.where)
    where.push(`(${conditionSql(renderCondition(condition, context))})`);
  return {
    sql: `SELECT user_id FROM events WHERE ${where.join(' AND ')}
      GROUP BY user_id ORDER BY user_id LIMIT {limit:UInt64}`,
    params: {
      project,
      after: page.after,
      since: Math.floor(nowMs - audience.sinceMs),
      limit: page.limit,
      ...(audience.types ? { types: audience.types } : {}),
    },
  };
}

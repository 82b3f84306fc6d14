import { personEventsSql } from './person-sql.js';
import { msParam, type SqlParams } from './sql-params.js';

const day = 86_400_000;

/** The churn model's features, in the order its weights come. */
export const churnFeatures = [
  'recencyDays',
  'events7d',
  'trend',
  'sessions',
  'notifications',
] as const;
export type ChurnFeature = (typeof churnFeatures)[number];

export interface ChurnScope {
  project: string;
  /** The features are as of this time (epoch ms). */
  atMs: number;
  /** Persons with an event in the `windowDays` before `atMs` are scored. */
  windowDays: number;
  /** Churned: no event in [atMs, atMs + horizonMs) (0 when scoring: no label). */
  horizonMs: number;
  notificationTypes: readonly string[];
}

/**
 * Per person active in the window: the churn features as of `atMs`, the label (no event in the
 * horizon after it), a split bucket (0–999 by a hash of the person, so a person stays on one
 * side of the evaluation split) and the raw counts the features come from:
 * - `recencyDays`: days since their last event;
 * - `events7d`: log(1 + events in the last 7 days);
 * - `trend`: `events7d` less log(1 + their weekly events in the weeks before): negative when
 *   they slow down;
 * - `sessions`: log(1 + sessions in the window);
 * - `notifications`: log(1 + notification engagement events in the window).
 */
export function churnRowsSql(p: SqlParams, s: ChurnScope): string {
  const fromMs = s.atMs - s.windowDays * day;
  const events = personEventsSql(p, { project: s.project, fromMs, toMs: s.atMs + s.horizonMs }, [
    'e.ts AS ts',
    'e.type AS type',
    'e.session_id AS session_id',
  ]);
  const at = msParam(p, s.atMs);
  const week = msParam(p, s.atMs - 7 * day);
  const weeksBefore = p.bind((s.windowDays - 7) / 7, 'Float64');
  const notify = p.bind(s.notificationTypes, 'Array(String)');
  const before = `ts < ${at}`;
  return `SELECT person, max(identified) AS identified, cityHash64(person) % 1000 AS bucket,
      (countIf(ts >= ${at}) = 0) AS churned,
      (${p.bind(s.atMs, 'Int64')} - toUnixTimestamp64Milli(maxIf(ts, ${before}))) / ${day} AS recencyDays,
      countIf(ts >= ${week} AND ${before}) AS rawEvents7d,
      countIf(ts < ${week}) AS rawEventsBefore,
      uniqExactIf(session_id, session_id != '' AND ${before}) AS rawSessions,
      countIf(type IN ${notify} AND ${before}) AS rawNotifications,
      log1p(rawEvents7d) AS events7d,
      log1p(rawEvents7d) - log1p(rawEventsBefore / ${weeksBefore}) AS trend,
      log1p(rawSessions) AS sessions,
      log1p(rawNotifications) AS notifications
    FROM (${events}) GROUP BY person HAVING countIf(${before}) > 0`;
}

/**
 * Logistic regression of `churned` on the standardized features, by ClickHouse's
 * `stochasticLogisticRegression` (mini-batch SGD with Adam) over `epochs` passes of the rows
 * whose bucket is at least `cut` (the rest are held out). One thread, so a run is repeatable.
 * Answers one row: `weights`, one per feature then the bias.
 */
export function churnTrainingSql(
  p: SqlParams,
  rowsSql: string,
  fit: { means: readonly number[]; scales: readonly number[]; cut: number; epochs: number },
): string {
  const z = churnFeatures.map(
    (f, k) => `(${f} - ${p.bind(fit.means[k], 'Float64')}) / ${p.bind(fit.scales[k], 'Float64')}`,
  );
  // Aggregate function parameters must be literals: these are constants of this file.
  const epochs = Math.max(1, Math.trunc(fit.epochs));
  return `SELECT stochasticLogisticRegression(0.05, 0.001, 16, 'Adam')(if(churned, 1, -1), ${z.join(', ')}) AS weights
    FROM numbers(${epochs}) AS n CROSS JOIN (${rowsSql}) AS r
    WHERE r.bucket >= ${p.bind(fit.cut, 'UInt32')}
    SETTINGS max_threads = 1`;
}

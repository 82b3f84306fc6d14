import { sendTimeSchema, type SendTimeSettings } from '../config/analytics-schema.js';
import { isBacklineError } from '../errors.js';
import type { Metrics } from '../ops/metrics.js';
import type { SendHourQueryRunner } from '../storage/analytics/send-hour-sql.js';
import { integer } from './query-params.js';

const hourMs = 3600_000;
const dayMs = 24 * hourMs;

export const defaultSendHoursOptions = {
  ...sendTimeSchema.parse({}),
  // User ids per query: each query reads the project's lookback once (on 3.3M events, 100,000
  // recipients took 7.3 s in batches of 5,000 and 3.4 s in batches of 20,000).
  batchSize: 5000,
  // Characters of a batch's ids (3 more each, as the bound array spells them): a ClickHouse
  // server takes a parameter up to http_max_field_value_size, 128 KiB by default.
  batchChars: 120_000,
};

export type SendHoursOptions = SendTimeSettings & { batchSize: number; batchChars: number };

/** Why a user got their hour: learned from their own activity, or the project's. */
export type SendHourBasis = 'own' | 'project';

export interface SendHour {
  /** UTC hour of day, 0–23. */
  hour: number;
  basis: SendHourBasis;
}

export interface BestHours {
  /** Every id asked for (once each). */
  users: Map<string, SendHour>;
  /** The project's hour: of its opens, else its activity, else `fallbackHour`. */
  projectHour: number;
}

export interface SendHoursDeps {
  queries: { sendHours: SendHourQueryRunner };
  metrics?: Pick<Metrics, 'analyticsQuerySeconds' | 'analyticsQueryFailures' | 'sendHours'>;
  now?: () => number;
}

/**
 * The next instant at or after `nowMs` inside the UTC hour `hourUtc`, `offsetMinutes` into it:
 * today's `hourUtc:offset` when that is still ahead; now when now is already inside that hour
 * (past the offset), so a send started at 20:10 for 20:00 goes at once instead of tomorrow;
 * else tomorrow's `hourUtc:offset`. A caller spreading a large send gives each recipient an
 * offset (spreadMinutes).
 *
 * @example
 * nextSendAt(20, Date.UTC(2026, 0, 5, 9), 0); // Date.UTC(2026, 0, 5, 20)
 * nextSendAt(8, Date.UTC(2026, 0, 5, 9), 0); // Date.UTC(2026, 0, 6, 8)
 */
export function nextSendAt(hourUtc: number, nowMs: number, offsetMinutes = 0): number {
  if (!Number.isInteger(hourUtc) || hourUtc < 0 || hourUtc > 23)
    throw new RangeError(`hourUtc must be an integer 0–23, not ${hourUtc}`);
  if (!(offsetMinutes >= 0 && offsetMinutes < 60))
    throw new RangeError(`offsetMinutes must be in [0, 60), not ${offsetMinutes}`);
  const start = Math.floor(nowMs / dayMs) * dayMs + hourUtc * hourMs;
  const at = start + Math.round(offsetMinutes * 60_000);
  if (nowMs <= at) return at;
  if (nowMs < start + hourMs) return nowMs;
  return at + dayMs;
}

/**
 * A stable offset in whole minutes, [0, spread), for `key` (a user id): the same user lands at
 * the same minute of their hour on every send, and a large send spreads evenly (FNV-1a).
 */
export function spreadMinutes(key: string, spread: number): number {
  if (spread <= 1) return 0;
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619) >>> 0;
  return h % Math.min(60, Math.floor(spread));
}

/**
 * Send-time optimisation (`sendAt: "best"`): each user's UTC hour learned from the hours of
 * their own past activity (events, and opens and clicks of notifications weighted up), the
 * project's best hour for users with too little of it. The model is in
 * src/storage/analytics/send-hour-sql.ts; the settings are `analytics.sendTime`.
 *
 * @example
 * const sendHours = createSendHours({ queries }, config.analytics.sendTime);
 * const { users, projectHour } = await sendHours.bestHours('dev', recipients, Date.now());
 * const at = nextSendAt(users.get('u1')!.hour, Date.now());
 */
export function createSendHours(deps: SendHoursDeps, options: Partial<SendHoursOptions> = {}) {
  const o: SendHoursOptions = { ...defaultSendHoursOptions, ...options };
  const { queries, metrics } = deps;
  const batchSize = Math.max(1, Math.floor(o.batchSize));

  async function bestHours(
    project: string,
    userIds: Iterable<string>,
    nowMs: number,
  ): Promise<BestHours> {
    const scope = { project, nowMs, model: o };
    const ids = [...new Set(userIds)];
    const projectHour = (await queries.sendHours.project(scope)) ?? o.fallbackHour;
    const learned = new Map<string, number>();
    // An empty id would match every anonymous event's empty user_id.
    const asked = ids.filter((id) => id !== '');
    for (const batch of batches(asked, batchSize, o.batchChars)) {
      const own = await queries.sendHours.users(scope, batch);
      for (const [user, hour] of own) learned.set(user, hour);
    }
    const users = new Map<string, SendHour>();
    for (const id of ids) {
      const hour = learned.get(id);
      users.set(
        id,
        hour === undefined ? { hour: projectHour, basis: 'project' } : { hour, basis: 'own' },
      );
    }
    metrics?.sendHours.inc({ basis: 'own' }, learned.size);
    metrics?.sendHours.inc({ basis: 'project' }, ids.length - learned.size);
    return { users, projectHour };
  }

  /** One user's hour as `GET /v1/users/:id/send-hour?at` answers it; `at` (epoch ms): now. */
  async function userHour(project: string, userId: string, query: URLSearchParams) {
    const at = integer(query, 'at', { min: 0, max: 8.64e15 }, (deps.now ?? Date.now)());
    const { users, projectHour } = await bestHours(project, [userId], at);
    const { hour, basis } = users.get(userId)!;
    return { userId, at, hour, basis, projectHour, nextSendAt: nextSendAt(hour, at) };
  }

  return {
    bestHours: timed(metrics, bestHours),
    userHour: timed(metrics, userHour),
    nextSendAt,
    spreadMinutes,
  };
}

/** `ids` in order, in batches of at most `size` ids and `chars` characters (one id at least). */
function* batches(ids: readonly string[], size: number, chars: number): Generator<string[]> {
  let batch: string[] = [];
  let length = 0;
  for (const id of ids) {
    if (batch.length > 0 && (batch.length === size || length + id.length + 3 > chars)) {
      yield batch;
      [batch, length] = [[], 0];
    }
    batch.push(id);
    length += id.length + 3;
  }
  if (batch.length > 0) yield batch;
}

/** Times a call in `backline_analytics_query_seconds{api="send_hours"}`, counts its failures. */
function timed<A extends unknown[], R>(
  metrics: SendHoursDeps['metrics'],
  run: (...args: A) => Promise<R>,
) {
  return async (...args: A): Promise<R> => {
    const started = performance.now();
    try {
      return await run(...args);
    } catch (err) {
      const reason = isBacklineError(err) ? err.code : 'storage';
      metrics?.analyticsQueryFailures.inc({ api: 'send_hours', reason });
      throw err;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      metrics?.analyticsQuerySeconds.observe({ api: 'send_hours' }, seconds);
    }
  };
}

export type SendHours = ReturnType<typeof createSendHours>;

import { randomBytes } from 'node:crypto';
import type { Service } from '../ops/lifecycle.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { ClickHouse } from './clickhouse.js';
import { actorDaysTable, actorDaysUpto, rollActorDays } from './actor-days.js';
import { lastBlock } from './event-blocks.js';
import { stageSql, stages, unstageSql, type RollTarget } from './rollup-round.js';
import { markerKey, rollupParts, rollupPrefix, type RollupComment } from './rollup-sql.js';
import type { RollupTurns } from './rollup-turns.js';

export const defaultRollerOptions = {
  intervalMs: 2000, // shortest wait between two rounds of rolls
  // Shortest wait between two rolls of `actor_days`: its readers read the blocks after its
  // marker from `events` anyway, so rolling less often costs them a longer tail, not answers.
  activityIntervalMs: 10_000,
  // Most of the time rounds may take: after a round of d ms the next waits d / busyShare, so
  // under load (100 streams are 100 inserts a round) rolls give way to the events' inserts.
  busyShare: 0.2,
};

export interface RollupRoller extends Service {
  /** One round now, after the running one (tests, and the rollup bench). */
  rollNow(): Promise<void>;
}

// The tables rollupTable() names (`rollup_<stream>_<16 hex>`): not the older layout's views
// (`…_mv`) nor tables of an older naming.
const tablePattern = `^${rollupPrefix}.*_[0-9a-f]{16}$`;
const stagePrefix = 'roll_stage_';

/**
 * Brings every rollup table, and `actor_days` (actor-days.ts), up to the newest `events` block,
 * off the insert path: each round appends, per table, the states of the blocks after its marker
 * with the new marker, in one part (rollup-round.ts), so a crash leaves each table before or
 * after a roll, never between. Inserts into `events` run no view, whatever the number of
 * streams: a view is planned and run on every insert (17 ms each under load, 100 streams made
 * each ack wait ~1.7 s), while a round costs the same whatever the insert rate. Queries read
 * the tail the roller has not reached (rollup-store.ts), so rollups stay exact. Tables come
 * from `system.tables`, each with its definition in its comment: any node may roll what another
 * created.
 *
 * @example
 * const roller = createRollupRoller({ ch, turns, metrics, log });
 * await roller.start(); // rounds every 2 s; roller.stop() ends them
 */
export function createRollupRoller(
  deps: { ch: ClickHouse; turns: RollupTurns; metrics: Metrics; log: Logger },
  options: Partial<typeof defaultRollerOptions> = {},
): RollupRoller {
  const opts = { ...defaultRollerOptions, ...options };
  const { ch, turns, metrics, log } = deps;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let halted = false;

  /** The tables whose marker is below block `upto`, with what their comments say. */
  async function targets(upto: number): Promise<RollTarget[]> {
    const tables = await ch.query<{ name: string; comment: string }>(
      `SELECT name, comment FROM system.tables
       WHERE database = currentDatabase() AND match(name, '${tablePattern}') AND engine = 'AggregatingMergeTree'`,
    );
    if (tables.length === 0) return [];
    const markers = await ch.query<{ name: string; upto: string }>(
      `SELECT _table AS name, toString(max(upto)) AS upto
       FROM merge(currentDatabase(), '${tablePattern}') WHERE key = ${markerKey} GROUP BY name`,
    );
    const after = new Map(markers.map((row) => [row.name, Number(row.upto)]));
    const behind = tables.flatMap(({ name, comment }) => {
      const from = after.get(name);
      const described = describedBy(comment);
      // No marker: being backfilled, or left by a crash (the next start fills it again).
      if (from === undefined || from >= upto || !described) return [];
      const { project, spec } = described;
      return [{ parts: rollupParts(project, spec), after: from, project }];
    });
    return behind;
  }

  async function unstage(stage: string, chunk: RollTarget[], t: number, upto: number) {
    const { table } = chunk[t]!.parts;
    try {
      await turns.take(table, async () => {
        const known = turns.marks.get(table);
        // Another round of this process, or a drop and a new backfill, moved it on since.
        if (known !== undefined && known !== chunk[t]!.after) return;
        await ch.exec(unstageSql(stage, chunk, t, upto));
        turns.marks.set(table, upto);
      });
    } catch (err) {
      // Dropped since the round listed it (its stream was deleted or redefined).
      if (/UNKNOWN_TABLE|doesn't exist/i.test(String(err))) return;
      metrics.rollupFailures.inc({ reason: 'roll' });
      log.warn({ err, table }, 'rollup roll failed; the next round retries it');
    }
  }

  let activityRolledAt = -Infinity;

  /** The persons' active days (actor-days.ts): one insert for every project. */
  async function rollActivity(upto: number, forced: boolean) {
    if (!forced && performance.now() - activityRolledAt < opts.activityIntervalMs) return;
    activityRolledAt = performance.now();
    const after = await actorDaysUpto(ch);
    if (after >= upto) return;
    try {
      await rollActorDays(ch, after, upto);
    } catch (err) {
      metrics.rollupFailures.inc({ reason: 'roll' });
      log.warn({ err, table: actorDaysTable }, 'rollup roll failed; the next round retries it');
    }
  }

  async function round(forced = false): Promise<void> {
    const upto = await lastBlock(ch);
    if (upto === 0) return;
    await rollStreams(upto, await targets(upto));
    if (!halted) await rollActivity(upto, forced);
  }

  async function rollStreams(upto: number, behind: RollTarget[]): Promise<void> {
    for (const chunk of stages(behind)) {
      if (halted) return;
      const stage = `${stagePrefix}${randomBytes(6).toString('hex')}`;
      await ch.exec(stageSql(stage, chunk, upto));
      try {
        for (let t = 0; t < chunk.length; t++) await unstage(stage, chunk, t, upto);
      } finally {
        await ch.exec(`DROP TABLE IF EXISTS ${stage}`);
      }
    }
  }

  const timed = async (forced = false) => {
    const started = performance.now();
    try {
      await round(forced);
    } catch (err) {
      metrics.rollupFailures.inc({ reason: 'round' });
      log.warn({ err }, 'rollup round failed; the next one retries');
    }
    const seconds = (performance.now() - started) / 1000;
    metrics.rollupSeconds.observe(seconds);
    return seconds * 1000;
  };

  const next = (waitMs: number) => {
    if (halted) return;
    timer = setTimeout(() => {
      running = timed().then((tookMs) =>
        next(Math.max(opts.intervalMs, tookMs / opts.busyShare - tookMs)),
      );
    }, waitMs);
  };

  return {
    name: 'rollup-roller',
    async start() {
      halted = false;
      // Stages are Memory tables: a crash mid-round leaves their definitions.
      const left = await ch.query<{ name: string }>(
        `SELECT name FROM system.tables WHERE database = currentDatabase() AND startsWith(name, '${stagePrefix}')`,
      );
      for (const { name } of left) await ch.exec(`DROP TABLE IF EXISTS ${name}`);
      // A first round at once: what the last run stored reaches the tables.
      next(0);
    },
    async stop() {
      halted = true;
      clearTimeout(timer);
      await running;
    },
    async rollNow() {
      await running;
      await timed(true);
    },
  };
}

/** A table's comment as rollup-sql.ts wrote it; undefined for an older table not yet taken over. */
function describedBy(comment: string): RollupComment | undefined {
  try {
    const described = JSON.parse(comment) as RollupComment;
    return typeof described.project === 'string' && Array.isArray(described.spec?.functions)
      ? described
      : undefined;
  } catch {
    return undefined;
  }
}

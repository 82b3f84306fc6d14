import type { SerialQueue } from '../lib/serial-queue.js';
import type { Service } from '../ops/lifecycle.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { ClickHouse } from './clickhouse.js';
import { lastBlock } from './event-blocks.js';
import { markerKey, rollupPrefix, rollupSql, type RollupComment } from './rollup-sql.js';

export const defaultRollerOptions = {
  intervalMs: 2000, // shortest wait between two rounds of rolls
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

/**
 * Brings every rollup table up to the newest `events` block, off the insert path: each round
 * appends, per table, the states of the blocks after its marker with the new marker, in one
 * part (rollup-sql.ts), so a crash leaves each table before or after a roll, never between.
 * Inserts into `events` run no view, whatever the number of streams: a view is planned and
 * run on every insert (17 ms each under load, 100 streams made each ack wait ~1.7 s), while a
 * round costs the same whatever the insert rate. Queries read the tail the roller has not
 * reached (rollup-store.ts), so rollups stay exact. Tables come from `system.tables`, each
 * with its definition in its comment: any node may roll what another created.
 *
 * @example
 * const roller = createRollupRoller({ ch, turns, metrics, log });
 * await roller.start(); // rounds every 2 s; roller.stop() ends them
 */
export function createRollupRoller(
  deps: { ch: ClickHouse; turns: SerialQueue; metrics: Metrics; log: Logger },
  options: Partial<typeof defaultRollerOptions> = {},
): RollupRoller {
  const opts = { ...defaultRollerOptions, ...options };
  const { ch, turns, metrics, log } = deps;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let halted = false;

  async function rollTable(name: string, comment: string, after: number, upto: number) {
    let described: RollupComment;
    try {
      described = JSON.parse(comment) as RollupComment;
    } catch {
      return; // a table of the older layout before its first start with this code
    }
    const sql = rollupSql(described.project, described.spec);
    try {
      await turns.push(name, () => ch.exec(sql.roll(after, upto)));
    } catch (err) {
      // Dropped since the round listed it (its stream was deleted or redefined).
      if (/UNKNOWN_TABLE|doesn't exist/i.test(String(err))) return;
      metrics.rollupFailures.inc({ reason: 'roll' });
      log.warn({ err, table: name }, 'rollup roll failed; the next round retries it');
    }
  }

  async function round(): Promise<void> {
    const tables = await ch.query<{ name: string; comment: string }>(
      `SELECT name, comment FROM system.tables
       WHERE database = currentDatabase() AND match(name, '${tablePattern}') AND engine = 'AggregatingMergeTree'`,
    );
    if (tables.length === 0) return;
    const upto = await lastBlock(ch);
    const markers = await ch.query<{ name: string; upto: string }>(
      `SELECT _table AS name, toString(max(upto)) AS upto
       FROM merge(currentDatabase(), '${tablePattern}') WHERE key = ${markerKey} GROUP BY name`,
    );
    const after = new Map(markers.map((row) => [row.name, Number(row.upto)]));
    for (const { name, comment } of tables) {
      const from = after.get(name);
      // No marker: being backfilled, or left by a crash (the next start fills it again).
      if (halted || from === undefined || from >= upto) continue;
      await rollTable(name, comment, from, upto);
    }
  }

  const timed = async () => {
    const started = performance.now();
    try {
      await round();
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
      await timed();
    },
  };
}

import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';

/**
 * Why rows were lost: no spool configured (`maxSpoolBytes: 0`), spool at `maxSpoolBytes`,
 * spool write failed, or a fire-and-forget writer's memory bound (`maxBufferedRows`) reached.
 */
export type LossReason = 'no_spool' | 'spool_full' | 'spool_error' | 'buffer_full';

export const defaultRowLossOptions = {
  logIntervalMs: 10_000, // at most one loss line per table per interval; rows in between are summed
};

/**
 * Counts rows a batch writer could not make durable in
 * `backline_storage_rows_lost_total{table, reason}` and logs them as errors with the table
 * and the count. Losses can come one row per call (a full decision buffer), so lines are
 * spaced out: rows lost in between are summed into one line at the end of the interval.
 *
 * @example
 * const loss = createRowLoss({ table: 'events', metrics, log });
 * loss.lost(500, 'spool_full', err);
 */
export function createRowLoss(
  deps: { table: string; metrics: Metrics; log: Logger },
  options: Partial<typeof defaultRowLossOptions> = {},
) {
  const { table, metrics, log } = deps;
  const opts = { ...defaultRowLossOptions, ...options };
  let unreported = new Map<LossReason, number>();
  let lastLogAt = -Infinity;
  let timer: NodeJS.Timeout | undefined;

  const flush = (err?: unknown) => {
    clearTimeout(timer);
    timer = undefined;
    if (unreported.size === 0) return;
    const rows = Object.fromEntries(unreported);
    unreported = new Map();
    lastLogAt = performance.now();
    log.error({ err, table, rows }, 'rows lost: neither ClickHouse nor the spool took them');
  };

  return {
    lost(rows: number, reason: LossReason, err?: unknown): void {
      if (rows <= 0) return;
      metrics.rowsLost.inc({ table, reason }, rows);
      unreported.set(reason, (unreported.get(reason) ?? 0) + rows);
      const waitMs = lastLogAt + opts.logIntervalMs - performance.now();
      if (waitMs <= 0) flush(err);
      else timer ??= setTimeout(flush, waitMs).unref();
    },
    /** Logs rows lost since the last line now (at shutdown). */
    flush: () => flush(),
  };
}

export type RowLoss = ReturnType<typeof createRowLoss>;

import type { Logger } from '../../ops/logger.js';
import type { Metrics } from '../../ops/metrics.js';
import type { Service } from '../../ops/lifecycle.js';
import type { AutoMaterializeSettings } from '../../config/analytics-schema.js';
import type { ClickHouse } from '../clickhouse.js';
import { addPropColumn, propColumns, storedPropColumns } from './materialized-props.js';

/** Fields longer than this are never made columns (a column name carries the path). */
const maxFieldLength = 120;
/** Fields whose slow reads are counted at once, at most (the oldest is forgotten first). */
const maxCounted = 1000;

/**
 * The prop columns of `events` the analytics queries read, kept up to date: those listed in
 * `analytics.materializedProps` (made at start by the storage service), and those made here
 * automatically, as PostHog's auto-materialization does: a `props.…` field that queries read
 * out of the JSON text `slowQueries` times within `windowMs`, each taking `slowMs` or more,
 * becomes a column (materialized-props.ts `addPropColumn`: the column is read at once, a
 * background mutation writes it into the stored parts), up to `maxColumns` of them. Every
 * `refreshMs` the node reads the columns `events` has (another node of the cluster may have
 * made one) and the mutations still writing them, for `/metrics`.
 *
 * @example
 * const props = createPropColumns({ ch, listed: ['props.artistId'], settings, metrics, log });
 * createAnalyticsQueries(ch, { columns: props.columns, onJsonRead: props.onJsonRead });
 */
export function createPropColumns(deps: {
  ch: ClickHouse;
  listed: readonly string[];
  settings: AutoMaterializeSettings;
  metrics: Metrics;
  log: Logger;
  now?: () => number;
}): Service & {
  readonly columns: ReadonlyMap<string, string>;
  onJsonRead(fields: ReadonlySet<string>, ms: number): void;
  /** Reads the columns and the running mutations now. */
  refresh(): Promise<void>;
  /** Resolves once the columns asked for so far are made (tests). */
  settled(): Promise<void>;
} {
  const { ch, settings, metrics, log } = deps;
  const now = deps.now ?? Date.now;
  const columns = new Map(propColumns(deps.listed));
  const listed = new Set(columns.keys());
  /** Times of each field's slow reads within the window. */
  const slowReads = new Map<string, number[]>();
  /** Fields being made, and those ClickHouse refused (not asked again by this process). */
  const making = new Set<string>();
  const refused = new Set<string>();
  let queue: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  // The listed fields are columns from the start and stay: the rest were made automatically.
  const autoCount = () => columns.size - listed.size;

  async function refresh(): Promise<void> {
    for (const [field, column] of await storedPropColumns(ch)) columns.set(field, column);
    const running = await ch.query<{ command: string }>(
      `SELECT command FROM system.mutations
       WHERE database = currentDatabase() AND table = 'events' AND NOT is_done`,
    );
    const counts = { listed: { ready: 0, materializing: 0 }, auto: { ready: 0, materializing: 0 } };
    for (const [field, column] of columns) {
      const busy = running.some((m) => m.command.includes(column));
      counts[listed.has(field) ? 'listed' : 'auto'][busy ? 'materializing' : 'ready']++;
    }
    for (const [source, states] of Object.entries(counts))
      for (const [state, n] of Object.entries(states))
        metrics.propColumns.set({ source, state }, n);
  }

  async function make(field: string): Promise<void> {
    try {
      columns.set(field, await addPropColumn(ch, field));
      metrics.propColumnsMade.inc({ outcome: 'made' });
      log.info({ field, column: columns.get(field) }, 'prop made a column of events');
      await refresh();
    } catch (err) {
      refused.add(field);
      metrics.propColumnsMade.inc({ outcome: 'failed' });
      log.warn({ err, field }, 'prop not made a column of events');
    } finally {
      making.delete(field);
    }
  }

  function countSlowRead(field: string, at: number): void {
    const times = (slowReads.get(field) ?? []).filter((t) => t > at - settings.windowMs);
    times.push(at);
    slowReads.delete(field);
    if (times.length < settings.slowQueries) {
      slowReads.set(field, times);
      if (slowReads.size > maxCounted) slowReads.delete(slowReads.keys().next().value!);
      return;
    }
    if (autoCount() + making.size >= settings.maxColumns) return;
    making.add(field);
    queue = queue.then(() => make(field));
  }

  return {
    name: 'prop-columns',
    columns,
    onJsonRead(fields, ms) {
      if (!settings.enabled || ms < settings.slowMs) return;
      const at = now();
      for (const field of fields) {
        const known = columns.has(field) || making.has(field) || refused.has(field);
        if (!known && field.length <= maxFieldLength) countSlowRead(field, at);
      }
    },
    refresh,
    settled: () => queue,
    async start() {
      // A cluster node may start before the node that owns ClickHouse answers: the next
      // refresh finds the columns then.
      const tryRefresh = () =>
        refresh().catch((err: unknown) => log.warn({ err }, 'prop columns not read'));
      await tryRefresh();
      timer = setInterval(() => void tryRefresh(), settings.refreshMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await queue;
    },
  };
}

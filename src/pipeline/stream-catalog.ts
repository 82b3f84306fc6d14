import { publishOn } from '../cluster/bus-channels.js';
import type { Bus } from '../cluster/bus.js';
import type { SavedIn } from '../state/definition-store.js';
import { openSavedDefinitions } from '../state/saved-definitions.js';
import { BacklineError } from '../errors.js';
import type { Logger } from '../ops/logger.js';
import type { WindowStore } from '../storage/window-store.js';
import type { PipelineService } from './pipeline-service.js';
import type { RollupFunction } from '../storage/rollup-sql.js';
import type { RollupBucket, StoredRollupRow } from '../storage/rollup-store.js';
import { fromRollup, rollupFunctionOf } from './aggregates/index.js';
import { streamSpecSchema, type StreamSpec } from './stream-spec.js';
import type { WindowResult } from '../model/window-result.js';
import type { WindowCache } from './window-cache.js';

/** A stream's definition with the ClickHouse function of each aggregate, from the registry. */
type Rollup = StreamSpec & { functions: RollupFunction[] };

/** What the catalog needs of the rollups (storage/rollup-store.ts keeps them in ClickHouse). */
export interface RollupStore {
  ensure(project: string, rollup: Rollup): Promise<void>;
  drop(project: string, spec: StreamSpec): Promise<void>;
  retire(project: string, old: StreamSpec, next: StreamSpec): Promise<void>;
  /** Drops the rollups no stream of `owned` uses; answers their names. */
  sweep(owned: ReadonlyArray<readonly [project: string, spec: StreamSpec]>): Promise<string[]>;
  query(
    project: string,
    rollup: Rollup,
    fromMs: number,
    toMs: number,
    bucket: RollupBucket,
    key?: string,
  ): Promise<StoredRollupRow[]>;
}

export interface RollupRow {
  start: number;
  key: string;
  values: Record<string, unknown>;
}

const rollupOf = (spec: StreamSpec): Rollup => ({
  ...spec,
  functions: spec.aggregates.map(rollupFunctionOf),
});

/**
 * The streams of each project as dashboards and the admin API see them: configuration plus
 * what the admin API defined or deleted (kept in `<dataDir>/streams.json`, so a restart
 * keeps it), snapshots from the recent-window cache and open windows, and history from
 * ClickHouse joined with the still-open windows.
 */
export function createStreamCatalog(
  deps: {
    pipeline: PipelineService;
    /** Where a definition changed through the API is announced (channel `definitions`). */
    bus: Bus;
    cache: WindowCache;
    store: WindowStore;
    rollups: RollupStore;
    log: Logger;
  } & SavedIn<StreamSpec>,
) {
  const { pipeline, cache, store, rollups, log } = deps;
  const announce = (project: string, name: string) =>
    publishOn(deps.bus, 'definitions', { project, kind: 'stream', name });
  const saved =
    'saved' in deps ? deps.saved : openSavedDefinitions(deps.file, streamSpecSchema, 'BAD_STREAM');
  // Changes run one after another: two at once would each read the same old definition,
  // and one of the new rollups would be left with no stream.
  let changes: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(change: () => Promise<T>): Promise<T> => {
    const done = changes.then(change);
    changes = done.catch(() => undefined);
    return done;
  };
  // The change is made and saved by then: a rollup left behind is dropped at the next start.
  const dropOld = (drop: Promise<void>, project: string, stream: string) =>
    drop.catch((err: unknown) =>
      log.warn({ err, project, stream }, 'old rollup not dropped; the next start drops it'),
    );

  /** Latest revision per window wins when stored and open results overlap. */
  const merge = (lists: WindowResult[][]): WindowResult[] => {
    const byWindow = new Map<string, WindowResult>();
    for (const list of lists) {
      for (const w of list) {
        const id = `${w.start}\u0000${w.key}`;
        const seen = byWindow.get(id);
        if (!seen || w.rev >= seen.rev) byWindow.set(id, w);
      }
    }
    return [...byWindow.values()].sort((a, b) => a.start - b.start || (a.key < b.key ? -1 : 1));
  };

  return {
    /** Applies configuration plus saved overrides: call before the pipeline starts. */
    specsFor: (project: string, configured: readonly StreamSpec[]): StreamSpec[] =>
      saved.specsFor(project, configured),
    has: (project: string, stream: string) => pipeline.stream(project, stream) !== undefined,
    list: (project: string) => pipeline.streams(project),
    get: (project: string, stream: string) => pipeline.stream(project, stream),
    snapshot(project: string, stream: string, last: number, key?: string): WindowResult[] {
      const windows = merge([
        cache.recent(project, stream, last, key),
        pipeline.openWindows(project, stream, key),
      ]);
      const all = [...new Set(windows.map((w) => w.start))];
      // Not `slice(-last)`: for `last: 0` that is every start.
      const starts = all.slice(Math.max(0, all.length - last));
      const wanted = new Set(starts);
      return windows.filter((w) => wanted.has(w.start));
    },
    async history(
      project: string,
      stream: string,
      fromMs: number,
      toMs: number,
      key?: string,
    ): Promise<WindowResult[]> {
      const stored = await store.between(project, stream, fromMs, toMs, key);
      const open = pipeline
        .openWindows(project, stream, key)
        .filter((w) => w.start >= fromMs && w.start < toMs);
      return merge([stored.map((w) => ({ ...w, final: true })), open]);
    },
    /** Rolled-up history from the hourly aggregate states, for ranges longer than windows. */
    rollup(
      project: string,
      stream: string,
      fromMs: number,
      toMs: number,
      bucket: RollupBucket,
      key?: string,
    ): Promise<RollupRow[]> {
      const spec = pipeline.stream(project, stream);
      if (!spec) throw new BacklineError('UNKNOWN_STREAM');
      const rows = rollups.query(project, rollupOf(spec), fromMs, toMs, bucket, key);
      return rows.then((stored) =>
        stored.map((row) => ({
          ...row,
          values: Object.fromEntries(
            spec.aggregates.map((a, i) => [a.name, fromRollup(a, row.values[i])]),
          ),
        })),
      );
    },
    /**
     * Creates every running stream's rollup (idempotent), then drops the rollup tables and
     * views no stream owns: call once storage is migrated.
     */
    async ensureRollups(projects: readonly string[]): Promise<void> {
      const owned = projects.flatMap((project) =>
        pipeline.streams(project).map((spec) => [project, spec] as const),
      );
      for (const [project, spec] of owned) await rollups.ensure(project, rollupOf(spec));
      const dropped = await rollups.sweep(owned);
      if (dropped.length > 0) log.info({ dropped }, 'dropped rollups no stream owns');
    },
    /** The new rollup is filled before the stream switches to it; the old one goes after. */
    define: (project: string, name: string, raw: unknown): Promise<StreamSpec> =>
      inTurn(async () => {
        const spec = saved.parse(name, raw);
        const old = pipeline.stream(project, name);
        await rollups.ensure(project, rollupOf(spec));
        pipeline.define(project, spec);
        cache.forget(project, name);
        await saved.defined(project, spec);
        announce(project, name);
        if (old) await dropOld(rollups.retire(project, old, spec), project, name);
        return spec;
      }),
    remove: (project: string, name: string): Promise<boolean> =>
      inTurn(async () => {
        const spec = pipeline.stream(project, name);
        if (!spec || !pipeline.remove(project, name)) return false;
        cache.forget(project, name);
        await saved.removed(project, name);
        announce(project, name);
        await dropOld(rollups.drop(project, spec), project, name);
        return true;
      }),
  };
}

export type StreamCatalog = ReturnType<typeof createStreamCatalog>;

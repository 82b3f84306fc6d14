import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { BacklineError } from '../errors.js';
import type { WindowStore } from '../storage/window-store.js';
import type { PipelineService } from './pipeline-service.js';
import type { RollupBucket, RollupRow, Rollups } from './rollups.js';
import { streamSpecSchema, type StreamSpec } from './stream-spec.js';
import type { WindowResult } from './stream-event.js';
import type { WindowCache } from './window-cache.js';

/** API-made changes: a spec, or null for a stream from configuration that was deleted. */
type Overrides = Record<string, Record<string, StreamSpec | null>>;

/**
 * The streams of each project as dashboards and the admin API see them: configuration plus
 * what the admin API defined or deleted (kept in `<dataDir>/streams.json`, so a restart
 * keeps it), snapshots from the recent-window cache and open windows, and history from
 * ClickHouse joined with the still-open windows.
 */
export function createStreamCatalog(deps: {
  pipeline: PipelineService;
  cache: WindowCache;
  store: WindowStore;
  rollups: Rollups;
  file: string;
}) {
  const { pipeline, cache, store, rollups, file } = deps;
  const overrides = readOverrides(file);

  const save = () => {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify(overrides, null, 2));
    renameSync(`${file}.tmp`, file);
  };

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
    specsFor(project: string, configured: readonly StreamSpec[]): StreamSpec[] {
      const own = overrides[project] ?? {};
      const specs = configured.filter((spec) => !(spec.name in own));
      for (const spec of Object.values(own)) if (spec) specs.push(spec);
      return specs;
    },
    has: (project: string, stream: string) => pipeline.stream(project, stream) !== undefined,
    list: (project: string) => pipeline.streams(project),
    get: (project: string, stream: string) => pipeline.stream(project, stream),
    snapshot(project: string, stream: string, last: number, key?: string): WindowResult[] {
      const windows = merge([
        cache.recent(project, stream, last, key),
        pipeline.openWindows(project, stream, key),
      ]);
      const starts = [...new Set(windows.map((w) => w.start))].slice(-last);
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
      return rollups.query(project, spec, fromMs, toMs, bucket, key);
    },
    /** Creates every running stream's rollup (idempotent): call once storage is migrated. */
    async ensureRollups(projects: readonly string[]): Promise<void> {
      for (const project of projects)
        for (const spec of pipeline.streams(project)) await rollups.ensure(project, spec);
    },
    async define(project: string, name: string, raw: unknown): Promise<StreamSpec> {
      const parsed = streamSpecSchema.safeParse({ ...(raw as object), name });
      if (!parsed.success) {
        throw new BacklineError(
          'BAD_STREAM',
          parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        );
      }
      await rollups.ensure(project, parsed.data);
      pipeline.define(project, parsed.data);
      cache.forget(project, name);
      (overrides[project] ??= {})[name] = parsed.data;
      save();
      return parsed.data;
    },
    async remove(project: string, name: string): Promise<boolean> {
      const spec = pipeline.stream(project, name);
      if (!spec || !pipeline.remove(project, name)) return false;
      await rollups.drop(project, spec);
      cache.forget(project, name);
      (overrides[project] ??= {})[name] = null;
      save();
      return true;
    },
  };
}

export type StreamCatalog = ReturnType<typeof createStreamCatalog>;

function readOverrides(file: string): Overrides {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  const raw = JSON.parse(text) as Record<string, Record<string, unknown>>;
  const overrides: Overrides = {};
  for (const [project, streams] of Object.entries(raw)) {
    overrides[project] = {};
    for (const [name, spec] of Object.entries(streams)) {
      overrides[project]![name] = spec === null ? null : streamSpecSchema.parse(spec);
    }
  }
  return overrides;
}

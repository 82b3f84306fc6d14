import type { WindowSink } from './pipeline-service.js';
import type { WindowResult } from '../model/window-result.js';

export const defaultWindowCacheOptions = {
  maxWindowsPerStream: 10_000, // latest results kept per stream for subscribe snapshots
};

/**
 * The latest result of each recent window, per stream: what a dashboard gets as its
 * snapshot on subscribe. Bounded per stream; the least recently updated windows go first
 * (a tenth of the bound at a time).
 */
export function createWindowCache(options: Partial<typeof defaultWindowCacheOptions> = {}) {
  const { maxWindowsPerStream } = { ...defaultWindowCacheOptions, ...options };
  const streams = new Map<string, Map<string, WindowResult>>();

  const sink: WindowSink = {
    write(project, results) {
      let id = '';
      let windows: Map<string, WindowResult> | undefined;
      for (const result of results) {
        const streamId = `${project}\u0000${result.stream}`;
        if (windows === undefined || streamId !== id) {
          id = streamId;
          windows = streams.get(id);
          if (!windows) streams.set(id, (windows = new Map()));
        }
        const key = `${result.start}\u0000${result.key}`;
        const previous = windows.get(key);
        if (previous && previous.rev > result.rev) continue;
        windows.delete(key);
        windows.set(key, result);
        if (windows.size > maxWindowsPerStream) evict(windows);
      }
    },
  };

  /**
   * Results arrive roughly in window order and updates move to the back, so the first entries
   * are the least recently updated. They go a tenth of the bound at a time: a map's iterator
   * walks over the slots of deleted entries until the map is rehashed, so taking one first
   * entry per write grew slower with every write (15% of the main thread with 100,000 keys).
   */
  function evict(windows: Map<string, WindowResult>): void {
    let excess = windows.size - Math.floor(maxWindowsPerStream * 0.9);
    for (const key of windows.keys()) {
      if (excess-- <= 0) break;
      windows.delete(key);
    }
  }

  return {
    sink,
    /** Windows of the `last` most recent window starts, oldest first; one key only when given. */
    recent(project: string, stream: string, last: number, key?: string): WindowResult[] {
      const windows = [...(streams.get(`${project}\u0000${stream}`)?.values() ?? [])].filter(
        (w) => key === undefined || w.key === key,
      );
      const all = [...new Set(windows.map((w) => w.start))].sort((a, b) => a - b);
      const starts = all.slice(Math.max(0, all.length - last)); // `slice(-0)` would keep all
      const wanted = new Set(starts);
      return windows
        .filter((w) => wanted.has(w.start))
        .sort((a, b) => a.start - b.start || (a.key < b.key ? -1 : 1));
    },
    /** The latest result seen of one window: what a new partition owner adopts revs from. */
    latest(project: string, stream: string, key: string, start: number): WindowResult | undefined {
      return streams.get(`${project}\u0000${stream}`)?.get(`${start}\u0000${key}`);
    },
    forget(project: string, stream: string): void {
      streams.delete(`${project}\u0000${stream}`);
    },
  };
}

export type WindowCache = ReturnType<typeof createWindowCache>;

import type { Logger } from '../ops/logger.js';
import type { Service } from '../ops/lifecycle.js';
import type { MusicHistorySpec } from '../storage/analytics/music-history-sql.js';

export const defaultDemoHistoryOptions = {
  events: 300_000,
  persons: 3000,
  days: 90,
  idPrefix: 'hist-', // the seeded events' ids: `hist-0` … `hist-299999`
};

/** Where the history is stored (`createMusicHistoryStore` of src/storage/analytics). */
export interface HistoryStore {
  /** How many of the history's events are stored. */
  stored(spec: MusicHistorySpec): Promise<number>;
  clear(spec: MusicHistorySpec): Promise<void>;
  /** Stores every event of the history. */
  insert(spec: MusicHistorySpec): Promise<void>;
}

export interface DemoHistoryDeps {
  store: HistoryStore;
  project: string;
  now: () => number;
  log: Logger;
}

/**
 * The demo's past: 90 days of a live-music app's history (src/storage/analytics/
 * music-history-sql.ts) stored in the project's events when the demo starts, so the analytics
 * pages (trends, funnels, retention, trending, profiles) have something to show at once. Once
 * per data folder: a folder holding all of them is left alone; one holding a part (a crash
 * mid-seed) has that part deleted and is seeded again. The history ends at the first start,
 * and the live demo traffic carries on from there.
 *
 * @example
 * const history = createDemoHistory({ store: createMusicHistoryStore(ch), project: 'dev', now: Date.now, log });
 * await history.start(); // { seeded: true } the first time, false after
 */
export function createDemoHistory(deps: DemoHistoryDeps, options = defaultDemoHistoryOptions) {
  const { store, project } = deps;

  return {
    /** Seeds the history unless the folder holds it already; answers whether it seeded. */
    async seed(): Promise<{ seeded: boolean; events: number; ms: number }> {
      const began = performance.now();
      const spec: MusicHistorySpec = { ...options, project, endMs: deps.now() };
      const found = await store.stored(spec);
      if (found === options.events) return { seeded: false, events: found, ms: 0 };
      if (found > 0) await store.clear(spec);
      await store.insert(spec);
      const ms = Math.round(performance.now() - began);
      deps.log.info(
        { events: options.events, persons: options.persons, ms },
        'demo: history seeded',
      );
      return { seeded: true, events: await store.stored(spec), ms };
    },
  };
}

/** The seed as a service started before the live demo traffic. */
export function demoHistoryService(history: ReturnType<typeof createDemoHistory>): Service {
  return {
    name: 'demo-history',
    async start() {
      await history.seed();
    },
    async stop() {},
  };
}

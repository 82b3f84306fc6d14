import type { Logger } from '../ops/logger.js';
import type { Service } from '../ops/lifecycle.js';
import type { ClickHouse } from '../storage/clickhouse.js';
import {
  musicHistoryDays,
  musicHistorySql,
  type MusicHistorySpec,
} from '../storage/analytics/music-history-sql.js';

export const defaultDemoHistoryOptions = {
  events: 300_000,
  persons: 3000,
  days: 90,
  idPrefix: 'hist-', // the seeded events' ids: `hist-0` … `hist-299999`
};

export interface DemoHistoryDeps {
  ch: ClickHouse;
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
 * const history = createDemoHistory({ ch: stored.storage.ch, project: 'dev', now: Date.now, log });
 * await history.start(); // { seeded: true } the first time, false after
 */
export function createDemoHistory(deps: DemoHistoryDeps, options = defaultDemoHistoryOptions) {
  const { ch, project } = deps;
  const params = { project, prefix: options.idPrefix };
  const ours = `project = {project:String} AND startsWith(id, {prefix:String})`;

  async function stored(): Promise<number> {
    const [row] = await ch.query<{ n: string | number }>(
      `SELECT count() AS n FROM events WHERE ${ours}`,
      params,
    );
    return Number(row?.n ?? 0);
  }

  return {
    /** Seeds the history unless the folder holds it already; answers whether it seeded. */
    async seed(): Promise<{ seeded: boolean; events: number; ms: number }> {
      const began = performance.now();
      const found = await stored();
      if (found === options.events) return { seeded: false, events: found, ms: 0 };
      if (found > 0) await ch.exec(`DELETE FROM events WHERE ${ours}`, params);
      const spec: MusicHistorySpec = { ...options, project, endMs: deps.now() };
      const days = musicHistoryDays(spec);
      for (let d = 0; d < days.length; d++) await ch.exec(musicHistorySql(spec, d));
      const ms = Math.round(performance.now() - began);
      deps.log.info(
        { events: options.events, persons: options.persons, ms },
        'demo: history seeded',
      );
      return { seeded: true, events: await stored(), ms };
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

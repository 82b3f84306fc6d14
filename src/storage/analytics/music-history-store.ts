import type { ClickHouse } from '../clickhouse.js';
import { musicHistoryDays, musicHistorySql, type MusicHistorySpec } from './music-history-sql.js';

/**
 * The seeded live-music history's rows in `events` (the demo's past): how many are stored,
 * removing them, and storing one day of them (music-history-sql.ts). The seeded events are
 * the project's whose ids start with `spec.idPrefix`.
 *
 * @example
 * const history = createMusicHistoryStore(ch);
 * for (let d = 0; d < history.days(spec); d++) await history.insertDay(spec, d);
 */
export function createMusicHistoryStore(ch: ClickHouse) {
  const ours = `project = {project:String} AND startsWith(id, {prefix:String})`;
  const params = (spec: MusicHistorySpec) => ({ project: spec.project, prefix: spec.idPrefix });
  return {
    async stored(spec: MusicHistorySpec): Promise<number> {
      const [row] = await ch.query<{ n: string | number }>(
        `SELECT count() AS n FROM events WHERE ${ours}`,
        params(spec),
      );
      return Number(row?.n ?? 0);
    },
    async clear(spec: MusicHistorySpec): Promise<void> {
      await ch.exec(`DELETE FROM events WHERE ${ours}`, params(spec));
    },
    days: (spec: MusicHistorySpec): number => musicHistoryDays(spec).length,
    async insertDay(spec: MusicHistorySpec, day: number): Promise<void> {
      await ch.exec(musicHistorySql(spec, day));
    },
  };
}

export type MusicHistoryStore = ReturnType<typeof createMusicHistoryStore>;

import type { ClickHouse } from '../clickhouse.js';
import { musicHistoryDays, musicHistorySql, type MusicHistorySpec } from './music-history-sql.js';

/**
 * The seeded live-music history's rows in `events` (the demo's past, the analytics bench's
 * seed): how many are stored, removing them, and storing them, one insert per day
 * (music-history-sql.ts). The seeded events are the project's whose ids start with
 * `spec.idPrefix`.
 *
 * @example
 * const history = createMusicHistoryStore(ch);
 * await history.insert(spec);
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
    /** Every day of the history, one insert (and one part) per day, oldest first. */
    async insert(spec: MusicHistorySpec): Promise<void> {
      const days = musicHistoryDays(spec).length;
      for (let d = 0; d < days; d++) await ch.exec(musicHistorySql(spec, d));
    },
  };
}

export type MusicHistoryStore = ReturnType<typeof createMusicHistoryStore>;

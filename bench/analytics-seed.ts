/**
 * The analytics scenario's seed: a live-music history (src/storage/analytics/
 * music-history-sql.ts, the generator the demo uses too) stored in a server's data folder
 * before the server starts, one UTC day per insert, through the same materialized views as
 * ingest (identities). Prints one JSON line (AnalyticsSeedResult); run by seed-process.ts.
 *
 * Run: `node --import tsx bench/analytics-seed.ts <data folder> <events> <persons> <days> <end ms>`
 */
import type { ClickHouse } from '../src/storage/clickhouse.js';
import type { MusicHistorySpec } from '../src/storage/analytics/music-history-sql.js';
import { createMusicHistoryStore } from '../src/storage/analytics/music-history-store.js';
import { identityMapSql, personSql } from '../src/storage/analytics/person-sql.js';
import { materializeProps } from '../src/storage/analytics/materialized-props.js';
import { benchMaterializedProps } from './analytics-routes.js';
import { eventParts, seedMain } from './seed-process.js';
import { benchProjectId } from './server-process.js';

/** What the seed stored and how long it took (outside every measured figure). */
export interface AnalyticsSeedResult {
  events: number;
  /** Persons as the APIs count them: users, and anonymous ids that never merged. */
  persons: number;
  /** Anonymous ids merged into a user. */
  merges: number;
  eventParts: number;
  seconds: number;
  /** Making `materializedProps` columns of the stored events (a background mutation, awaited). */
  materializeSeconds: number;
}

/** Materializes the columns of the stored events now, as the server would in the background. */
async function materialize(ch: ClickHouse): Promise<number> {
  const began = performance.now();
  await materializeProps(ch, benchMaterializedProps);
  for (;;) {
    const [running] = await ch.query<{ n: string }>(
      `SELECT toString(count()) AS n FROM system.mutations WHERE table = 'events' AND NOT is_done`,
    );
    if (Number(running?.n ?? 0) === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return (performance.now() - began) / 1000;
}

async function seed(ch: ClickHouse, spec: MusicHistorySpec): Promise<AnalyticsSeedResult> {
  const began = performance.now();
  await createMusicHistoryStore(ch).insert(spec);
  const seconds = (performance.now() - began) / 1000;
  const materializeSeconds = await materialize(ch);
  const params = { project: spec.project };
  const [merges] = await ch.query<{ n: string }>(
    `SELECT toString(uniqExact(anonymous_id)) AS n FROM identities WHERE project = {project:String}`,
    params,
  );
  const [counts] = await ch.query<{ events: string; persons: string }>(
    `SELECT toString(count()) AS events, toString(uniqExact(${personSql})) AS persons
     FROM events AS e LEFT ANY JOIN (${identityMapSql('{project:String}')}) AS i
       ON i.anonymous_id = e.anonymous_id
     WHERE e.project = {project:String}`,
    params,
  );
  return {
    events: Number(counts?.events ?? 0),
    persons: Number(counts?.persons ?? 0),
    merges: Number(merges?.n ?? 0),
    eventParts: await eventParts(ch),
    seconds,
    materializeSeconds,
  };
}

seedMain(['events', 'persons', 'days', 'end ms'], (ch, [events, persons, days, endMs]) =>
  seed(ch, {
    project: benchProjectId,
    events: events!,
    persons: persons!,
    days: days!,
    endMs: endMs!,
    idPrefix: 'h',
  }),
);

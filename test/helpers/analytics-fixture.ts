import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAnalytics } from '../../src/analytics/analytics-service.js';
import { createCohortCatalog } from '../../src/analytics/cohort-catalog.js';
import type { EventRow } from '../../src/model/event.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { createAnalyticsQueries } from '../../src/storage/analytics/analytics-queries.js';
import { openChdb } from '../../src/storage/chdb-client.js';
import { rollActorDays } from '../../src/storage/actor-days.js';
import { lastBlock } from '../../src/storage/event-blocks.js';
import { migrate } from '../../src/storage/migrate.js';
import { dayMs, generateAnalyticsData } from './analytics-data.js';

/** A Monday, so day and week buckets both start at t0. */
export const t0 = Date.UTC(2026, 0, 5);
export const days = 28;

/**
 * A real embedded ClickHouse holding the seeded data set of project `shop` (and another
 * project's, which no answer may include), inserted in shuffled batches, with the analytics
 * service over it.
 */
export async function openAnalyticsFixture(seed = 7) {
  const dir = mkdtempSync(join(tmpdir(), 'backline-analytics-'));
  const ch = openChdb(join(dir, 'clickhouse'));
  await migrate(ch);
  const shop = generateAnalyticsData({
    seed,
    project: 'shop',
    t0,
    days,
    users: 150,
    anonymous: 40,
  });
  const other = generateAnalyticsData({
    seed: seed + 1,
    project: 'other',
    t0,
    days,
    users: 30,
    anonymous: 5,
  });
  const rows: EventRow[] = [...shop.rows, ...other.rows];
  // Arrival order is not event order: merges must not depend on which insert came first.
  const shuffled = [...rows].sort((a, b) => (hash(a.id) % 1000) - (hash(b.id) % 1000));
  // The first half reaches `actor_days` as the rollup roller rolls it (twice, as two racing
  // rounds would); the rest stays in the tail the queries read from `events`.
  const half = Math.floor(shuffled.length / 1000) * 500;
  for (let i = 0; i < shuffled.length; i += 500) {
    if (i === half) {
      const upto = await lastBlock(ch);
      await rollActorDays(ch, 0, upto);
      await rollActorDays(ch, 0, upto);
    }
    await ch.insert('events', shuffled.slice(i, i + 500));
  }
  const queries = createAnalyticsQueries(ch);
  const cohorts = createCohortCatalog({ file: join(dir, 'cohorts.json') });
  const metrics = createMetrics();
  const now = t0 + days * dayMs + 10 * dayMs;
  const analytics = createAnalytics({ queries, cohorts, metrics, now: () => now });
  return { ch, dir, rows, shop, queries, cohorts, analytics, metrics, now };
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

export const range = { from: t0, to: t0 + days * dayMs };

export const params = (values: Record<string, string | number | object>) =>
  new URLSearchParams(
    Object.entries(values).map(([k, v]): [string, string] => [
      k,
      typeof v === 'object' ? JSON.stringify(v) : String(v),
    ]),
  );

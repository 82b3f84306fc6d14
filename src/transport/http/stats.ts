import type { TemplatedApp } from 'uWebSockets.js';
import type { EventStore } from '../../storage/event-store.js';
import { createRoutes, type RouteDeps } from './route.js';
import { parseTimeRange } from './time-range.js';

const day = 24 * 3600_000;

/**
 * `GET /v1/events/stats?from&to`: stored events per type for the key's project, with event
 * time in [from, to). `from`/`to` are epoch milliseconds or ISO-8601 times (see time-range.ts);
 * `to` defaults to now and `from` to a day before `to`. Ingest and read keys may both ask: it is how
 * operators check that ingestion works.
 */
export function registerHttpStats(
  app: TemplatedApp,
  deps: RouteDeps & { store: EventStore },
): void {
  const { store } = deps;
  const route = createRoutes(app, deps);

  route('get', '/v1/events/stats', ['read', 'ingest'], async ({ reply, principal, info }) => {
    const { from, to } = parseTimeRange(info.query, { spanMs: day });
    const types = await store.countByType(principal.projectId, from, to);
    const total = types.reduce((sum, row) => sum + row.count, 0);
    const counts = Object.fromEntries(types.map((row) => [row.type, row.count]));
    reply.json(200, { project: principal.projectId, from, to, total, types, counts });
  });
}

import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { can, type Authenticator } from '../../auth/key-registry.js';
import { BacklineError } from '../../errors.js';
import type { Logger } from '../../ops/logger.js';
import type { Metrics } from '../../ops/metrics.js';
import type { EventStore } from '../../storage/event-store.js';
import { createReply, readRequest } from './reply.js';
import { takeRequest, type RateLimiters } from '../rate-limits.js';
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
  deps: {
    store: EventStore;
    auth: Authenticator;
    metrics: Metrics;
    log: Logger;
    rateLimits: RateLimiters;
  },
): void {
  const { store, auth, metrics, log } = deps;
  app.get('/v1/events/stats', (res: HttpResponse, req: HttpRequest) => {
    const info = readRequest(req);
    const reply = createReply(res, log, (status) =>
      metrics.httpRequests.inc({ route: '/v1/events/stats', status }),
    );
    const principal = auth.authenticate(info.credential);
    if (!principal) return reply.error(new BacklineError('UNAUTHORIZED'));
    if (!can(principal, 'read') && !can(principal, 'ingest'))
      return reply.error(new BacklineError('FORBIDDEN'));
    try {
      const { from, to } = parseTimeRange(info.query, { spanMs: day });
      takeRequest(deps, 'http', { limit: 'key', id: principal.keyId })
        .then(() => store.countByType(principal.projectId, from, to))
        .then(
          (types) => {
            const total = types.reduce((sum, row) => sum + row.count, 0);
            const counts = Object.fromEntries(types.map((row) => [row.type, row.count]));
            reply.json(200, { project: principal.projectId, from, to, total, types, counts });
          },
          (err: unknown) => reply.error(err),
        );
    } catch (err) {
      reply.error(err);
    }
  });
}

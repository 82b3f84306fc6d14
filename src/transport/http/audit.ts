import type { TemplatedApp } from 'uWebSockets.js';
import { BacklineError } from '../../errors.js';
import type { AuditStore } from '../../storage/audit-store.js';
import { createRoutes, type RouteDeps } from './route.js';
import { parseTimeRange } from './time-range.js';

const day = 24 * 3600_000;
const maxEntries = 10_000;

/**
 * `GET /v1/audit?from&to&limit` (admin): the project's audit entries with `ts` in [from, to),
 * oldest first (`from`/`to` as in time-range.ts; the last day by default), at most `limit`
 * (1 to 10,000; 1,000 by default): `{project, from, to, entries: [{ts, actor, action, target,
 * status, before_hash, after_hash, request_id}]}`.
 */
export function registerHttpAudit(
  app: TemplatedApp,
  deps: RouteDeps & { auditLog: Pick<AuditStore, 'between'> },
): void {
  createRoutes(app, deps)('get', '/v1/audit', 'admin', async ({ reply, principal, info }) => {
    const { from, to } = parseTimeRange(info.query, { spanMs: day });
    const raw = info.query.get('limit');
    const limit = raw === null || raw === '' ? 1000 : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > maxEntries)
      throw new BacklineError('BAD_QUERY', `\`limit\` must be an integer from 1 to ${maxEntries}`);
    const rows = await deps.auditLog.between(principal.projectId, from, to, limit);
    const entries = rows.map(({ project: _project, ...entry }) => entry);
    reply.json(200, { project: principal.projectId, from, to, entries });
  });
}

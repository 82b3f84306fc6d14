import type { TemplatedApp } from 'uWebSockets.js';
import { BacklineError } from '../../errors.js';
import type { StreamCatalog } from '../../pipeline/stream-catalog.js';
import type { RequestInfo } from './reply.js';
import { jsonBody } from './json-body.js';
import { createRoutes, type RouteDeps } from './route.js';
import { parseTimeRange } from './time-range.js';

const hour = 3600_000;

/** `key` is the group key when the API key came in the header; `groupKey` works either way. */
const groupKeyOf = (info: RequestInfo): string | undefined =>
  info.query.get('groupKey') ??
  (info.credentialInHeader ? info.query.get('key') : null) ??
  undefined;

/**
 * Metric streams over HTTP:
 * `GET /v1/streams` and `GET /v1/streams/:name` (read), `GET /v1/streams/:name/windows?from&to&key`
 * (read: stored windows joined with the open ones), `GET /v1/streams/:name/rollup?from&to&bucket&key`
 * (read: hourly aggregate states merged per hour, day or all), `PUT` and `DELETE /v1/streams/:name` (admin).
 */
export function registerHttpStreams(
  app: TemplatedApp,
  deps: RouteDeps & { catalog: StreamCatalog },
): void {
  const { catalog } = deps;
  const route = createRoutes(app, deps);

  route('get', '/v1/streams', 'read', ({ reply, principal }) => {
    reply.json(200, { streams: catalog.list(principal.projectId) });
  });

  route('get', '/v1/streams/:name', 'read', ({ reply, principal, name }) => {
    const spec = catalog.get(principal.projectId, name);
    if (!spec) throw new BacklineError('UNKNOWN_STREAM');
    reply.json(200, spec);
  });

  route('get', '/v1/streams/:name/windows', 'read', async ({ reply, principal, info, name }) => {
    if (!catalog.has(principal.projectId, name)) throw new BacklineError('UNKNOWN_STREAM');
    const { from, to } = parseTimeRange(info.query, { spanMs: 2 * hour, aheadMs: hour });
    const windows = await catalog.history(principal.projectId, name, from, to, groupKeyOf(info));
    reply.json(200, { stream: name, from, to, windows });
  });

  route('get', '/v1/streams/:name/rollup', 'read', async ({ reply, principal, info, name }) => {
    const { from, to } = parseTimeRange(info.query, { spanMs: 7 * 24 * hour });
    const bucket = info.query.get('bucket') ?? 'day';
    if (bucket !== 'hour' && bucket !== 'day' && bucket !== 'all') {
      throw new BacklineError('BAD_QUERY', '`bucket` is hour, day or all');
    }
    const rows = await catalog.rollup(
      principal.projectId,
      name,
      from,
      to,
      bucket,
      groupKeyOf(info),
    );
    reply.json(200, { stream: name, from, to, bucket, rows });
  });

  route('put', '/v1/streams/:name', 'admin', async ({ reply, principal, name, body, audit }) => {
    audit.before = catalog.get(principal.projectId, name);
    audit.after = await catalog.define(principal.projectId, name, await jsonBody(body));
    reply.json(200, audit.after);
  });

  route('del', '/v1/streams/:name', 'admin', async ({ reply, principal, name, audit }) => {
    audit.before = catalog.get(principal.projectId, name);
    if (!(await catalog.remove(principal.projectId, name)))
      throw new BacklineError('UNKNOWN_STREAM');
    reply.send(204, 'application/json', '');
  });
}

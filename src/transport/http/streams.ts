import type { TemplatedApp } from 'uWebSockets.js';
import { BacklineError } from '../../errors.js';
import type { StreamCatalog } from '../../pipeline/stream-catalog.js';
import type { Credentials } from '../credentials.js';
import type { UserCheck } from '../identity.js';
import { checkStreamRead, streamViewer, type StreamViewer } from '../stream-access.js';
import type { RequestInfo } from './reply.js';
import { registerDefinitionRoutes } from './definitions.js';
import { createRoutes, type Granted, type RouteDeps } from './route.js';
import { parseTimeRange } from './time-range.js';

const hour = 3600_000;

/** `key` is the group key when the API key came in the header; `groupKey` works either way. */
const groupKeyOf = (info: RequestInfo): string | undefined =>
  info.query.get('groupKey') ??
  (info.credentialInHeader ? info.query.get('key') : null) ??
  undefined;

export interface HttpStreamsDeps extends RouteDeps {
  catalog: StreamCatalog;
  /** Users read the windows of `users` and `public` streams with their own token. */
  users: UserCheck;
}

/**
 * The access of a stream's data routes: a read key, a user of the project if the stream is
 * open to `users`, or nobody at all if it is `public` (see stream-access.ts).
 */
const streamReaders =
  (deps: HttpStreamsDeps) =>
  async (
    credentials: Credentials,
    param: string,
    _level: 'stream-readers',
  ): Promise<Granted<{ viewer: StreamViewer }>> => {
    const viewer = await streamViewer(deps, credentials);
    let name: string;
    try {
      name = decodeURIComponent(param);
    } catch {
      throw new BacklineError('BAD_QUERY', 'the path is not valid URL encoding');
    }
    checkStreamRead(viewer, deps.catalog.get(viewer.projectId, name));
    // Reads are audited only when asked; a user is never named here (no pseudonym needed).
    const actor = viewer.kind === 'key' ? `key:${viewer.caller.id}` : viewer.kind;
    return { viewer, caller: viewer.caller, subject: { project: viewer.projectId, actor } };
  };

/**
 * Metric streams over HTTP:
 * `GET /v1/streams` and `GET /v1/streams/:name` (read), `GET /v1/streams/:name/windows?from&to&key`
 * (stored windows joined with the open ones), `GET /v1/streams/:name/rollup?from&to&bucket&key`
 * (hourly aggregate states merged per hour, day or all), both for a read key, a user's token
 * (streams open to `users`) or nobody with `?project=` (`public` streams); `PUT` and `DELETE
 * /v1/streams/:name` (admin).
 */
export function registerHttpStreams(app: TemplatedApp, deps: HttpStreamsDeps): void {
  const { catalog } = deps;
  const route = createRoutes(app, deps);
  const dataRoute = createRoutes(app, deps, { access: streamReaders(deps) });

  registerDefinitionRoutes(route, { kind: 'streams', unknown: 'UNKNOWN_STREAM' }, catalog);

  dataRoute('get', '/v1/streams/:name/windows', 'stream-readers', async (request) => {
    const { reply, viewer, info, name } = request;
    const { from, to } = parseTimeRange(info.query, { spanMs: 2 * hour, aheadMs: hour });
    const windows = await catalog.history(viewer.projectId, name, from, to, groupKeyOf(info));
    reply.json(200, { stream: name, from, to, windows });
  });

  dataRoute('get', '/v1/streams/:name/rollup', 'stream-readers', async (request) => {
    const { reply, viewer, info, name } = request;
    const { from, to } = parseTimeRange(info.query, { spanMs: 7 * 24 * hour });
    const bucket = info.query.get('bucket') ?? 'day';
    if (bucket !== 'hour' && bucket !== 'day' && bucket !== 'all') {
      throw new BacklineError('BAD_QUERY', '`bucket` is hour, day or all');
    }
    const rows = await catalog.rollup(viewer.projectId, name, from, to, bucket, groupKeyOf(info));
    reply.json(200, { stream: name, from, to, bucket, rows });
  });
}

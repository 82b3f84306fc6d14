import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { can, type Authenticator, type Principal } from '../auth/key-registry.js';
import type { Scope } from '../config/schema.js';
import { BacklineError } from '../errors.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { StreamCatalog } from '../pipeline/stream-catalog.js';
import { createReply, readBody, readRequest, type Reply, type RequestInfo } from './http-reply.js';
import { parseTime } from './http-stats.js';

const hour = 3600_000;

/**
 * Metric streams over HTTP:
 * `GET /v1/streams` and `GET /v1/streams/:name` (read), `GET /v1/streams/:name/windows?from&to&key`
 * (read: stored windows joined with the open ones; `key` is the group key when the API key
 * comes as `Authorization: Bearer`, else use `groupKey`), `GET /v1/streams/:name/rollup?from&to&bucket&key`
 * (read: hourly aggregate states merged per hour, day or all), `PUT` and `DELETE /v1/streams/:name` (admin).
 */
export function registerHttpStreams(
  app: TemplatedApp,
  deps: { catalog: StreamCatalog; auth: Authenticator; metrics: Metrics; log: Logger },
): void {
  const { catalog, auth, metrics, log } = deps;

  const route = (
    method: 'get' | 'put' | 'del',
    pattern: string,
    scope: Scope,
    handle: (
      reply: Reply,
      principal: Principal,
      info: RequestInfo,
      name: string,
      body: Promise<Buffer | undefined>,
    ) => void | Promise<void>,
  ) => {
    app[method](pattern, (res: HttpResponse, req: HttpRequest) => {
      const info = readRequest(req);
      const name = decodeURIComponent(req.getParameter(0) ?? '');
      const reply = createReply(res, log, (status) =>
        metrics.httpRequests.inc({ route: pattern, status }),
      );
      // uWS hands the body only to an onData attached before the handler returns.
      const body = method === 'put' ? readBody(res, 64 * 1024) : Promise.resolve(undefined);
      const principal = auth.authenticate(info.credential);
      if (!principal) return reply.error(new BacklineError('UNAUTHORIZED'));
      if (!can(principal, scope)) return reply.error(new BacklineError('FORBIDDEN'));
      Promise.resolve()
        .then(() => handle(reply, principal, info, name, body))
        .catch((err: unknown) => reply.error(err));
    });
  };

  route('get', '/v1/streams', 'read', (reply, principal) => {
    reply.json(200, { streams: catalog.list(principal.projectId) });
  });

  route('get', '/v1/streams/:name', 'read', (reply, principal, _info, name) => {
    const spec = catalog.get(principal.projectId, name);
    if (!spec) throw new BacklineError('UNKNOWN_STREAM');
    reply.json(200, spec);
  });

  route('get', '/v1/streams/:name/windows', 'read', async (reply, principal, info, name) => {
    if (!catalog.has(principal.projectId, name)) throw new BacklineError('UNKNOWN_STREAM');
    const to = parseTime(info.query.get('to'), 'to') ?? Date.now() + hour;
    const from = parseTime(info.query.get('from'), 'from') ?? to - 2 * hour;
    // `key` is the group key when the API key came in the header; `groupKey` works either way.
    const key =
      info.query.get('groupKey') ??
      (info.credentialInHeader ? info.query.get('key') : null) ??
      undefined;
    const windows = await catalog.history(principal.projectId, name, from, to, key);
    reply.json(200, { stream: name, from, to, windows });
  });

  route('put', '/v1/streams/:name', 'admin', async (reply, principal, _info, name, pending) => {
    const body = await pending;
    if (!body) throw new BacklineError('FRAME_TOO_LARGE', 'a stream definition is at most 64 KiB');
    let raw: unknown;
    try {
      raw = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new BacklineError('BAD_JSON', `not valid JSON: ${(err as Error).message}`);
    }
    reply.json(200, await catalog.define(principal.projectId, name, raw));
  });

  route('get', '/v1/streams/:name/rollup', 'read', async (reply, principal, info, name) => {
    const to = parseTime(info.query.get('to'), 'to') ?? Date.now();
    const from = parseTime(info.query.get('from'), 'from') ?? to - 7 * 24 * hour;
    const bucket = info.query.get('bucket') ?? 'day';
    if (bucket !== 'hour' && bucket !== 'day' && bucket !== 'all') {
      throw new BacklineError('BAD_QUERY', '`bucket` is hour, day or all');
    }
    const key =
      info.query.get('groupKey') ??
      (info.credentialInHeader ? info.query.get('key') : null) ??
      undefined;
    const rows = await catalog.rollup(principal.projectId, name, from, to, bucket, key);
    reply.json(200, { stream: name, from, to, bucket, rows });
  });

  route('del', '/v1/streams/:name', 'admin', async (reply, principal, _info, name) => {
    if (!(await catalog.remove(principal.projectId, name)))
      throw new BacklineError('UNKNOWN_STREAM');
    reply.send(204, 'application/json', '');
  });
}

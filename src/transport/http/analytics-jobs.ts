import type { TemplatedApp } from 'uWebSockets.js';
import type { WarehouseJobs } from '../../analytics/warehouse-jobs.js';
import { BacklineError } from '../../errors.js';
import { jsonBody } from './json-body.js';
import { createRoutes, type RouteDeps } from './route.js';

/**
 * Warehouse jobs of the key's project: `GET /v1/jobs` and `GET /v1/jobs/:name` (read: the
 * definitions with their status), `PUT /v1/jobs/:name` (admin: define or replace; 400 BAD_JOB),
 * `DELETE /v1/jobs/:name` (admin: the job, its status and its rows; 204 or 404 UNKNOWN_JOB) and
 * `POST /v1/jobs/:name/run` (admin: a run as soon as possible; 202, or 409 JOB_RUNNING). The
 * rows are read through `GET /v1/jobs/:name/rows` (analytics-export.ts).
 */
export function registerHttpJobs(
  app: TemplatedApp,
  deps: RouteDeps & { jobs: WarehouseJobs },
): void {
  const { jobs } = deps;
  const route = createRoutes(app, deps);
  const current = (project: string, name: string) => jobs.get(project, name).catch(() => undefined);

  route('get', '/v1/jobs', 'read', async ({ reply, principal }) => {
    reply.json(200, { jobs: await jobs.list(principal.projectId) });
  });

  route('get', '/v1/jobs/:name', 'read', async ({ reply, principal, name }) => {
    reply.json(200, await jobs.get(principal.projectId, name));
  });

  route('put', '/v1/jobs/:name', 'admin', async ({ reply, principal, name, body, audit }) => {
    audit.before = await current(principal.projectId, name);
    audit.after = await jobs.define(principal.projectId, name, await jsonBody(body));
    reply.json(200, audit.after);
  });

  route('del', '/v1/jobs/:name', 'admin', async ({ reply, principal, name, audit }) => {
    audit.before = await current(principal.projectId, name);
    if (!(await jobs.remove(principal.projectId, name))) throw new BacklineError('UNKNOWN_JOB');
    reply.send(204, 'application/json', '');
  });

  route('post', '/v1/jobs/:name/run', 'admin', async ({ reply, principal, name }) => {
    reply.json(202, await jobs.request(principal.projectId, name));
  });
}

import type { TemplatedApp } from 'uWebSockets.js';
import { jobNameSchema } from '../../analytics/job-spec.js';
import { BacklineError } from '../../errors.js';
import type { Predictions } from '../../predictions/predictions-service.js';
import type { UserCheck } from '../identity.js';
import { userAccess } from '../user/user-access.js';
import { createRoutes, type RouteDeps } from './route.js';

/** `?job=`: which model job answers (absent: the first of its kind with a completed run). */
function jobParam(query: URLSearchParams): { job?: string } {
  const job = query.get('job');
  if (job === null || job === '') return {};
  if (!jobNameSchema.safeParse(job).success)
    throw new BacklineError('BAD_QUERY', '`job` is a job name (lowercase [a-z0-9_-])');
  return { job };
}

function limitParam(query: URLSearchParams): number {
  const raw = query.get('limit');
  if (raw === null || raw === '') return 10;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    throw new BacklineError('BAD_QUERY', '`limit` must be an integer from 1 to 100');
  return limit;
}

/**
 * What the model jobs serve (README: Predictions): `GET /v1/users/:id/recommendations?limit&job`
 * (`users:read` key or the user's own token), `GET /v1/predictions/churn/:id?job` (users:read:
 * a person's risk and what drove it), `GET /v1/predictions/forecasts?job&series` (read) and
 * `GET /v1/predictions/models` (read: each model job's latest evaluation). 404 NO_MODEL until
 * a model job of the kind has completed a run.
 */
export function registerHttpPredictions(
  app: TemplatedApp,
  deps: RouteDeps & { predictions: Predictions; users: UserCheck },
): void {
  const { predictions } = deps;
  const user = createRoutes(app, deps, { access: userAccess(deps), msgpack: true });
  user('get', '/v1/users/:id/recommendations', 'self-or-users-read', async (request) => {
    const { reply, info, project, userId } = request;
    const query = { limit: limitParam(info.query), ...jobParam(info.query) };
    reply.json(200, await predictions.recommendations(project, userId, query), info.wantsMsgpack);
  });

  const route = createRoutes(app, deps);
  route(
    'get',
    '/v1/predictions/churn/:id',
    'users:read',
    async ({ reply, principal, name, info }) => {
      reply.json(200, await predictions.churn(principal.projectId, name, jobParam(info.query)));
    },
  );
  route('get', '/v1/predictions/forecasts', 'read', async ({ reply, principal, info }) => {
    const series = info.query.get('series') || undefined;
    const query = { ...jobParam(info.query), ...(series ? { series } : {}) };
    reply.json(200, await predictions.forecasts(principal.projectId, query));
  });
  route('get', '/v1/predictions/models', 'read', async ({ reply, principal }) => {
    reply.json(200, { models: await predictions.models(principal.projectId) });
  });
}

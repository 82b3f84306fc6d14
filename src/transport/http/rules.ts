import type { TemplatedApp } from 'uWebSockets.js';
import { BacklineError } from '../../errors.js';
import type { RuleCatalog } from '../../rules/rule-catalog.js';
import { jsonBody } from './json-body.js';
import { createRoutes, type RouteDeps } from './route.js';

/**
 * Notification rules over HTTP: `GET /v1/rules` and `GET /v1/rules/:name` (read),
 * `PUT /v1/rules/:name` (admin: define or replace; 400 BAD_RULE names the bad part) and
 * `DELETE /v1/rules/:name` (admin: 204, or 404 UNKNOWN_RULE).
 *
 * @example
 * registerHttpRules(app, { catalog: ruleCatalog, auth, metrics, log, rateLimits });
 */
export function registerHttpRules(
  app: TemplatedApp,
  deps: RouteDeps & { catalog: RuleCatalog },
): void {
  const { catalog } = deps;
  const route = createRoutes(app, deps);

  route('get', '/v1/rules', 'read', ({ reply, principal }) => {
    reply.json(200, { rules: catalog.list(principal.projectId) });
  });

  route('get', '/v1/rules/:name', 'read', ({ reply, principal, name }) => {
    const spec = catalog.get(principal.projectId, name);
    if (!spec) throw new BacklineError('UNKNOWN_RULE');
    reply.json(200, spec);
  });

  route('put', '/v1/rules/:name', 'admin', async ({ reply, principal, name, body, audit }) => {
    audit.before = catalog.get(principal.projectId, name);
    audit.after = await catalog.define(principal.projectId, name, await jsonBody(body));
    reply.json(200, audit.after);
  });

  route('del', '/v1/rules/:name', 'admin', async ({ reply, principal, name, audit }) => {
    audit.before = catalog.get(principal.projectId, name);
    if (!(await catalog.remove(principal.projectId, name))) throw new BacklineError('UNKNOWN_RULE');
    reply.send(204, 'application/json', '');
  });
}

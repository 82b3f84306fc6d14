import type { TemplatedApp } from 'uWebSockets.js';
import type { RuleCatalog } from '../../rules/rule-catalog.js';
import { registerDefinitionRoutes } from './definitions.js';
import { createRoutes, type RouteDeps } from './route.js';

const names = { kind: 'rules', unknown: 'UNKNOWN_RULE' } as const;

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
  registerDefinitionRoutes(createRoutes(app, deps), names, deps.catalog);
}

import type { TemplatedApp } from 'uWebSockets.js';
import type { VariantReports } from '../../analytics/variant-report.js';
import type { RuleCatalog } from '../../rules/rule-catalog.js';
import { registerDefinitionRoutes } from './definitions.js';
import { createRoutes, type RouteDeps } from './route.js';

const names = { kind: 'rules', unknown: 'UNKNOWN_RULE' } as const;

/**
 * Notification rules over HTTP: `GET /v1/rules` and `GET /v1/rules/:name` (read),
 * `PUT /v1/rules/:name` (admin: define or replace; 400 BAD_RULE names the bad part),
 * `DELETE /v1/rules/:name` (admin: 204, or 404 UNKNOWN_RULE) and, with `variants`,
 * `GET /v1/rules/:name/variants` (read: the rule's A/B test of templates; 404 UNKNOWN_RULE,
 * 400 BAD_QUERY for a rule without variants).
 *
 * @example
 * registerHttpRules(app, { catalog: ruleCatalog, auth, metrics, log, rateLimits });
 */
export function registerHttpRules(
  app: TemplatedApp,
  deps: RouteDeps & { catalog: RuleCatalog; variants?: VariantReports },
): void {
  const route = createRoutes(app, deps);
  registerDefinitionRoutes(route, names, deps.catalog);
  const { variants } = deps;
  if (variants)
    route('get', '/v1/rules/:name/variants', 'read', async ({ reply, principal, name }) => {
      reply.json(200, await variants.report(principal.projectId, name));
    });
}

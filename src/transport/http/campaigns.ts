import type { TemplatedApp } from 'uWebSockets.js';
import type { CampaignReports } from '../../campaigns/campaign-report.js';
import type { Campaigns } from '../../campaigns/campaigns.js';
import { BacklineError } from '../../errors.js';
import { jsonBody } from './json-body.js';
import { createRoutes, type RouteDeps } from './route.js';

/**
 * Campaigns over HTTP: `POST /v1/campaigns` (admin: 201 with the stored campaign; 400
 * BAD_CAMPAIGN names the bad part), `GET /v1/campaigns` (read: the newest 100),
 * `GET /v1/campaigns/:id` (read: the campaign and its report; 404 UNKNOWN_CAMPAIGN) and
 * `POST /v1/campaigns/:id/cancel` (admin: what is not yet routed is dropped; 409
 * CAMPAIGN_FINISHED once done). Writes are audited.
 *
 * @example
 * registerHttpCampaigns(app, { ...common, campaigns, reports });
 */
export function registerHttpCampaigns(
  app: TemplatedApp,
  deps: RouteDeps & { campaigns: Campaigns; reports: CampaignReports },
): void {
  const { campaigns, reports } = deps;
  const route = createRoutes(app, deps);

  route('post', '/v1/campaigns', 'admin', async ({ reply, principal, body, audit }) => {
    audit.after = await campaigns.create(principal.projectId, await jsonBody(body));
    reply.json(201, audit.after);
  });

  route('get', '/v1/campaigns', 'read', async ({ reply, principal }) => {
    reply.json(200, { campaigns: await campaigns.list(principal.projectId) });
  });

  route('get', '/v1/campaigns/:id', 'read', async ({ reply, principal, name }) => {
    const record = await campaigns.get(principal.projectId, name);
    if (!record) throw new BacklineError('UNKNOWN_CAMPAIGN');
    reply.json(200, await reports.report(record));
  });

  route('post', '/v1/campaigns/:id/cancel', 'admin', async ({ reply, principal, name, audit }) => {
    audit.before = await campaigns.get(principal.projectId, name);
    audit.after = await campaigns.cancel(principal.projectId, name);
    reply.json(200, audit.after);
  });
}

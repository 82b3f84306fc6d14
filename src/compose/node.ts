/**
 * One backline node, every part wired: it reads top to bottom as the data flow: storage →
 * ingest → notify ← rules ← pipeline → transport, each wired in this folder. main.ts runs it
 * as the process; tests that need the parts of a whole server in their own process use it
 * the same way, so there is one wiring.
 */
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { Lifecycle, Service } from '../ops/lifecycle.js';
import type { DevProject } from '../demo/dev-project.js';
import { composeAnalytics } from './analytics.js';
import { composeAuth } from './auth.js';
import { composeCluster } from './cluster.js';
import type { ClusterNode } from './cluster-node.js';
import { composeClusterWork } from './cluster-work.js';
import type { AppConfig } from './config.js';
import { composeIngest } from './ingest.js';
import { composeNotify } from './notify.js';
import { composeCampaigns } from './campaigns.js';
import { createVariantReports } from '../analytics/variant-report.js';
import { composePipeline } from './pipeline.js';
import { composePrivacy } from './privacy.js';
import { composeRules } from './rules.js';
import { composeStorage } from './storage.js';
import { composeServer, composeSockets, openUws } from './transport.js';

export interface NodeDeps {
  /** Cluster membership (REDIS_URL); undefined for a single node. */
  node: ClusterNode | undefined;
  /** The dev project of a zero-config start, if any. */
  dev: DevProject | undefined;
  /** Readiness answers 503 until it runs. */
  lifecycle: Pick<Lifecycle, 'running'>;
  metrics: Metrics;
  log: Logger;
}

/**
 * Wires a node and lists its services in start order (stopped in reverse: the server drains
 * ingest, the pipeline completes, then the writers flush).
 *
 * @example
 * const { server, services } = await composeNode(config, { node, dev, lifecycle, metrics, log });
 * await lifecycle.start(services);
 */
export async function composeNode(config: AppConfig, deps: NodeDeps) {
  const { node, dev, lifecycle, metrics, log } = deps;
  const uws = openUws(config, log);
  const projects = dev ? [dev.project] : config.projects;
  const base = { projects, metrics, log };

  const cluster = node ?? composeCluster(base);
  const { bus, presence } = cluster;
  const stored = composeStorage(config, { node, ...base });
  const { ingest, services: ingestServices } = composeIngest(config, { stored, node, ...base });
  const sockets = composeSockets(uws, metrics, config.live, bus, config.tls);
  const inApp = { bus, presence };
  const analytics = composeAnalytics(config, { stored, node, ingest, metrics, log });
  const variablesFor = analytics.apis.predictions.templateVariables;
  const notify = await composeNotify(config, { stored, ingest, inApp, dev, variablesFor, ...base });
  const route = notify.router.route;
  const { rules, ruleCatalog } = composeRules(config, {
    stored,
    ingest,
    node,
    route,
    notify: { decisions: notify.decisions, inbox: notify.inbox, preferences: notify.preferences },
    bus,
    cohorts: analytics.cohortAudience,
    churn: analytics.churnAudience,
    ...base,
  });
  const variantReports = createVariantReports({
    counts: analytics.queries.variants,
    rules: ruleCatalog,
  });
  const campaigns = composeCampaigns({
    ...{ stored, route, preferences: notify.preferences, variants: variantReports },
    cohorts: analytics.cohortAudience,
    churn: analytics.churnAudience,
    counts: analytics.queries.campaigns,
    hours: analytics.sendHours,
    ...base,
  });
  const { pipeline, catalog, cache, rollups, restored } = composePipeline(config, {
    ...{ stored, ingest, node, bus, rules: rules.windowSink },
    ...base,
  });
  // A single node runs all the work itself; a cluster shares it out under leases.
  const work = node
    ? composeClusterWork(config, { node, stored, pipeline, cache, rules, ...base })
    : { storage: [], compute: [], timers: stored.timers };
  const auth = composeAuth(config, { state: stored.state, bus, ...base });
  const privacy = composePrivacy(config, { stored, notify, catalog, ...base });
  const server = composeServer(config, {
    ...{ uws, sockets, auth, stored, ingest, catalog, ruleCatalog, notify, privacy, bus },
    analytics,
    variantReports,
    campaigns,
    presence,
    ...(node ? { rateLimiter: node.rateLimiter } : {}),
    readiness: {
      ready: async () => {
        if (!lifecycle.running()) throw new Error('starting');
        await Promise.all([node?.ping(), stored.events.ping()]);
      },
    },
    ...base,
  });
  const services: Service[] = [
    ...[cluster.service, stored.stateService, stored.storage, ...work.storage, analytics.props],
    ...[stored.decisionWriter, stored.auditWriter, ...rollups, stored.windowWriter],
    ...[...ingestServices, pipeline, ...restored, rules, ...work.compute],
    ...[notify.email.service, work.timers, privacy.erasure, sockets.hub, auth.keys, server],
    analytics.apis.jobs,
  ];
  return { server, stored, services };
}

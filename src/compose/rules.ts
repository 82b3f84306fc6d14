import { join } from 'node:path';
import type { Bus } from '../cluster/bus.js';
import type { Ingest } from '../ingest/ingest-service.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { createRuleCatalog } from '../rules/rule-catalog.js';
import type { ChurnAudience, CohortAudience } from '../rules/audience.js';
import { createRulesService, type Route } from '../rules/rules-service.js';
import type { ClusterNode } from './cluster-node.js';
import type { AppConfig } from './config.js';
import type { Stored } from './storage.js';

/**
 * Notification rules: fed by ingest (and by the pipeline's window sink), routing to notify. On
 * a cluster node (`node`) the partition owner feeds them and the definitions are the cluster's.
 */
export function composeRules(
  config: AppConfig,
  deps: {
    stored: Stored;
    ingest: Ingest;
    node: ClusterNode | undefined;
    route: Route;
    bus: Bus;
    cohorts?: CohortAudience;
    churn?: ChurnAudience;
    projects: AppConfig['projects'];
    metrics: Metrics;
    log: Logger;
  },
) {
  const { stored, metrics, log } = deps;
  const rules = createRulesService({
    state: stored.state,
    timers: stored.timers,
    segments: stored.segments,
    ...(deps.cohorts ? { cohorts: deps.cohorts } : {}),
    ...(deps.churn ? { churn: deps.churn } : {}),
    route: deps.route,
    metrics,
    log,
  });
  const saved = deps.node
    ? { saved: deps.node.definitions.rules }
    : { file: join(config.dataDir, 'rules.json') };
  const ruleCatalog = createRuleCatalog({ rules, bus: deps.bus, log, ...saved });
  // Rules exist before the timers start: a timer due at start looks its rule up.
  for (const project of deps.projects) {
    for (const spec of ruleCatalog.specsFor(project.id, project.rules ?? []))
      rules.define(project.id, spec);
  }
  if (!deps.node) deps.ingest.onAccepted(rules.onEvents);
  return { rules, ruleCatalog };
}

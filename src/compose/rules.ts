import { join } from 'node:path';
import type { Bus } from '../cluster/bus.js';
import type { Ingest } from '../ingest/ingest-service.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { createRuleCatalog } from '../rules/rule-catalog.js';
import type { ChurnAudience, CohortAudience } from '../rules/audience.js';
import { createRulesService } from '../rules/rules-service.js';
import { createWorkflowRunner } from '../rules/workflows/workflow-runner.js';
import type { DecisionLog } from '../notify/decision-log.js';
import type { Inbox } from '../notify/inbox.js';
import type { PreferenceStore } from '../notify/preferences.js';
import { routedId, type Router } from '../notify/router.js';
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
    route: Router['route'];
    /** What workflows read and write beside routing: notify's own parts. */
    notify: { decisions: DecisionLog; inbox: Inbox; preferences: PreferenceStore };
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
    workflows: composeWorkflows(stored, deps.route, deps.notify, metrics),
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

/** Rules' workflows: sends through the router, reading the inbox and preferences. */
function composeWorkflows(
  stored: Stored,
  route: Router['route'],
  notify: { decisions: DecisionLog; inbox: Inbox; preferences: PreferenceStore },
  metrics: Metrics,
) {
  const { state, sealer } = stored;
  const { decisions, inbox, preferences } = notify;
  return createWorkflowRunner({
    state,
    timers: stored.timers,
    sealer,
    metrics,
    // A step routed again after a crash is suppressed as a repeat: its first route's id counts.
    send: async (intent) => {
      const routed = await route(intent);
      const first = intent.dedupKey
        ? await routedId(state, intent.project, intent.userId, intent.dedupKey)
        : undefined;
      return first ?? routed.id;
    },
    inboxItem: inbox.get,
    preferences: preferences.get,
    record: (subject, reason, channel) => decisions.record(subject, 'workflow', reason, channel),
  });
}

import { join } from 'node:path';
import { createAnalytics } from '../analytics/analytics-service.js';
import { createCohortAudience } from '../analytics/cohort-audience.js';
import { createCohortCatalog } from '../analytics/cohort-catalog.js';
import type { Metrics } from '../ops/metrics.js';
import { createAnalyticsQueries } from '../storage/analytics/analytics-queries.js';
import type { ClusterNode } from './cluster-node.js';
import type { AppConfig } from './config.js';
import type { Stored } from './storage.js';

/**
 * Product analytics on the events in ClickHouse: the queries, saved cohorts (kept in
 * `<dataDir>/cohorts.json`, or the cluster's shared definitions on a cluster node), the APIs,
 * and cohorts as rule audiences.
 */
export function composeAnalytics(
  config: AppConfig,
  deps: { stored: Stored; node: ClusterNode | undefined; metrics: Metrics },
) {
  const queries = createAnalyticsQueries(deps.stored.storage.ch);
  const cohorts = createCohortCatalog(
    deps.node
      ? { saved: deps.node.definitions.cohorts }
      : { file: join(config.dataDir, 'cohorts.json') },
  );
  return {
    queries,
    cohorts,
    exports: queries.exports,
    analytics: createAnalytics({ queries, cohorts, metrics: deps.metrics }),
    cohortAudience: createCohortAudience({ cohorts, members: queries.cohorts }),
  };
}

export type ComposedAnalytics = ReturnType<typeof composeAnalytics>;

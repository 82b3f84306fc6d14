import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createAnalytics } from '../analytics/analytics-service.js';
import { createCohortAudience } from '../analytics/cohort-audience.js';
import { createCohortCatalog } from '../analytics/cohort-catalog.js';
import { createEngagement } from '../analytics/engagement-service.js';
import { createPersonProfiles } from '../analytics/person-profile.js';
import { createSendHours } from '../analytics/send-hours.js';
import { createTrending } from '../analytics/trending-service.js';
import { createWarehouseJobs } from '../analytics/warehouse-jobs.js';
import type { Ingest } from '../ingest/ingest-service.js';
import { createModelTrainer } from '../predictions/model-trainer.js';
import { computeInThread } from '../predictions/recommender-thread.js';
import { createPredictions } from '../predictions/predictions-service.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { createAnalyticsQueries } from '../storage/analytics/analytics-queries.js';
import { createPropColumns } from '../storage/analytics/prop-columns.js';
import { createPredictionStore } from '../storage/analytics/prediction-store.js';
import type { AnalyticsApis } from '../transport/http/analytics-routes.js';
import type { ClusterNode } from './cluster-node.js';
import type { AppConfig } from './config.js';
import type { Stored } from './storage.js';

/**
 * Product analytics on the events in ClickHouse: the queries, saved cohorts (kept in
 * `<dataDir>/cohorts.json`, or the cluster's shared definitions on a cluster node), the APIs,
 * cohorts as rule audiences, trending values followed live from ingest, the warehouse
 * jobs (a service: their scheduler) with the model jobs among them, and what the models serve
 * (recommendations, churn risk as APIs and as rule audiences, forecasts), and each user's
 * learned send hour (campaigns' `sendAt: "best"`).
 */
export function composeAnalytics(
  config: AppConfig,
  deps: {
    stored: Stored;
    node: ClusterNode | undefined;
    ingest: Ingest;
    metrics: Metrics;
    log: Logger;
  },
) {
  const { metrics, node } = deps;
  // Every node of a cluster lists the same fields: the owner of ClickHouse makes the columns;
  // any node makes one its slow queries ask for, and every node reads them all.
  const ch = deps.stored.storage.ch;
  const props = createPropColumns({
    ch,
    listed: config.analytics.materializedProps,
    settings: config.analytics.autoMaterialize,
    metrics,
    log: deps.log,
  });
  const queries = createAnalyticsQueries(ch, {
    columns: props.columns,
    onJsonRead: props.onJsonRead,
  });
  const cohorts = createCohortCatalog(
    deps.node
      ? { saved: deps.node.definitions.cohorts }
      : { file: join(config.dataDir, 'cohorts.json') },
  );
  const settings = config.analytics;
  const store = createPredictionStore(deps.stored.storage.ch);
  // Jobs run on the nodes with ClickHouse at hand, at most once at a time (state claims).
  const jobs = createWarehouseJobs({
    state: deps.stored.state,
    warehouse: queries.warehouse,
    models: createModelTrainer({ store, computeRecommender: computeInThread }),
    settings: settings.jobs,
    engagement: settings.engagement,
    instance: node?.instanceId ?? `single-${randomBytes(4).toString('hex')}`,
    exclusive: !node,
    runsJobs: node?.storage !== 'remote',
    metrics,
    log: deps.log,
  });
  const predictions = createPredictions({ reads: store, jobs, metrics });
  const sendHours = createSendHours({ queries, metrics }, settings.sendTime);
  const apis: AnalyticsApis = {
    analytics: createAnalytics({ queries, cohorts, metrics }),
    cohorts,
    exports: queries.exports,
    engagement: createEngagement({ queries, cohorts, metrics, settings: settings.engagement }),
    // A cluster node sees only its own share of the events: it answers from storage.
    trending: createTrending({
      queries,
      cohorts,
      metrics,
      settings: settings.trending,
      ...(deps.node ? {} : { ingest: deps.ingest }),
    }),
    persons: createPersonProfiles({ queries, cohorts, metrics }),
    jobs,
    predictions,
    sendHours,
  };
  return {
    queries,
    props,
    apis,
    cohortAudience: createCohortAudience({ cohorts, members: queries.cohorts }),
    churnAudience: predictions.churnAudience,
    sendHours,
  };
}

export type ComposedAnalytics = ReturnType<typeof composeAnalytics>;

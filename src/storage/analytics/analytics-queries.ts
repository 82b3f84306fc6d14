import type { ClickHouse } from '../clickhouse.js';
import { createCohortQuery } from './cohort-sql.js';
import { createEngagementQuery } from './engagement-sql.js';
import { createEventExport } from './event-export.js';
import { createFunnelQuery } from './funnel-sql.js';
import { createPersonQuery } from './person-timeline-sql.js';
import { createRetentionQuery } from './retention-sql.js';
import { createSendHourQuery } from './send-hour-sql.js';
import { createStickinessQuery } from './stickiness-sql.js';
import { createTrendingQuery } from './trending-sql.js';
import { createTrendsQuery } from './trends-sql.js';
import { createCampaignQuery } from './campaign-sql.js';
import { createVariantQuery } from './variant-sql.js';
import { createWarehouseQuery } from './warehouse-sql.js';
import type { PropColumns } from './materialized-props.js';
import type { JsonReadListener } from './sql-params.js';

/**
 * Every analytics query on one ClickHouse, for the composition root to hand to
 * src/analytics and the rules' cohort audience. Trends, funnels and trending read the fields
 * in `columns` (materialized-props.ts) from their columns, and tell `onJsonRead` of the
 * others they read out of the JSON text (prop-columns.ts makes the slow ones columns).
 *
 * @example
 * const queries = createAnalyticsQueries(storage.ch);
 * await queries.trends.rows({ scope: { project: 'dev', fromMs, toMs }, interval: 'day', measure: 'count', limit: 10 });
 */
export function createAnalyticsQueries(
  ch: ClickHouse,
  options: { columns?: PropColumns; onJsonRead?: JsonReadListener } = {},
) {
  const { columns, onJsonRead } = options;
  return {
    trends: createTrendsQuery(ch, columns, onJsonRead),
    funnels: createFunnelQuery(ch, columns, onJsonRead),
    retention: createRetentionQuery(ch),
    cohorts: createCohortQuery(ch),
    exports: createEventExport(ch),
    engagement: createEngagementQuery(ch),
    stickiness: createStickinessQuery(ch),
    trending: createTrendingQuery(ch, columns, onJsonRead),
    warehouse: createWarehouseQuery(ch),
    persons: createPersonQuery(ch),
    variants: createVariantQuery(ch),
    campaigns: createCampaignQuery(ch),
    sendHours: createSendHourQuery(ch),
  };
}

export type AnalyticsQueries = ReturnType<typeof createAnalyticsQueries>;

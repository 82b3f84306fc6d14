import { subscribeTo } from '../cluster/bus-channels.js';
import type { Bus } from '../cluster/bus.js';
import type { Presence } from '../cluster/presence.js';
import type { Ingest } from '../ingest/ingest-service.js';
import { createMemoryRateLimiter } from '../limits/memory-rate-limiter.js';
import type { RateLimit, RateLimiter } from '../limits/rate-limiter.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { windowsFromBus } from '../pipeline/bus-window-sink.js';
import type { StreamCatalog } from '../pipeline/stream-catalog.js';
import type { RuleCatalog } from '../rules/rule-catalog.js';
import { createDashboardAssets } from '../static/dashboard-assets.js';
import type { ReadinessCheck } from '../transport/http/ops.js';
import { createLiveHub } from '../transport/live/live-hub.js';
import { createRateLimiters } from '../transport/rate-limits.js';
import { createServer } from '../transport/server.js';
import { createSocketWriter } from '../transport/socket-writer.js';
import { createApp } from '../transport/tls-app.js';
import { createUserHub } from '../transport/user/user-hub.js';
import { loadUws, type Uws } from '../transport/uws.js';
import type { Auth } from './auth.js';
import type { AppConfig } from './config.js';
import type { ComposedAnalytics } from './analytics.js';
import type { VariantReports } from '../analytics/variant-report.js';
import type { ComposedCampaigns } from './campaigns.js';
import type { Notify } from './notify.js';
import type { Privacy } from './privacy.js';
import type { Stored } from './storage.js';

/** uWebSockets.js, or its `ws` fallback when the settings allow it (with a warning). */
export function openUws(config: AppConfig, log: Logger): Uws {
  const { uws, native, reasons } = loadUws(config.allowWsFallback);
  if (!native)
    log.warn(
      { reasons },
      'running on the uWebSockets.js `ws` fallback: expect far lower throughput',
    );
  return uws;
}

/**
 * The uWS app (https and wss with TLS files), its one socket writer (every socket write and
 * publish, and the back-pressure policy), and the socket hubs, fed by the bus: window
 * results to live dashboards, user messages to users' sockets on this node.
 */
export function composeSockets(
  uws: Uws,
  metrics: Metrics,
  live: AppConfig['live'],
  bus: Bus,
  tls: AppConfig['tls'] = {},
) {
  const { slowBytes, ...liveOptions } = live;
  const app = createApp(uws, tls);
  const writer = createSocketWriter({ app, metrics }, { slowBytes });
  const hub = createLiveHub({ writer, metrics }, liveOptions);
  const userHub = createUserHub(writer);
  windowsFromBus(bus, hub.sink);
  subscribeTo(bus, 'user', ({ project, userId, message }) =>
    userHub.push(project, userId, message),
  );
  return { app, writer, hub, userHub };
}

/** The server: every socket and route, with the projects' keys and users, and their budgets. */
export function composeServer(
  config: AppConfig,
  deps: {
    uws: Uws;
    sockets: ReturnType<typeof composeSockets>;
    auth: Auth;
    stored: Stored;
    ingest: Ingest;
    catalog: StreamCatalog;
    ruleCatalog: RuleCatalog;
    notify: Notify;
    analytics: ComposedAnalytics;
    variantReports: VariantReports;
    campaigns: ComposedCampaigns;
    privacy: Privacy;
    bus: Bus;
    presence: Presence;
    /** Makes the per-key and per-user limiters; default in memory (a cluster passes Redis ones). */
    rateLimiter?: (limit: RateLimit, name: string) => RateLimiter;
    projects: AppConfig['projects'];
    readiness: ReadinessCheck;
    metrics: Metrics;
    log: Logger;
  },
) {
  const { sockets, notify, auth } = deps;
  const { webhook, sesWebhook, unsubscribe } = notify.email;
  const { sendgrid } = config.email;
  return createServer(
    {
      uws: deps.uws,
      app: sockets.app,
      writer: sockets.writer,
      hub: sockets.hub,
      catalog: deps.catalog,
      ingest: deps.ingest,
      store: deps.stored.events,
      auth: auth.keys,
      keys: auth.keys,
      users: auth.users,
      // Per key and per user: in memory on a single node, in Redis for every node of a cluster.
      rateLimits: createRateLimiters(
        config.limits,
        deps.rateLimiter ?? ((limit) => createMemoryRateLimiter(limit)),
      ),
      metrics: deps.metrics,
      log: deps.log,
      readiness: deps.readiness,
      assets: createDashboardAssets(),
      userHub: sockets.userHub,
      bus: deps.bus,
      presence: deps.presence,
      tokens: auth.tokens,
      inbox: notify.inbox,
      preferences: notify.preferences,
      decisions: notify.decisions,
      ruleCatalog: deps.ruleCatalog,
      pushSubscriptions: notify.push.subscriptions,
      pushEndpoints: notify.push.endpoints,
      vapid: notify.push.vapid,
      templates: notify.email.templates,
      ...(webhook ? { sendgridWebhook: webhook } : {}),
      ...(sesWebhook ? { sesWebhook } : {}),
      variantReports: deps.variantReports,
      campaigns: deps.campaigns,
      ...(unsubscribe ? { unsubscribeLinks: unsubscribe } : {}),
      analytics: deps.analytics.apis,
      audit: deps.privacy.audit,
      auditLog: deps.privacy.auditLog,
      erasure: deps.privacy.erasure,
      exportUser: deps.privacy.exportUser,
    },
    {
      host: config.host,
      port: config.port,
      limits: config.limits,
      cors: config.cors,
      webhooks: {
        maxBodyBytes: sendgrid.webhookMaxBodyBytes,
        maxInFlight: sendgrid.webhookMaxInFlight,
        bodyTimeoutMs: sendgrid.webhookBodyTimeoutMs,
      },
    },
  );
}

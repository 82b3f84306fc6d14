import type { TemplatedApp, WebSocket, us_listen_socket } from 'uWebSockets.js';
import type { Authenticator } from '../auth/key-registry.js';
import type { KeyStore } from '../auth/key-store.js';
import type { Bus } from '../cluster/bus.js';
import type { Presence } from '../cluster/presence.js';
import type { CorsSettings, Limits } from '../config/schema.js';
import { closeCodes } from '../errors.js';
import type { Ingest } from '../ingest/ingest-service.js';
import type { Service } from '../ops/lifecycle.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { StreamCatalog } from '../pipeline/stream-catalog.js';
import type { UserTokens } from '../auth/user-token.js';
import type { DecisionLog } from '../notify/decision-log.js';
import type { Inbox } from '../notify/inbox.js';
import type { PreferenceStore } from '../notify/preferences.js';
import type { OutboundUrlGuard } from '../notify/channels/web-push/outbound-url.js';
import type { PushSubscriptions } from '../notify/channels/web-push/push-subscriptions.js';
import type { VapidKeys } from '../notify/channels/web-push/vapid.js';
import type { EmailTemplates } from '../notify/channels/email/templates.js';
import type { SendGridWebhook } from '../notify/channels/email/webhook.js';
import type { SesWebhook } from '../notify/channels/email/ses-webhook.js';
import type { VariantReports } from '../analytics/variant-report.js';
import type { RuleCatalog } from '../rules/rule-catalog.js';
import type { AuditTrail } from '../privacy/audit-trail.js';
import type { UserErasure } from '../privacy/user-erasure.js';
import type { UserExport } from '../privacy/user-export.js';
import type { AuditStore } from '../storage/audit-store.js';
import type { StaticAssets } from '../static/dashboard-assets.js';
import type { EventStore } from '../storage/event-store.js';
import { registerHttpAnalyticsApis, type AnalyticsApis } from './http/analytics-routes.js';
import type { UserCheck } from './identity.js';
import { registerHttpEvents } from './ingest/http-events.js';
import { createCors } from './cors.js';
import { registerHttpKeys } from './http/keys.js';
import { registerHttpOps, type ReadinessCheck } from './http/ops.js';
import { registerHttpPreflight } from './http/preflight.js';
import { registerHttpOverview } from './http/overview.js';
import { registerHttpStatic } from './http/static.js';
import { registerHttpStats } from './http/stats.js';
import { registerHttpStreams } from './http/streams.js';
import { registerIngestSocket } from './ingest/ingest-socket.js';
import type { LiveHub } from './live/live-hub.js';
import { registerLiveSocket } from './live/live-socket.js';
import { registerHttpPush } from './http/push.js';
import { registerHttpWebhooks, type WebhookLimits } from './http/webhooks.js';
import { registerHttpRules } from './http/rules.js';
import { registerHttpCampaigns } from './http/campaigns.js';
import type { Campaigns } from '../campaigns/campaigns.js';
import type { CampaignReports } from '../campaigns/campaign-report.js';
import { registerHttpTemplates } from './http/templates.js';
import { registerHttpUnsubscribe } from './http/unsubscribe.js';
import { registerHttpUsers } from './http/users.js';
import { registerHttpAudit } from './http/audit.js';
import { registerHttpPrivacy } from './http/privacy.js';
import type { UserHub } from './user/user-hub.js';
import type { UnsubscribeLinks } from '../notify/channels/email/unsubscribe-links.js';
import { registerUserSocket } from './user/user-socket.js';
import type { SocketState, SocketWriter } from './socket-writer.js';
import type { RateLimiters } from './rate-limits.js';
import { createUpgradeGate } from './upgrade-gate.js';
import { closeRevokedSockets } from './revoked-keys.js';
import { routeTable, type RouteTable } from './route-table.js';
import type { Uws } from './uws.js';

export interface ServerDeps {
  uws: Uws;
  /** The uWS app the live hub publishes on. */
  app: TemplatedApp;
  /** The one socket writer, shared with the hubs. */
  writer: SocketWriter;
  hub: LiveHub;
  catalog: StreamCatalog;
  ingest: Ingest;
  store: EventStore;
  /** Project keys, configured and made through the API. */
  auth: Authenticator;
  /** Made, listed and revoked through `/v1/keys`; a revoked key's sockets are closed. */
  keys: Pick<KeyStore, 'create' | 'list' | 'revoke' | 'onRevoked'>;
  /** End users' tokens: backline's own and the projects' JWTs. */
  users: UserCheck;
  /** Budgets per API key and per user, shared by all their sockets and requests. */
  rateLimits: RateLimiters;
  metrics: Metrics;
  log: Logger;
  readiness: ReadinessCheck;
  /** The dashboard page served at `/`. */
  assets: StaticAssets;
  /** In-app notifications: user sockets, tokens, inboxes, preferences, the decision log. */
  userHub: UserHub;
  /** Where user messages (marks, counts) go out to every node's user hub. */
  bus: Bus;
  /** Joined and left by user sockets: who is online for the in-app channel. */
  presence: Presence;
  /** Issues backline user tokens (`POST /v1/users/:id/token`). */
  tokens: Pick<UserTokens, 'issue'>;
  inbox: Inbox;
  preferences: PreferenceStore;
  decisions: DecisionLog;
  ruleCatalog: RuleCatalog;
  pushSubscriptions: PushSubscriptions;
  /** Judges push endpoints when they are subscribed. */
  pushEndpoints: Pick<OutboundUrlGuard, 'check'>;
  vapid: VapidKeys;
  /** Email templates per project and locale: the admin API at `/v1/templates`. */
  templates: EmailTemplates;
  /** Present when SendGrid's event webhook public key is configured. */
  sendgridWebhook?: SendGridWebhook;
  sesWebhook?: SesWebhook;
  /** A/B tests of rules' templates (`GET /v1/rules/:name/variants`). */
  variantReports?: VariantReports;
  /** Campaigns and their reports (`/v1/campaigns`). */
  campaigns?: { campaigns: Campaigns; reports: CampaignReports };
  /** One-click unsubscribe links (`email.unsubscribe.baseUrl` set): their route is served. */
  unsubscribeLinks?: Pick<UnsubscribeLinks, 'verify'>;
  /** Product analytics (`/v1/analytics/…`), saved cohorts, raw exports and the rest. */
  analytics: AnalyticsApis;
  /** Every admin write, erase and export is recorded here; `GET /v1/audit` reads `auditLog`. */
  audit: Pick<AuditTrail, 'record'>;
  auditLog: Pick<AuditStore, 'between'>;
  /** GDPR: `DELETE /v1/users/:id` and `GET /v1/users/:id/export`. */
  erasure: Pick<UserErasure, 'erase'>;
  exportUser(project: string, userId: string): Promise<UserExport>;
}

export interface ServerOptions {
  host: string;
  port: number; // 0 picks a free port; `port` on the server tells which
  limits: Limits;
  /** Body limits of `POST /v1/webhooks/sendgrid` (see `defaultWebhookLimits`). */
  webhooks?: Partial<WebhookLimits>;
  /** Pages of other origins allowed to call the API and open sockets (none by default). */
  cors?: CorsSettings;
}

export interface Server extends Service {
  /** The port listened on, once started. */
  readonly port: number;
  /** Every route and socket message type registered, with who may call it and what is audited. */
  routes(): RouteTable;
}

/**
 * The HTTP and WebSocket surface on one uWS app. `stop()` closes the listener, refuses new
 * frames, waits until everything accepted is durable and acknowledged, then closes the
 * sockets with 1001 (going away).
 */
export function createServer(deps: ServerDeps, options: ServerOptions): Server {
  const { uws, ingest, metrics, log } = deps;
  const { app, writer } = deps;
  const sockets = new Set<WebSocket<SocketState>>();
  const pending = new Set<Promise<unknown>>();
  const cors = createCors(options.cors ?? { origins: [], maxAgeSeconds: 600 });
  const common = {
    auth: deps.auth,
    users: deps.users,
    metrics,
    log,
    limits: options.limits,
    rateLimits: deps.rateLimits,
    cors,
    gate: createUpgradeGate({ cors, limits: options.limits }),
    audit: deps.audit,
  };

  registerIngestSocket(app, { ...common, ingest, writer }, sockets);
  registerHttpEvents(app, { ...common, ingest, pending });
  const live = { hub: deps.hub, catalog: deps.catalog, bus: deps.bus, writer };
  registerLiveSocket(app, { ...common, ...live }, sockets);
  const users = { tokens: deps.tokens, hub: deps.userHub, bus: deps.bus };
  registerUserSocket(
    app,
    { ...common, ...users, presence: deps.presence, inbox: deps.inbox, writer },
    sockets,
  );
  registerHttpUsers(app, {
    ...common,
    ...users,
    inbox: deps.inbox,
    preferences: deps.preferences,
    decisions: deps.decisions,
  });
  registerHttpRules(app, {
    ...common,
    catalog: deps.ruleCatalog,
    ...(deps.variantReports ? { variants: deps.variantReports } : {}),
  });
  registerHttpTemplates(app, { ...common, templates: deps.templates });
  if (deps.campaigns) registerHttpCampaigns(app, { ...common, ...deps.campaigns });
  if (deps.unsubscribeLinks)
    registerHttpUnsubscribe(app, {
      ...common,
      links: deps.unsubscribeLinks,
      preferences: deps.preferences,
      track: (project, event) => deps.ingest.accept(project, [event]).durable,
    });
  if (deps.sendgridWebhook || deps.sesWebhook)
    registerHttpWebhooks(
      app,
      {
        ...(deps.sendgridWebhook ? { sendgrid: deps.sendgridWebhook } : {}),
        ...(deps.sesWebhook ? { ses: deps.sesWebhook } : {}),
        metrics,
        log,
      },
      options.webhooks,
    );
  registerHttpPush(app, {
    ...common,
    track: (project, event) => deps.ingest.accept(project, [event]).durable,
    subscriptions: deps.pushSubscriptions,
    endpoints: deps.pushEndpoints,
    vapid: deps.vapid,
  });
  registerHttpPrivacy(app, {
    ...common,
    erasure: deps.erasure,
    exportUser: deps.exportUser,
  });
  registerHttpAudit(app, { ...common, auditLog: deps.auditLog });
  registerHttpStats(app, { ...common, store: deps.store });
  registerHttpStreams(app, { ...common, catalog: deps.catalog });
  registerHttpAnalyticsApis(app, { ...common, apis: deps.analytics });
  registerHttpKeys(app, { ...common, keys: deps.keys });
  deps.keys.onRevoked(closeRevokedSockets(sockets, writer));
  registerHttpOverview(app, {
    ...common,
    ingest,
    catalog: deps.catalog,
    decisions: deps.decisions,
  });
  registerHttpStatic(app, { assets: deps.assets, metrics, log });
  registerHttpPreflight(app, { cors, metrics, log });
  registerHttpOps(app, { metrics, log, readiness: deps.readiness });

  let listenSocket: us_listen_socket | undefined;
  let port = 0;

  return {
    name: 'server',
    get port() {
      return port;
    },
    routes: () => routeTable(app),

    start() {
      return new Promise<void>((resolve, reject) => {
        app.listen(options.host, options.port, (socket) => {
          if (!socket) return reject(new Error(`cannot listen on ${options.host}:${options.port}`));
          listenSocket = socket;
          port = uws.us_socket_local_port(socket as never);
          log.info({ host: options.host, port }, 'listening');
          log.debug(routeTable(app), 'routes');
          resolve();
        });
      });
    },

    async stop() {
      if (listenSocket) uws.us_listen_socket_close(listenSocket);
      listenSocket = undefined;
      ingest.close();
      await ingest.durable().catch(() => undefined);
      await Promise.allSettled([...pending]);
      // Acks are sent from promise continuations: let them run before the sockets close.
      await new Promise((resolve) => setImmediate(resolve));
      for (const ws of [...sockets])
        writer.close(ws, closeCodes.goingAway, 'server shutting down', 'shutdown');
    },
  };
}

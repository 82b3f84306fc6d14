/**
 * The composition root: the one file that knows every concrete part. It reads top to bottom
 * as the wiring of the data flow: config → storage → writer → ingest → transport.
 */
import { join } from 'node:path';
import { createKeyRegistry } from './auth/key-registry.js';
import { createUserTokens, loadUserTokenSecret } from './auth/user-token.js';
import { checkDataDir } from './ops/data-dir.js';
import { resolveDevProject } from './demo/dev-project.js';
import { ConfigError, loadConfig } from './config/load-config.js';
import { projectSchemas, type AppConfig } from './compose/config.js';
import { createDemo, demoRequested } from './demo/demo.js';
import { createDedupWindow } from './ingest/dedup-window.js';
import { createIngest } from './ingest/ingest-service.js';
import { warmDedup } from './ingest/warm-dedup.js';
import { createLifecycle, type Service } from './ops/lifecycle.js';
import { createLogger, type Logger } from './ops/logger.js';
import { createMemoryRateLimiter } from './limits/memory-rate-limiter.js';
import { createMetrics } from './ops/metrics.js';
import { StartError } from './ops/start-error.js';
import { createCaps } from './notify/caps.js';
import { createFailover } from './notify/channels/email/failover.js';
import type { EmailProvider } from './notify/channels/email/providers.js';
import { createSendGridProvider } from './notify/channels/email/sendgrid-provider.js';
import { createSendRecords } from './notify/channels/email/send-records.js';
import { createSmtpProvider } from './notify/channels/email/smtp-provider.js';
import { createSuppressions } from './notify/channels/email/suppressions.js';
import { exampleTemplates, seedTemplates } from './demo/example-templates.js';
import { createEmailTemplates } from './notify/channels/email/templates.js';
import { createSendGridWebhook, decisionRecorder } from './notify/channels/email/webhook.js';
import { createOutboundUrlGuard } from './notify/channels/web-push/outbound-url.js';
import { createPushSubscriptions } from './notify/channels/web-push/push-subscriptions.js';
import { loadVapidKeys } from './notify/channels/web-push/vapid.js';
import { createDecisionLog } from './notify/decision-log.js';
import type { DecisionRow } from './model/decision.js';
import { createDecisionStore, decisionsTable } from './storage/decision-store.js';
import { createSegmentQuery } from './storage/segment-query.js';
import { openChannels } from './notify/channels/index.js';
import { createDelivery } from './notify/delivery.js';
import { createInbox } from './notify/inbox.js';
import { createPreferences } from './notify/preferences.js';
import { createRouter } from './notify/router.js';
import { createRuleCatalog } from './rules/rule-catalog.js';
import { createRulesService } from './rules/rules-service.js';
import { openLmdbStateStore } from './state/lmdb-state-store.js';
import { createTimers } from './state/timers.js';
import { createPipelineService } from './pipeline/pipeline-service.js';
import { replayRecent } from './pipeline/replay-recent.js';
import { createRollupStore } from './storage/rollup-store.js';
import { createStoredWindowSink } from './pipeline/stored-window-sink.js';
import { createStreamCatalog } from './pipeline/stream-catalog.js';
import { createWindowCache } from './pipeline/window-cache.js';
import { createBatchWriter } from './storage/batch-writer.js';
import { insertInto } from './storage/clickhouse.js';
import { createEventStore, eventsTable } from './storage/event-store.js';
import type { EventRow } from './model/event.js';
import { openSpool } from './storage/spool.js';
import { createStorageService } from './storage/storage-service.js';
import { createDashboardAssets } from './static/dashboard-assets.js';
import { createWindowStore, windowsTable, type WindowRow } from './storage/window-store.js';
import { createLiveHub } from './transport/live-hub.js';
import { createRateLimiters } from './transport/rate-limits.js';
import { createSocketWriter } from './transport/socket-writer.js';
import { createUserHub } from './transport/user-hub.js';
import { createServer } from './transport/server.js';
import { loadUws } from './transport/uws.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env, projectSchemas);
  checkDataDir(config.dataDir);
  const log = createLogger(config.logLevel);
  const { uws, native, reasons } = loadUws(config.allowWsFallback);
  if (!native)
    log.warn(
      { reasons },
      'running on the uWebSockets.js `ws` fallback: expect far lower throughput',
    );
  if (config.redisUrl)
    log.warn('REDIS_URL is set; single-node mode ignores it until cluster mode lands');

  const dev = resolveDevProject(config);
  const projects = dev ? [dev.project] : config.projects;
  const auth = createKeyRegistry(projects);
  const metrics = createMetrics();
  // Per key and per user, in memory on this node; cluster mode passes Redis limiters here.
  const rateLimits = createRateLimiters(config.limits, (limit) => createMemoryRateLimiter(limit));

  const storage = createStorageService(
    {
      dataDir: config.dataDir,
      clickhouseUrl: config.clickhouseUrl,
      retentionDays: config.storage.retentionDays,
    },
    log,
  );
  const store = createEventStore(storage.ch);
  const writer = createBatchWriter<EventRow>(
    {
      table: eventsTable,
      insert: store.insert,
      spool: openSpool(join(config.dataDir, 'spool', eventsTable)),
      metrics,
      log,
    },
    config.storage,
  );
  const dedup = createDedupWindow({
    windowMs: config.storage.dedupWindowMs,
    maxIds: config.storage.dedupMaxIds,
  });
  const ingest = createIngest({ writer, dedup, metrics, limits: config.limits });

  const windowStore = createWindowStore(storage.ch);
  const windowWriter = createBatchWriter<WindowRow>(
    {
      table: windowsTable,
      insert: windowStore.insert,
      spool: openSpool(join(config.dataDir, 'spool', windowsTable)),
      metrics,
      log,
    },
    { ...config.storage, flushIntervalMs: 1000, retryUnstored: true },
  );
  // Notifications: state in LMDB, decisions in ClickHouse, in-app over user sockets.
  const state = openLmdbStateStore(join(config.dataDir, 'state'));
  const timers = createTimers(state, log);
  const decisionWriter = createBatchWriter<DecisionRow>(
    {
      table: decisionsTable,
      insert: insertInto<DecisionRow>(storage.ch, decisionsTable),
      spool: openSpool(join(config.dataDir, 'spool', decisionsTable)),
      metrics,
      log,
    },
    { ...config.storage, flushIntervalMs: 200, retryUnstored: true },
  );
  const decisions = createDecisionLog({
    writer: decisionWriter,
    store: createDecisionStore(storage.ch),
    metrics,
  });
  const inbox = createInbox(state);
  const preferences = createPreferences(state);
  const capsByProject = new Map(
    projects.map((project) => [project.id, project.notifications.caps]),
  );
  const caps = createCaps(state, (project) => capsByProject.get(project) ?? []);
  const tokens = createUserTokens(loadUserTokenSecret(config.dataDir, config.userTokenSecret));
  const userHub = createUserHub(createSocketWriter(metrics));
  const vapid = loadVapidKeys(config.dataDir, {
    publicKey: config.push.vapidPublicKey,
    privateKey: config.push.vapidPrivateKey,
    subject: config.push.vapidSubject,
  });
  const pushSubscriptions = createPushSubscriptions(state);
  // Endpoints are user input: judged when subscribed and on every connection. SendGrid's
  // and SMTP's URLs are the operator's settings, so they are not judged.
  const pushEndpoints = createOutboundUrlGuard(
    {},
    {
      allowInsecureLoopback: config.push.allowInsecureLoopback,
      allowedHosts: config.push.allowedHosts,
    },
  );
  // Channel results become events in the project's stream, like any other event.
  const trackResult = (project: string, event: object) => {
    try {
      ingest
        .accept(project, [event])
        .durable.catch((err: unknown) => log.warn({ err }, 'channel result event not stored'));
    } catch (err) {
      log.warn({ err }, 'channel result event refused');
    }
  };
  const suppressions = createSuppressions(state);
  const sendRecords = createSendRecords(state);
  const emailTemplates = createEmailTemplates(state);
  if (dev) await seedTemplates(emailTemplates, dev.project.id, exampleTemplates);
  const emailProvider = openEmailProvider(config.email, log);
  const { from, replyTo, rateLimit } = config.email;
  const channels = openChannels({
    inApp: userHub,
    webPush: {
      subscriptions: pushSubscriptions,
      vapid,
      endpoints: pushEndpoints,
      metrics,
      log,
      onResult: (project, _user, event) => trackResult(project, event),
    },
    email:
      emailProvider && from
        ? {
            templates: emailTemplates,
            preferences,
            suppressions,
            records: sendRecords,
            provider: emailProvider,
            from,
            ...(replyTo ? { replyTo } : {}),
            rateLimit,
          }
        : undefined,
  });
  const sendgridWebhook = config.email.sendgrid.webhookPublicKey
    ? createSendGridWebhook({
        publicKey: config.email.sendgrid.webhookPublicKey,
        ingestEvents: (project, events) => ingest.accept(project, events).durable,
        suppressions,
        records: sendRecords,
        recordSuppression: decisionRecorder(decisions),
        knownProject: (project) => projects.some((p) => p.id === project),
        log,
      })
    : undefined;
  const delivery = createDelivery({ channels, timers, decisions, log });
  const emailService = {
    name: 'email',
    start: async () => undefined,
    stop: async () => emailProvider?.close?.(),
  };
  const router = createRouter({
    state,
    preferences,
    caps,
    inbox,
    channels,
    delivery,
    decisions,
    timers,
  });
  const stateService = { name: 'state', start: async () => undefined, stop: () => state.close() };
  const rules = createRulesService({
    state,
    timers,
    segments: createSegmentQuery(storage.ch),
    route: router.route,
    metrics,
    log,
  });
  const ruleCatalog = createRuleCatalog({ rules, file: join(config.dataDir, 'rules.json') });
  // Rules exist before the timers start: a timer due at start looks its rule up.
  for (const project of projects) {
    for (const spec of ruleCatalog.specsFor(project.id, project.rules ?? []))
      rules.define(project.id, spec);
  }
  ingest.onAccepted(rules.onEvents);

  const app = uws.App();
  const hub = createLiveHub(app, metrics);
  const cache = createWindowCache();
  const pipeline = createPipelineService(
    {
      sinks: [hub.sink, cache.sink, createStoredWindowSink(windowWriter), rules.windowSink],
      metrics,
      log,
    },
    {},
  );
  const catalog = createStreamCatalog({
    pipeline,
    cache,
    store: windowStore,
    rollups: createRollupStore(storage.ch),
    file: join(config.dataDir, 'streams.json'),
    log,
  });
  for (const project of projects) {
    for (const spec of catalog.specsFor(project.id, project.streams ?? []))
      pipeline.define(project.id, spec);
  }
  ingest.onAccepted(pipeline.feed);
  metrics.countOpenWindowsWith(pipeline.openWindowCount);

  let ready = false;
  const server = createServer(
    {
      uws,
      app,
      hub,
      catalog,
      ingest,
      store,
      auth,
      rateLimits,
      metrics,
      log,
      readiness: { ready: () => (ready ? store.ping() : Promise.reject(new Error('starting'))) },
      assets: createDashboardAssets(),
      userHub,
      tokens,
      inbox,
      preferences,
      decisions,
      ruleCatalog,
      pushSubscriptions,
      pushEndpoints,
      vapid,
      templates: emailTemplates,
      ...(sendgridWebhook ? { sendgridWebhook } : {}),
    },
    {
      host: config.host,
      port: config.port,
      limits: config.limits,
      webhooks: {
        maxBodyBytes: config.email.sendgrid.webhookMaxBodyBytes,
        maxInFlight: config.email.sendgrid.webhookMaxInFlight,
        bodyTimeoutMs: config.email.sendgrid.webhookBodyTimeoutMs,
      },
    },
  );
  const rollupsReady = {
    name: 'rollups',
    start: () => catalog.ensureRollups(projects.map((p) => p.id)),
    stop: async () => undefined,
  };
  const openWindowsRestored = {
    name: 'open-windows-restored',
    start: async () => {
      for (const project of projects) {
        const events = await replayRecent({ store, pipeline, log }, project.id);
        log.info({ project: project.id, events }, 'open windows rebuilt from stored events');
      }
    },
    stop: async () => undefined,
  };
  const dedupWarmUp = {
    name: 'dedup-warm-up',
    start: async () => {
      const ids = await warmDedup(dedup, store, {
        windowMs: config.storage.dedupWindowMs,
        maxIds: config.storage.dedupMaxIds,
      });
      log.info({ ids }, 'de-duplication window restored');
    },
    stop: async () => undefined,
  };

  const lifecycle = createLifecycle(log);
  let stopping: Promise<void> | undefined;
  const shutdown = (signal: string) => {
    stopping ??= (async () => {
      ready = false;
      log.info({ signal }, 'shutting down: flushing every buffer');
      const timer = setTimeout(() => {
        log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out');
        process.exit(1);
      }, config.shutdownTimeoutMs);
      await lifecycle.stop();
      clearTimeout(timer);
      log.info('stopped');
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  // Demo mode: synthetic live-music events for the dev project, sent over the server's own
  // ingest socket; started last, so it is stopped first and its last events are acknowledged.
  const demo: Service[] = [];
  if (demoRequested(process.argv, process.env)) {
    const origin = () => localOrigin(config.host, server.port);
    if (dev) demo.push(createDemo({ origin, key: devKey(dev), log }));
    else log.warn('demo mode feeds the dev project, which `projects` in the config replace');
  }

  // Stopped in reverse: the server drains ingest, the pipeline completes, then the writers flush.
  await lifecycle.start([
    stateService,
    storage,
    decisionWriter,
    rollupsReady,
    windowWriter,
    writer,
    dedupWarmUp,
    pipeline,
    openWindowsRestored,
    rules,
    emailService,
    timers,
    server,
    ...demo,
  ]);
  ready = true;
  announce(server.port, config.host, dev);
}

/** SendGrid, SMTP, or both with failover; none when neither is configured. */
function openEmailProvider(email: AppConfig['email'], log: Logger): EmailProvider | undefined {
  const sendgrid = email.sendgrid.apiKey
    ? createSendGridProvider(
        { apiKey: email.sendgrid.apiKey },
        { baseUrl: email.sendgrid.baseUrl, timeoutMs: email.sendgrid.timeoutMs },
      )
    : undefined;
  const { url, requireTls, caFile, maxConnections } = email.smtp;
  const smtp = url
    ? createSmtpProvider({ url, requireTls, ...(caFile ? { caFile } : {}) }, { maxConnections })
    : undefined;
  if (sendgrid && smtp)
    return createFailover({ primary: sendgrid, secondary: smtp, log }, email.failover);
  return sendgrid ?? smtp;
}

function localOrigin(host: string, port: number): string {
  return `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`;
}

const devKey = (dev: NonNullable<ReturnType<typeof resolveDevProject>>) => dev.project.keys[0]!.key;

function announce(port: number, host: string, dev: ReturnType<typeof resolveDevProject>): void {
  const origin = localOrigin(host, port);
  const lines = [
    `backline listening on ${origin} (ingest socket ${origin.replace('http', 'ws')}/v1/ingest)`,
    `dashboard: ${origin}/${dev ? `?key=${devKey(dev)}` : ''}`,
  ];
  if (dev) {
    lines.push(`dev project key (${dev.source}): ${dev.project.keys[0]!.key}`);
    lines.push(
      `try: curl -s -X POST '${origin}/v1/events?key=${dev.project.keys[0]!.key}' -H 'content-type: application/json' ` +
        `-d "{\\"events\\":[{\\"id\\":\\"$(date +%s%N)\\",\\"type\\":\\"page.view\\",\\"ts\\":$(date +%s%3N)}]}"`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else if (err instanceof StartError) console.error(`backline cannot start: ${err.message}`);
  else console.error('backline failed to start:', err);
  process.exit(1);
});

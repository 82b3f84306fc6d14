/**
 * The composition root: the one place that knows every concrete part. It reads top to bottom
 * as the data flow: config → storage → ingest → notify ← rules ← pipeline → transport, each
 * wired in src/compose/, then started in order and stopped in reverse (src/ops/lifecycle.ts).
 */
import { announce, localOrigin } from './compose/announce.js';
import { composeCluster } from './compose/cluster.js';
import { projectSchemas } from './compose/config.js';
import { composeIngest } from './compose/ingest.js';
import { composeNotify } from './compose/notify.js';
import { composePipeline } from './compose/pipeline.js';
import { composePrivacy } from './compose/privacy.js';
import { composeRules } from './compose/rules.js';
import { composeStorage } from './compose/storage.js';
import { composeServer, composeSockets, openUws } from './compose/transport.js';
import { ConfigError, loadConfig } from './config/load-config.js';
import { demoRequested, demoServices } from './demo/demo.js';
import { resolveDevProject } from './demo/dev-project.js';
import { checkDataDir } from './ops/data-dir.js';
import { createLifecycle, shutdownOnSignals } from './ops/lifecycle.js';
import { createLogger } from './ops/logger.js';
import { createMetrics } from './ops/metrics.js';
import { StartError } from './ops/start-error.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env, projectSchemas);
  checkDataDir(config.dataDir);
  const log = createLogger(config.logLevel);
  const uws = openUws(config, log);
  if (config.redisUrl)
    log.warn('REDIS_URL is set; single-node mode ignores it until cluster mode lands');
  const dev = resolveDevProject(config);
  const projects = dev ? [dev.project] : config.projects;
  const metrics = createMetrics();
  const lifecycle = createLifecycle(log);
  const base = { projects, metrics, log };

  const cluster = composeCluster(base);
  const { bus, presence } = cluster;
  const stored = composeStorage(config, base);
  const { ingest, dedupWarmUp } = composeIngest(config, { stored, ...base });
  const sockets = composeSockets(uws, metrics, config.live, bus);
  const notify = await composeNotify(config, {
    stored,
    ingest,
    inApp: { bus, presence },
    dev,
    ...base,
  });
  const { rules, ruleCatalog } = composeRules(config, {
    stored,
    ingest,
    route: notify.router.route,
    bus,
    ...base,
  });
  const { pipeline, catalog, rollupsReady, openWindowsRestored } = composePipeline(config, {
    stored,
    ingest,
    bus,
    rules: rules.windowSink,
    ...base,
  });
  const privacy = composePrivacy(config, { stored, notify, catalog, ...base });
  const server = composeServer(config, {
    uws,
    sockets,
    stored,
    ingest,
    catalog,
    ruleCatalog,
    notify,
    privacy,
    bus,
    presence,
    readiness: {
      ready: () =>
        lifecycle.running() ? stored.events.ping() : Promise.reject(new Error('starting')),
    },
    ...base,
  });
  // Demo mode: synthetic live-music events for the dev project, sent over the server's own
  // ingest socket; started last, so it is stopped first and its last events are acknowledged.
  const demo = demoServices(demoRequested(process.argv, process.env), dev, {
    origin: () => localOrigin(config.host, server.port),
    log,
  });

  shutdownOnSignals(lifecycle, log, { timeoutMs: config.shutdownTimeoutMs });
  // Stopped in reverse: the server drains ingest, the pipeline completes, then the writers flush.
  await lifecycle.start([
    cluster.service,
    stored.stateService,
    stored.storage,
    stored.decisionWriter,
    stored.auditWriter,
    rollupsReady,
    stored.windowWriter,
    stored.eventWriter,
    dedupWarmUp,
    pipeline,
    openWindowsRestored,
    rules,
    notify.email.service,
    stored.timers,
    privacy.erasure,
    sockets.hub,
    server,
    ...demo,
  ]);
  announce(server.port, config.host, dev);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else if (err instanceof StartError) console.error(`backline cannot start: ${err.message}`);
  else console.error('backline failed to start:', err);
  process.exit(1);
});

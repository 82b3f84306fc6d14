/**
 * The composition root: the one place that knows every concrete part. It reads top to bottom
 * as the data flow: config → storage → ingest → notify ← rules ← pipeline → transport, each
 * wired in src/compose/, then started in order and stopped in reverse (src/ops/lifecycle.ts).
 */
import { announce, localOrigin } from './compose/announce.js';
import { composeAuth } from './compose/auth.js';
import { composeCluster } from './compose/cluster.js';
import { joinCluster, withClusterFlag } from './compose/cluster-node.js';
import { withSharedSecrets } from './compose/cluster-secrets.js';
import { composeClusterWork } from './compose/cluster-work.js';
import { projectSchemas } from './compose/config.js';
import { composeIngest } from './compose/ingest.js';
import { composeNotify } from './compose/notify.js';
import { composePipeline } from './compose/pipeline.js';
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
  const loaded = withClusterFlag(loadConfig(process.env, projectSchemas), process.argv);
  checkDataDir(loaded.dataDir);
  const metrics = createMetrics();
  const rootLog = createLogger(loaded.logLevel);
  // Cluster mode (REDIS_URL, or --cluster): this node joins the others through Redis.
  const node = loaded.redisUrl ? await joinCluster(loaded, { metrics, log: rootLog }) : undefined;
  const log = node?.log ?? rootLog;
  const config = node ? await withSharedSecrets(loaded, node.state) : loaded;
  const uws = openUws(config, log);
  const dev = resolveDevProject(config);
  const projects = dev ? [dev.project] : config.projects;
  const lifecycle = createLifecycle(log);
  const base = { projects, metrics, log };

  const cluster = node ?? composeCluster(base);
  const { bus, presence } = cluster;
  const stored = composeStorage(config, { node, ...base });
  const { ingest, services: ingestServices } = composeIngest(config, { stored, node, ...base });
  const sockets = composeSockets(uws, metrics, config.live, bus, config.tls);
  const secure = config.tls.certFile !== undefined;
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
    node,
    route: notify.router.route,
    bus,
    ...base,
  });
  const { pipeline, catalog, cache, rollups, restored } = composePipeline(config, {
    stored,
    ingest,
    node,
    bus,
    rules: rules.windowSink,
    ...base,
  });
  // A single node runs all the work itself; a cluster shares it out under leases.
  const work = node
    ? composeClusterWork(config, { node, stored, pipeline, cache, rules, ...base })
    : { storage: [], compute: [], timers: stored.timers };
  const auth = composeAuth(config, { state: stored.state, bus, ...base });
  const server = composeServer(config, {
    uws,
    sockets,
    auth,
    stored,
    ingest,
    catalog,
    ruleCatalog,
    notify,
    bus,
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
  // Demo mode: synthetic live-music events for the dev project, sent over the server's own
  // ingest socket; started last, so it is stopped first and its last events are acknowledged.
  const demo = demoServices(demoRequested(process.argv, process.env), dev, {
    origin: () => localOrigin(config.host, server.port, secure),
    ...(config.tls.certFile ? { serverCertFile: config.tls.certFile } : {}),
    log,
  });

  shutdownOnSignals(lifecycle, log, { timeoutMs: config.shutdownTimeoutMs });
  // Stopped in reverse: the server drains ingest, the pipeline completes, then the writers flush.
  await lifecycle.start([
    cluster.service,
    stored.stateService,
    stored.storage,
    ...work.storage,
    stored.decisionWriter,
    ...rollups,
    stored.windowWriter,
    ...ingestServices,
    pipeline,
    ...restored,
    rules,
    ...work.compute,
    notify.email.service,
    work.timers,
    sockets.hub,
    auth.keys,
    server,
    ...demo,
  ]);
  announce(server.port, config.host, dev, secure);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else if (err instanceof StartError) console.error(`backline cannot start: ${err.message}`);
  else console.error('backline failed to start:', err);
  process.exit(1);
});

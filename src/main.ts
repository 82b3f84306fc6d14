/**
 * The composition root: config and cluster membership, then the node (src/compose/node.ts:
 * every part, wired as the data flow), the demo, started in order and stopped in reverse
 * (src/ops/lifecycle.ts).
 */
import { announce, localOrigin } from './compose/announce.js';
import { joinCluster, withClusterFlag } from './compose/cluster-node.js';
import { withSharedSecrets } from './compose/cluster-secrets.js';
import { projectSchemas } from './compose/config.js';
import { composeNode } from './compose/node.js';
import { ConfigError, loadConfig } from './config/load-config.js';
import { demoHistoryRequested, demoRequested, demoServices } from './demo/demo.js';
import { resolveDevProject } from './demo/dev-project.js';
import { checkDataDir } from './ops/data-dir.js';
import { createLifecycle, shutdownOnSignals } from './ops/lifecycle.js';
import { createLogger } from './ops/logger.js';
import { createMetrics } from './ops/metrics.js';
import { StartError } from './ops/start-error.js';
import { createMusicHistoryStore } from './storage/analytics/music-history-store.js';

async function main(): Promise<void> {
  const loaded = withClusterFlag(loadConfig(process.env, projectSchemas), process.argv);
  checkDataDir(loaded.dataDir);
  const metrics = createMetrics();
  const rootLog = createLogger(loaded.logLevel);
  // Cluster mode (REDIS_URL, or --cluster): this node joins the others through Redis.
  const node = loaded.redisUrl ? await joinCluster(loaded, { metrics, log: rootLog }) : undefined;
  const log = node?.log ?? rootLog;
  const config = node ? await withSharedSecrets(loaded, node.state) : loaded;
  const dev = resolveDevProject(config);
  const lifecycle = createLifecycle(log);
  const { server, stored, services } = await composeNode(config, {
    node,
    dev,
    lifecycle,
    metrics,
    log,
  });
  const secure = config.tls.certFile !== undefined;
  // Demo mode: 90 days of live-music history stored once, then synthetic live events for the
  // dev project, sent over the server's own ingest socket; started last, so it is stopped
  // first and its last events are acknowledged.
  const requested = {
    live: demoRequested(process.argv, process.env),
    history: demoHistoryRequested(process.env),
  };
  const demo = demoServices(requested, dev, {
    history: createMusicHistoryStore(stored.storage.ch),
    origin: () => localOrigin(config.host, server.port, secure),
    ...(config.tls.certFile ? { serverCertFile: config.tls.certFile } : {}),
    log,
  });

  shutdownOnSignals(lifecycle, log, { timeoutMs: config.shutdownTimeoutMs });
  await lifecycle.start([...services, ...demo]);
  announce(server.port, config.host, dev, secure);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else if (err instanceof StartError) console.error(`backline cannot start: ${err.message}`);
  else console.error('backline failed to start:', err);
  process.exit(1);
});

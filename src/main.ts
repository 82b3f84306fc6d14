/**
 * The composition root: the one file that knows every concrete part. It reads top to bottom
 * as the wiring of the data flow: config → storage → writer → ingest → transport.
 */
import { join } from 'node:path';
import { createKeyRegistry } from './auth/key-registry.js';
import { resolveDevProject } from './config/dev-project.js';
import { ConfigError, loadConfig } from './config/load-config.js';
import { createDedupWindow } from './ingest/dedup-window.js';
import { createIngest } from './ingest/ingest-service.js';
import { warmDedup } from './ingest/warm-dedup.js';
import { createLifecycle } from './ops/lifecycle.js';
import { createLogger } from './ops/logger.js';
import { createMetrics } from './ops/metrics.js';
import { createPipelineService } from './pipeline/pipeline-service.js';
import { replayRecent } from './pipeline/replay-recent.js';
import { createRollups } from './pipeline/rollups.js';
import { createStoredWindowSink } from './pipeline/stored-window-sink.js';
import { createStreamCatalog } from './pipeline/stream-catalog.js';
import { createWindowCache } from './pipeline/window-cache.js';
import { createBatchWriter } from './storage/batch-writer.js';
import { createEventStore, eventsTable, type EventRow } from './storage/event-store.js';
import { openSpool } from './storage/spool.js';
import { createStorageService } from './storage/storage-service.js';
import { createWindowStore, windowsTable, type WindowRow } from './storage/window-store.js';
import { createLiveHub } from './transport/live-hub.js';
import { createServer } from './transport/server.js';
import { loadUws } from './transport/uws.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const log = createLogger(config.logLevel);
  const { uws, native } = loadUws(config.allowWsFallback);
  if (!native) log.warn('running on the uWebSockets.js `ws` fallback: expect far lower throughput');
  if (config.redisUrl)
    log.warn('REDIS_URL is set; single-node mode ignores it until cluster mode lands');

  const dev = resolveDevProject(config);
  const projects = dev ? [dev.project] : config.projects;
  const auth = createKeyRegistry(projects);
  const metrics = createMetrics();

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
    { ...config.storage, flushIntervalMs: 1000 },
  );
  const app = uws.App();
  const hub = createLiveHub(app, metrics);
  const cache = createWindowCache();
  const pipeline = createPipelineService(
    { sinks: [hub.sink, cache.sink, createStoredWindowSink(windowWriter)], metrics, log },
    {},
  );
  const catalog = createStreamCatalog({
    pipeline,
    cache,
    store: windowStore,
    rollups: createRollups(storage.ch),
    file: join(config.dataDir, 'streams.json'),
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
      metrics,
      log,
      readiness: { ready: () => (ready ? store.ping() : Promise.reject(new Error('starting'))) },
    },
    { host: config.host, port: config.port, limits: config.limits },
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

  // Stopped in reverse: the server drains ingest, the pipeline completes, then the writers flush.
  await lifecycle.start([
    storage,
    rollupsReady,
    windowWriter,
    writer,
    dedupWarmUp,
    pipeline,
    openWindowsRestored,
    server,
  ]);
  ready = true;
  announce(server.port, config.host, dev);
}

function announce(port: number, host: string, dev: ReturnType<typeof resolveDevProject>): void {
  const origin = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`;
  const lines = [
    `backline listening on ${origin} (ingest socket ${origin.replace('http', 'ws')}/v1/ingest)`,
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
  else console.error('backline failed to start:', err);
  process.exit(1);
});

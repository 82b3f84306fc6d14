import { join } from 'node:path';
import type { Bus } from '../cluster/bus.js';
import type { Ingest } from '../ingest/ingest-service.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { createBusWindowSink, windowsFromBus } from '../pipeline/bus-window-sink.js';
import { createPipelineService, type WindowSink } from '../pipeline/pipeline-service.js';
import { replayRecent } from '../pipeline/replay-recent.js';
import { createStoredWindowSink } from '../pipeline/stored-window-sink.js';
import { createStreamCatalog } from '../pipeline/stream-catalog.js';
import { createWindowCache } from '../pipeline/window-cache.js';
import type { ClusterNode } from './cluster-node.js';
import type { AppConfig } from './config.js';
import type { Stored } from './storage.js';

/**
 * Metric streams: fed by ingest; each window result goes out on the bus (to the live
 * dashboards and the recent cache of every node), to storage and to the rules. Their rollups are made ready and their open windows rebuilt
 * from stored events at start. On a cluster node (`node`) the partition owner feeds them and
 * rebuilds open windows (cluster-work.ts), the definitions are the cluster's, and rollups are
 * made by the nodes that migrate ClickHouse (not `remote` ones) and rolled up by one of them.
 */
export function composePipeline(
  config: AppConfig,
  deps: {
    stored: Stored;
    ingest: Ingest;
    node: ClusterNode | undefined;
    bus: Bus;
    rules: WindowSink;
    projects: AppConfig['projects'];
    metrics: Metrics;
    log: Logger;
  },
) {
  const { stored, node, projects, metrics, log } = deps;
  const { bus, rules } = deps;
  const cache = createWindowCache();
  windowsFromBus(bus, cache.sink);
  const sinks = [createBusWindowSink(bus), createStoredWindowSink(stored.windowWriter), rules];
  const pipeline = createPipelineService({ sinks, metrics, log }, {});
  const catalog = createStreamCatalog({
    pipeline,
    cache,
    store: stored.windows,
    rollups: stored.rollups,
    ...(node
      ? { saved: node.definitions.streams }
      : { file: join(config.dataDir, 'streams.json') }),
    bus,
    log,
  });
  for (const project of projects) {
    for (const spec of catalog.specsFor(project.id, project.streams ?? []))
      pipeline.define(project.id, spec);
  }
  if (!node) deps.ingest.onAccepted(pipeline.feed);
  metrics.countOpenWindowsWith(pipeline.openWindowCount);

  const rollupsReady = {
    name: 'rollups',
    start: () => catalog.ensureRollups(projects.map((p) => p.id)),
    stop: async () => undefined,
  };
  const openWindowsRestored = {
    name: 'open-windows-restored',
    start: async () => {
      for (const project of projects) {
        const events = await replayRecent({ store: stored.events, pipeline, log }, project.id);
        log.info({ project: project.id, events }, 'open windows rebuilt from stored events');
      }
    },
    stop: async () => undefined,
  };
  return {
    pipeline,
    catalog,
    cache,
    /** Run once storage is ready, before the streams take events. A cluster node's roller
     * runs under a lease (cluster-work.ts). */
    rollups: node
      ? node.storage === 'remote'
        ? []
        : [rollupsReady]
      : [rollupsReady, stored.roller],
    /** Run once the streams are defined, before ingest opens. */
    restored: node ? [] : [openWindowsRestored],
  };
}

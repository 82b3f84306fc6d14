import { describeCluster, startCluster, type Cluster } from './cluster-nodes.js';
import { holdIdle } from './connection-capacity.js';
import { sleep } from './deadline.js';
import {
  rssPerSocket,
  socketsBound,
  socketsTable,
  socketsVerdict,
  type SocketsFigures,
} from './cluster-sockets-figures.js';
import { mergeCounts } from './fleet-result.js';
import { openFleet, type Fleet } from './load-fleet.js';
import { maxSocketsPerNode, type BenchOptions } from './options.js';
import { watchCpu, type CpuWindow } from './process-cpu.js';
import { failedResult, type Scenario, type ScenarioResult } from './scenario.js';
import { byLabel, scrapeMetrics, sumOf } from './server-metrics.js';
import { workerCommand } from './worker-process.js';

const name = 'cluster-sockets';
// Long enough for the kernel to account the new sockets' pages and for a ping to pass.
const settleMs = 1000;
// Per load worker: two addresses of 28,232 ports each leave most ports free whatever
// TIME_WAIT earlier runs left on them.
const addressesPerWorker = 2;
// Handshakes in progress per node, over all workers. uWS drops an upgrade whose request has
// not arrived 10 s after its accept, and a load worker starved on the shared cores writes its
// requests late: with 100 per node over 6 nodes, the workers' event loops stalled up to
// 8.7 s and 219 of 100,000 handshakes were reset (load average 17). One worker opening
// 16,000 took 1.25 ms of CPU per handshake with 30 in flight, 2 ms with 100.
const handshakesPerNode = 40;
const closedMetric = 'backline_transport_closed_by_server_total';
const refusedMetric = 'backline_transport_upgrades_refused_total';
// The node's event-loop delay since its last scrape (src/ops/metrics.ts).
const loopDelayMetric = 'backline_ops_event_loop_lag_seconds{stat="max"}';

/**
 * Issue #10, item 9: idle ingest sockets held across the `--cluster` nodes at once (goal:
 * 100,000 on this 2-core machine, 0 errors), opened round robin over the nodes by load
 * workers of at most 19,500 sockets each, every worker on source addresses of its own. Each
 * node's own gauge says what it holds; any socket lost is a failure.
 */
// The watchdog's allowance: opening 100,000 sockets took 293 s on this machine while other
// work kept its load average above 10.
export const clusterSockets: Scenario = { name, loads: 8, run: runClusterSockets };

async function runClusterSockets(options: BenchOptions): Promise<ScenarioResult> {
  const nodes = options.cluster;
  const workers = Math.max(options.workers, Math.ceil(options.clusterSockets / maxSocketsPerNode));
  const commands = [
    ...describeCluster(nodes),
    `${workers} × ${workerCommand}, ${addressesPerWorker} loopback source addresses each, ` +
      'sockets of bench/idle-ws-client.ts',
  ];
  let cluster: Cluster;
  try {
    cluster = await startCluster(nodes);
  } catch (err) {
    return failedResult(name, err, commands);
  }
  try {
    const figures = await measure(cluster, workers, options);
    const verdict = socketsVerdict(figures, cluster);
    return { scenario: name, ...verdict, figures, table: socketsTable(figures), commands };
  } catch (err) {
    return failedResult(name, err, commands);
  } finally {
    await cluster.stop();
  }
}

/** Opens the sockets over the nodes, holds them idle, and reads what each side holds. */
async function measure(cluster: Cluster, workers: number, options: BenchOptions) {
  const { cluster: nodes, clusterSockets: sockets } = options;
  const handshakes = Math.ceil((handshakesPerNode * nodes) / workers);
  const processes = [
    ...cluster.nodes.map((node, i) => ({ name: `node ${i + 1}`, pid: node.pid })),
    { name: 'redis-server', pid: cluster.redis.pid },
  ];
  await sleep(settleMs);
  const rssBefore = cluster.nodes.map((node) => node.rssBytes() ?? 0);
  // A scrape resets each node's event-loop delay, so the next one covers the open and hold.
  await Promise.all(cluster.nodes.map((node) => scrapeMetrics(node.port)));
  let watch = watchCpu(processes);
  let fleet: Fleet | undefined;
  try {
    fleet = await openFleet({
      transport: 'idle-ws',
      url: cluster.nodes.map((_, i) => cluster.socketUrl(i, '/v1/ingest')),
      sockets,
      workers,
      connectTimeoutMs: 30_000,
      addressesPerWorker,
      handshakesPerWorker: handshakes,
      onOpening: () => (watch = watchCpu(processes)),
    });
    const cpu = openingCpu(watch.read(), fleet);
    const hold = await holdIdle(fleet, options);
    const scraped = await Promise.all(cluster.nodes.map((node) => scrapeMetrics(node.port)));
    const held = scraped.map((series) => sumOf(series, 'backline_transport_connections'));
    const rssWith = cluster.nodes.map((node) => node.rssBytes() ?? 0);
    const redis = await cluster.joinedRedis();
    return {
      nodes,
      requested: sockets,
      workers,
      sourceAddresses: workers * addressesPerWorker,
      handshakesInFlight: handshakes * workers,
      opened: fleet.opened,
      connectMs: fleet.connectMs,
      cpuWhileOpening: cpu,
      loopDelayMaxMs: {
        nodes: scraped.map((series) => Math.round((series.get(loopDelayMetric) ?? 0) * 1000)),
        workers: fleet.opening.loopDelayMaxMs,
      },
      heldAfterSeconds: hold.seconds,
      stillOpen: hold.open,
      closedAfterOpening: hold.closed,
      heldPerNode: held,
      heldByNodes: held.reduce((a, b) => a + b, 0),
      errors: mergeCounts([fleet.errors, hold.errors]),
      closedByServer: mergeCounts(scraped.map((series) => byLabel(series, closedMetric, 'reason'))),
      upgradesRefused: mergeCounts(scraped.map((series) => byLabel(series, refusedMetric, 'code'))),
      rssPerNodeBytes: rssWith,
      rssPerSocketBytes: rssPerSocket(rssBefore, rssWith, held),
      redisRssBytes: cluster.redis.rssBytes(),
      clusterMode: redis.joined,
      redisKeys: redis.keys,
      bound: socketsBound(nodes, sockets),
    } satisfies SocketsFigures;
  } finally {
    await fleet?.close();
  }
}

/** The nodes' and redis-server's CPU over the open, with the workers' own time beside them. */
function openingCpu(window: CpuWindow, fleet: Fleet): CpuWindow {
  const seconds = fleet.connectMs / 1000;
  const percent = seconds > 0 ? Math.round((fleet.opening.cpuSeconds / seconds) * 1000) / 10 : 0;
  const workers = fleet.opening.loopDelayMaxMs.length;
  return {
    ...window,
    processes: [...window.processes, { name: `load workers (${workers})`, percent }],
  };
}

import { describeCluster, startCluster, type Cluster } from './cluster-nodes.js';
import { holdIdle } from './connection-capacity.js';
import { sleep } from './deadline.js';
import { mergeCounts } from './fleet-result.js';
import { openFleet, type Fleet } from './load-fleet.js';
import { byCode, count, mebibytes } from './number-format.js';
import { clusterSocketsGoal, maxSocketsPerNode, type BenchOptions } from './options.js';
import { failedResult, type Scenario, type ScenarioResult } from './scenario.js';
import { byLabel, scrapeMetrics, sumOf } from './server-metrics.js';
import { workerCommand } from './worker-process.js';

const name = 'cluster-sockets';
// Long enough for the kernel to account the new sockets' pages and for a ping to pass.
const settleMs = 1000;
// Per load worker: two addresses of 28,232 ports each leave most ports free whatever
// TIME_WAIT earlier runs left on them.
const addressesPerWorker = 2;
// Handshakes in progress per node, over all workers. uWS drops an HTTP request not answered
// within 10 s of its accept, which a starved node reaches with a long queue: 800 in flight
// over 3 nodes lost 539 of 58,500 handshakes to ECONNRESET at load average 17 on the shared
// machine; 54,000 opened without one at load average 8.
const handshakesPerNode = 100;
const closedMetric = 'backline_transport_closed_by_server_total';
const refusedMetric = 'backline_transport_upgrades_refused_total';

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
  const sockets = options.clusterSockets;
  const workers = Math.max(options.workers, Math.ceil(sockets / maxSocketsPerNode));
  const handshakes = Math.ceil((handshakesPerNode * nodes) / workers);
  const commands = [
    ...describeCluster(nodes),
    `${workers} × ${workerCommand}, ${addressesPerWorker} loopback source addresses each`,
  ];
  let cluster: Cluster;
  try {
    cluster = await startCluster(nodes);
  } catch (err) {
    return failedResult(name, err, commands);
  }
  let fleet: Fleet | undefined;
  try {
    await sleep(settleMs);
    const rssBefore = cluster.nodes.map((node) => node.rssBytes() ?? 0);
    fleet = await openFleet({
      transport: 'ws',
      url: cluster.nodes.map((_, i) => cluster.socketUrl(i, '/v1/ingest')),
      sockets,
      workers,
      connectTimeoutMs: 30_000,
      addressesPerWorker,
      handshakesPerWorker: handshakes,
    });
    const hold = await holdIdle(fleet, options);
    const scraped = await Promise.all(cluster.nodes.map((node) => scrapeMetrics(node.port)));
    const held = scraped.map((series) => sumOf(series, 'backline_transport_connections'));
    const rssWith = cluster.nodes.map((node) => node.rssBytes() ?? 0);
    const redis = await cluster.joinedRedis();
    const figures: Figures = {
      nodes,
      requested: sockets,
      workers,
      sourceAddresses: workers * addressesPerWorker,
      handshakesInFlight: handshakes * workers,
      opened: fleet.opened,
      connectMs: fleet.connectMs,
      heldAfterSeconds: hold.seconds,
      stillOpen: hold.open,
      closedAfterOpening: hold.closed,
      heldPerNode: held,
      heldByNodes: held.reduce((a, b) => a + b, 0),
      errors: mergeCounts([fleet.errors, hold.errors]),
      closedByServer: mergeCounts(scraped.map((series) => byLabel(series, closedMetric, 'reason'))),
      upgradesRefused: mergeCounts(scraped.map((series) => byLabel(series, refusedMetric, 'code'))),
      rssPerNodeBytes: rssWith,
      rssPerSocketBytes: perSocket(rssBefore, rssWith, held),
      redisRssBytes: cluster.redis.rssBytes(),
      clusterMode: redis.joined,
      redisKeys: redis.keys,
      bound: bound(nodes, sockets),
    };
    return {
      scenario: name,
      ...verdict(figures, cluster),
      figures,
      table: table(figures),
      commands,
    };
  } catch (err) {
    return failedResult(name, err, commands);
  } finally {
    await fleet?.close();
    await cluster.stop();
  }
}

/**
 * RSS the nodes gained per socket they hold, over all nodes; undefined when they gained
 * nothing, as when a node gave back more start-up memory than the sockets took.
 */
function perSocket(before: number[], after: number[], held: number[]): number | undefined {
  const sockets = held.reduce((a, b) => a + b, 0);
  const gained = after.reduce((a, b) => a + b, 0) - before.reduce((a, b) => a + b, 0);
  return sockets > 0 && gained > 0 ? Math.round(gained / sockets) : undefined;
}

type Figures = {
  nodes: number;
  requested: number;
  workers: number;
  sourceAddresses: number;
  /** At most, over all workers. */
  handshakesInFlight: number;
  opened: number;
  connectMs: number;
  heldAfterSeconds: number;
  /** Sockets the load workers still had open after holding them. */
  stillOpen: number;
  /** The others the workers had opened, by close code (1006: dropped without a close frame). */
  closedAfterOpening: Record<string, number>;
  /** Each node's `backline_transport_connections`. */
  heldPerNode: number[];
  heldByNodes: number;
  errors: Record<string, number>;
  /** Over every node, from its /metrics: sockets it closed by reason, upgrades it refused. */
  closedByServer: Record<string, number>;
  upgradesRefused: Record<string, number>;
  rssPerNodeBytes: number[];
  rssPerSocketBytes: number | undefined;
  redisRssBytes: number | undefined;
  clusterMode: boolean;
  redisKeys: number;
  /** Why fewer sockets than the goal were asked for, if they were. */
  bound: string;
};

/** What set the number of sockets: the goal, `--cluster-sockets`, or the nodes' open files. */
function bound(nodes: number, sockets: number): string {
  if (sockets >= clusterSocketsGoal) return `the goal, ${count(clusterSocketsGoal)}`;
  if (sockets < nodes * maxSocketsPerNode) return `asked for ${count(sockets)}`;
  const needed = Math.ceil(clusterSocketsGoal / maxSocketsPerNode);
  return (
    `open files: a process may hold 20,000 (hard limit), so ${nodes} nodes hold at most ` +
    `${count(maxSocketsPerNode)} sockets each; ${count(clusterSocketsGoal)} needs --cluster ${needed}`
  );
}

function verdict(f: Figures, cluster: Cluster) {
  const dead = cluster.nodes.flatMap((node, i) => (node.alive() ? [] : [`node ${i + 1}`]));
  if (dead.length > 0) return { ok: false, failure: `${dead.join(', ')} died during the run` };
  const errors = Object.values(f.errors).reduce((a, b) => a + b, 0);
  const lost = f.requested - Math.min(f.stillOpen, f.heldByNodes);
  if (lost === 0 && errors === 0) return { ok: true };
  return { ok: false, failure: `${count(lost)} sockets not held, ${count(errors)} errors` };
}

function table(f: Figures): ScenarioResult['table'] {
  const perSocket = f.rssPerSocketBytes === undefined ? 'n/a' : `${count(f.rssPerSocketBytes)} B`;
  return [
    [
      'sockets requested',
      `${count(f.requested)} over ${f.nodes} nodes, from ${f.workers} worker processes on ` +
        `${f.sourceAddresses} source addresses, at most ${count(f.handshakesInFlight)} ` +
        'handshakes in flight',
    ],
    [`**sockets held by the nodes after ${f.heldAfterSeconds} s**`, count(f.heldByNodes)],
    ['held per node', f.heldPerNode.map(count).join(' / ')],
    ['sockets asked for, set by', f.bound],
    ['open at the load workers', count(f.stillOpen)],
    ['opened, then closed (at the load workers, by close code)', byCode(f.closedAfterOpening)],
    ['time to open all', `${(f.connectMs / 1000).toFixed(2)} s`],
    ['errors at the load workers', byCode(f.errors)],
    [
      'closed by the nodes / upgrades refused',
      `${byCode(f.closedByServer)} / ${byCode(f.upgradesRefused)}`,
    ],
    ['RSS per node', f.rssPerNodeBytes.map(mebibytes).join(' / ')],
    ['node RSS per socket held', perSocket],
    ['redis-server RSS', mebibytes(f.redisRssBytes)],
    [
      'cluster mode (the nodes wrote to Redis)',
      f.clusterMode ? `yes, ${count(f.redisKeys)} keys` : 'no: they ran as single nodes',
    ],
  ];
}

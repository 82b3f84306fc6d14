import { randomBytes } from 'node:crypto';
import { describeCluster, startCluster, type Cluster } from './cluster-nodes.js';
import { sleep, waitUntil } from './deadline.js';
import { startFailoverClients, type FailoverClients } from './failover-clients.js';
import { byCode, count, ms } from './number-format.js';
import type { BenchOptions } from './options.js';
import { failedResult, type Scenario, type ScenarioResult } from './scenario.js';
import { settleLedger, storedEventsCommand, type Ledger } from './stored-ledger.js';

const name = 'cluster-node-kill';
// Issue #10: kill -9 of one node of three.
const mostNodes = 3;
const clients = 20;
const eventsPerSecond = 100; // per client: 2,000 events/s in all
// Every event tracked before the end is acknowledged within this, or the run failed.
const flushTimeoutMs = 60_000;
// The storage consumer's lag behind the acks (cluster mode) is awaited at most this long.
const storedWaitMs = 60_000;
// A stored count unchanged this long is taken as final when it stays below the acks.
const storedStableMs = 5000;
// Failover of the killed node's clients is watched this long at most.
const failoverWatchMs = 30_000;

/**
 * Issue #10, item 9 (and item 7): clients of the client library, each given every node's URL,
 * track events at a steady rate; a third into the measured time one node that is not the
 * storage owner is killed with SIGKILL by its PID, the node the most clients are on. After
 * the run every node is stopped and each one's ClickHouse is read by id: events acknowledged
 * to the clients and not stored are lost, ids stored more than once are doubled; both must
 * be 0.
 */
export const clusterNodeKill: Scenario = { name, loads: 3, run: runClusterNodeKill };

async function runClusterNodeKill(options: BenchOptions): Promise<ScenarioResult> {
  const nodes = Math.min(mostNodes, options.cluster);
  const type = `bench.failover.${randomBytes(4).toString('hex')}`;
  const commands = [
    ...describeCluster(nodes),
    `${clients} × createClient({ url: [every node], key, WebSocket: ws, storage: null }) in the ` +
      `runner (bench/failover-clients.ts), ${eventsPerSecond} events/s each`,
    `after the nodes stopped, per node: ${storedEventsCommand}`,
  ];
  if (nodes < 2) return failedResult(name, new Error('needs --cluster 2 or more'), commands);
  let cluster: Cluster;
  try {
    cluster = await startCluster(nodes);
  } catch (err) {
    return failedResult(name, err, commands);
  }
  let fleet: FailoverClients | undefined;
  try {
    const urls = cluster.nodes.map((node) => `http://127.0.0.1:${node.port}`);
    fleet = startFailoverClients({ urls, key: cluster.key, clients, eventsPerSecond, type });
    const sendMs = (options.warmupSeconds + options.measureSeconds) * 1000;
    const killAtMs = (options.warmupSeconds + options.measureSeconds / 3) * 1000;
    await sleep(killAtMs);
    const kill = await killBusiestNode(cluster, fleet, urls);
    await sleep(Math.max(0, sendMs - killAtMs - kill.watchedMs));
    fleet.stopTracking();
    const flushed = await fleet.flush(flushTimeoutMs);
    const acknowledged = fleet.acknowledgedIds();
    const storedBeforeStop = await awaitStored(cluster, type, acknowledged.length);
    const redis = await cluster.joinedRedis();
    await cluster.stopNodes();
    const ledger = await settleLedger(
      acknowledged,
      cluster.nodes.map((n) => n.dataDir),
      type,
    );
    const figures = {
      nodes,
      clients,
      eventsPerSecond: clients * eventsPerSecond,
      trackedForSeconds: Math.round(fleet.trackedForSeconds() * 10) / 10,
      ...kill,
      flushed,
      tracked: fleet.tracked(),
      rejected: fleet.rejected(),
      ...fleet.totals(),
      clientErrors: fleet.errors(),
      storedBeforeStop,
      ...ledger,
      clusterMode: redis.joined,
      redisKeys: redis.keys,
    };
    return { scenario: name, ...verdict(figures), figures, table: table(figures), commands };
  } catch (err) {
    return failedResult(name, err, commands);
  } finally {
    fleet?.close();
    await cluster.stop();
  }
}

/**
 * SIGKILLs the node (never node 1, the storage owner) that the most clients' sockets are on,
 * then watches until each of those clients is on another node.
 */
async function killBusiestNode(cluster: Cluster, fleet: FailoverClients, urls: string[]) {
  const on = (url: string) => fleet.clients.filter((client) => client.server === url);
  const candidates = urls.slice(1).map((url, i) => ({ i: i + 1, url, clients: on(url) }));
  const victim = candidates.sort((a, b) => b.clients.length - a.clients.length)[0]!;
  const queuedAtKill = victim.clients.reduce((sum, client) => sum + client.stats().queued, 0);
  const killedAt = performance.now();
  const pid = cluster.nodes[victim.i]!.pid;
  await cluster.nodes[victim.i]!.kill();
  const moved = () =>
    victim.clients.every((client) => client.server !== undefined && client.server !== victim.url);
  const allMoved = await waitUntil(moved, failoverWatchMs, 10);
  const watchedMs = performance.now() - killedAt;
  return {
    killedNode: victim.i + 1,
    killedPid: pid,
    clientsOnKilledNode: victim.clients.length,
    queuedAtKill,
    allMovedWithinMs: allMoved ? Math.round(watchedMs) : undefined,
    watchedMs,
  };
}

/**
 * The surviving nodes' stored count of `type` (`GET /v1/events/stats`): awaited until one
 * node counts every acknowledged event (a cluster's nodes all answer from the one store), or
 * until the counts stop moving (single nodes each count only their own).
 */
async function awaitStored(cluster: Cluster, type: string, acknowledged: number) {
  const deadline = performance.now() + storedWaitMs;
  let last: number[] = [];
  let stableSince = performance.now();
  for (;;) {
    const counts = await storedCounts(cluster, type);
    if (counts.join() !== last.join()) stableSince = performance.now();
    last = counts;
    const settled = performance.now() - stableSince >= storedStableMs;
    if (Math.max(0, ...counts) >= acknowledged || settled || performance.now() > deadline)
      return counts;
    await sleep(500);
  }
}

async function storedCounts(cluster: Cluster, type: string): Promise<number[]> {
  const alive = cluster.nodes.filter((node) => node.alive());
  return Promise.all(
    alive.map(async (node) => {
      const url = `http://127.0.0.1:${node.port}/v1/events/stats?key=${cluster.key}`;
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      if (!res.ok) return -1;
      const body = (await res.json()) as { counts?: Record<string, number> };
      return body.counts?.[type] ?? 0;
    }),
  );
}

type Figures = Ledger & {
  nodes: number;
  clients: number;
  killedNode: number;
  killedPid: number;
  clientsOnKilledNode: number;
  queuedAtKill: number;
  allMovedWithinMs: number | undefined;
  flushed: boolean;
  tracked: number;
  rejected: number;
  accepted: number;
  duplicates: number;
  dropped: number;
  reconnects: number;
  clientErrors: Record<string, number>;
  eventsPerSecond: number;
  trackedForSeconds: number;
  clusterMode: boolean;
  redisKeys: number;
};

function verdict(f: Figures): { ok: boolean; failure?: string } {
  const problems: string[] = [];
  if (!f.flushed)
    problems.push(`clients still had unacknowledged events after ${flushTimeoutMs} ms`);
  if (f.acknowledged === 0) problems.push('no events were acknowledged');
  if (f.lost > 0) problems.push(`${count(f.lost)} acknowledged events lost`);
  if (f.doubled > 0) problems.push(`${count(f.doubled)} events stored twice or more`);
  if (f.dropped > 0) problems.push(`${count(f.dropped)} events dropped from full client queues`);
  if (!f.clusterMode)
    problems.push('not a cluster run: Redis held no keys, so the nodes ran as single nodes');
  return problems.length === 0 ? { ok: true } : { ok: false, failure: problems.join('; ') };
}

function table(f: Figures): ScenarioResult['table'] {
  const moved =
    f.allMovedWithinMs === undefined ? 'not all' : `all within ${ms(f.allMovedWithinMs)}`;
  return [
    [
      'load',
      `${count(f.eventsPerSecond)} events/s from ${f.clients} clients over ${f.nodes} nodes, ` +
        `tracked for ${f.trackedForSeconds} s`,
    ],
    [
      'killed (SIGKILL by PID)',
      `node ${f.killedNode} (pid ${f.killedPid}), ${f.clientsOnKilledNode} clients on it; ${moved} on another node`,
    ],
    ['events of those clients not yet acknowledged at the kill', count(f.queuedAtKill)],
    ['events tracked / refused', `${count(f.tracked)} / ${count(f.rejected)}`],
    [
      '**events acknowledged**',
      `${count(f.acknowledged)} (acks counted ${count(f.accepted)} accepted + ${count(f.duplicates)} duplicates)`,
    ],
    [
      '**events stored after the run**',
      `${count(f.storedRows)} rows, ${count(f.storedIds)} distinct ids`,
    ],
    ['**lost** (acknowledged, not stored)', count(f.lost)],
    [
      '**doubled** (stored more than once)',
      `${count(f.doubled)} (${count(f.extraRows)} extra rows)`,
    ],
    ['stored, never acknowledged', count(f.storedNotAcknowledged)],
    ['client reconnects / errors', `${count(f.reconnects)} / ${byCode(f.clientErrors)}`],
    [
      'cluster mode (the nodes wrote to Redis)',
      f.clusterMode ? `yes, ${count(f.redisKeys)} keys` : 'no: they ran as single nodes',
    ],
  ];
}

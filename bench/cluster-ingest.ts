import { cpus } from 'node:os';
import { describeCluster, startCluster, type Cluster } from './cluster-nodes.js';
import { mergeCounts, type FleetRunResult } from './fleet-result.js';
import { openFleet, type Fleet } from './load-fleet.js';
import { byCode, count, ms, ratio } from './number-format.js';
import type { BenchOptions } from './options.js';
import { median } from './percentiles.js';
import { cpuBound, describeCpu, watchCpu, type CpuWindow } from './process-cpu.js';
import { failedResult, type Scenario, type ScenarioResult } from './scenario.js';
import { workerCommand } from './worker-process.js';

const name = 'cluster-ingest';
// Issue #10 asks for 1, 2 and 3 nodes side by side; fewer when `--cluster` is smaller.
const mostNodes = 3;
// Rounds of every size, interleaved (1, 2, 3, 1, 2, 3, …): on shared cores other work comes
// and goes, and one load per size would credit a size with whatever ran beside it.
const rounds = 3;

/** One cluster size's load: what was acknowledged, and who spent the CPU. */
type NodesFigures = FleetRunResult & {
  nodes: number;
  connections: number;
  /** Every node, redis-server, the load workers and the machine over the measured window. */
  cpu: CpuWindow;
  bound: string;
  clusterMode: boolean;
  redisKeys: number;
  redisUsedMemoryBytes: number;
};

/**
 * Issue #10, item 9: acknowledged events/s of 1, 2 and 3 nodes in one run, each size on a
 * fresh redis-server and fresh nodes, under the same closed-loop load as ingest-ws
 * (`--connections` sockets spread round robin over the nodes, `--inflight` frames of
 * `--events` events outstanding each); the ratio to one node, and what bounded each size
 * by the CPU every process (nodes, redis-server, load workers) took, read from /proc. Sizes
 * are measured in interleaved rounds (one with `--quick`); each size reports its median round.
 */
export const clusterIngest: Scenario = {
  name,
  loads: mostNodes * rounds,
  run: runClusterIngest,
};

async function runClusterIngest(options: BenchOptions): Promise<ScenarioResult> {
  const sizes = Array.from({ length: Math.min(mostNodes, options.cluster) }, (_, i) => i + 1);
  const workers = Math.min(options.workers, options.connections);
  const commands = [...describeCluster(sizes.at(-1)!), `${workers} × ${workerCommand}`];
  const all: NodesFigures[] = [];
  try {
    for (let round = 0; round < (options.quick ? 1 : rounds); round += 1)
      for (const nodes of sizes) all.push(await measureSize(nodes, workers, options));
  } catch (err) {
    return { ...failedResult(name, err, commands), figures: { rounds: all } };
  }
  const loads = sizes.map((nodes) => medianRound(all.filter((l) => l.nodes === nodes)));
  const figures = { loads, rounds: all, cores: cpus().length };
  return { scenario: name, ...verdict(all), figures, table: table(loads, all), commands };
}

/** The round whose acknowledged events/s is the median of one size's rounds. */
function medianRound(ofSize: NodesFigures[]): NodesFigures {
  const mid = median(ofSize.map((l) => l.eventsPerSecond));
  return ofSize.find((l) => l.eventsPerSecond === mid)!;
}

async function measureSize(
  nodes: number,
  workers: number,
  options: BenchOptions,
): Promise<NodesFigures> {
  const cluster = await startCluster(nodes);
  let fleet: Fleet | undefined;
  try {
    fleet = await openFleet({
      transport: 'ws',
      url: cluster.nodes.map((_, i) => cluster.socketUrl(i, '/v1/ingest')),
      sockets: options.connections,
      workers,
      connectTimeoutMs: 30_000,
    });
    const processes = [
      ...cluster.nodes.map((node, i) => ({ name: `node ${i + 1}`, pid: node.pid })),
      { name: 'redis-server', pid: cluster.redis.pid },
    ];
    let watch = watchCpu(processes);
    let cpu: CpuWindow = { processes: [], machinePercent: undefined };
    const load = await fleet.run({
      mode: { kind: 'window', inflight: options.inflight },
      activeSockets: fleet.opened,
      eventsPerFrame: options.eventsPerFrame,
      warmupMs: options.warmupSeconds * 1000,
      measureMs: options.measureSeconds * 1000,
      drainTimeoutMs: 10_000,
      onMeasure: (phase) => {
        if (phase === 'start') watch = watchCpu(processes);
        else cpu = watch.read();
      },
    });
    cpu.processes.push({ name: `load workers (${workers})`, percent: load.generatorCpuPercent });
    const redis = await cluster.joinedRedis();
    alive(cluster);
    return {
      nodes,
      connections: fleet.opened,
      ...load,
      errors: mergeCounts([fleet.errors, load.errors]),
      cpu,
      bound: cpuBound(cpu, cpus().length),
      clusterMode: redis.joined,
      redisKeys: redis.keys,
      redisUsedMemoryBytes: redis.usedMemoryBytes,
    };
  } finally {
    await fleet?.close();
    await cluster.stop();
  }
}

function alive(cluster: Cluster): void {
  const dead = cluster.nodes.flatMap((node, i) => (node.alive() ? [] : [i]));
  if (dead.length > 0) {
    const tail = cluster.nodes[dead[0]!]!.logTail().join('\n');
    throw new Error(`node ${dead.map((i) => i + 1).join(', ')} died during the load:\n${tail}`);
  }
  if (!cluster.redis.alive()) throw new Error('redis-server died during the load');
}

function verdict(loads: NodesFigures[]) {
  const idle = loads.filter((load) => load.counts.accepted === 0);
  if (idle.length > 0)
    return { ok: false, failure: `${idle.map((l) => l.nodes).join(', ')} node(s): no acks` };
  if (loads.some((load) => !load.clusterMode))
    return {
      ok: false,
      failure:
        'not a cluster run: Redis held no keys, so the nodes ran as single nodes (REDIS_URL ' +
        'ignored); the figures are lone servers side by side',
    };
  return { ok: true };
}

function table(loads: NodesFigures[], all: NodesFigures[]): ScenarioResult['table'] {
  const one = loads[0]?.eventsPerSecond ?? 0;
  return loads.flatMap((l): ScenarioResult['table'] => {
    const label = `${l.nodes} node${l.nodes > 1 ? 's' : ''}`;
    const latency = `ack p50 ${ms(l.latencyMs.p50Ms)}, p99 ${ms(l.latencyMs.p99Ms)}`;
    const ofSize = all.filter((r) => r.nodes === l.nodes);
    const each = ofSize.map((r) => count(r.eventsPerSecond));
    const ofRounds = each.length > 1 ? `median of ${each.join(' / ')}: ` : '';
    return [
      [
        `**${label}: events/s acknowledged**`,
        `${ofRounds}**${count(l.eventsPerSecond)}** (× ${ratio(l.eventsPerSecond, one)} of 1 node); ${latency}`,
      ],
      [`${label}: CPU over that round (100 % = one core)`, describeCpu(l.cpu)],
      [`${label}: bounded by`, l.bound],
      [`${label}: errors, every round`, byCode(mergeCounts(ofSize.map((r) => r.errors)))],
      [
        `${label}: cluster mode (the nodes wrote to Redis)`,
        l.clusterMode ? `yes, ${count(l.redisKeys)} keys` : 'no: they ran as single nodes',
      ],
    ];
  });
}

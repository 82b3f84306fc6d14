import type { Cluster } from './cluster-nodes.js';
import { byCode, count, mebibytes } from './number-format.js';
import { clusterSocketsGoal, maxSocketsPerNode } from './options.js';
import { describeCpu, type CpuWindow } from './process-cpu.js';
import type { ScenarioResult } from './scenario.js';

/** What cluster-sockets measured, as the JSON report keeps it. */
export type SocketsFigures = {
  nodes: number;
  requested: number;
  workers: number;
  sourceAddresses: number;
  /** At most, over all workers. */
  handshakesInFlight: number;
  opened: number;
  connectMs: number;
  /** Every node, redis-server, the load workers and the machine while the sockets opened. */
  cpuWhileOpening: CpuWindow;
  /** Longest event-loop stall of each node (open and hold) and each worker (open). */
  loopDelayMaxMs: { nodes: number[]; workers: number[] };
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
export function socketsBound(nodes: number, sockets: number): string {
  if (sockets >= clusterSocketsGoal) return `the goal, ${count(clusterSocketsGoal)}`;
  if (sockets < nodes * maxSocketsPerNode) return `asked for ${count(sockets)}`;
  const needed = Math.ceil(clusterSocketsGoal / maxSocketsPerNode);
  return (
    `open files: a process may hold 20,000 (hard limit), so ${nodes} nodes hold at most ` +
    `${count(maxSocketsPerNode)} sockets each; ${count(clusterSocketsGoal)} needs --cluster ${needed}`
  );
}

/**
 * RSS the nodes gained per socket they hold, over all nodes; undefined when they gained
 * nothing, as when a node gave back more start-up memory than the sockets took.
 */
export function rssPerSocket(before: number[], after: number[], held: number[]) {
  const sockets = held.reduce((a, b) => a + b, 0);
  const gained = after.reduce((a, b) => a + b, 0) - before.reduce((a, b) => a + b, 0);
  return sockets > 0 && gained > 0 ? Math.round(gained / sockets) : undefined;
}

export function socketsVerdict(f: SocketsFigures, cluster: Cluster) {
  const dead = cluster.nodes.flatMap((node, i) => (node.alive() ? [] : [`node ${i + 1}`]));
  if (dead.length > 0) return { ok: false, failure: `${dead.join(', ')} died during the run` };
  const errors = Object.values(f.errors).reduce((a, b) => a + b, 0);
  const lost = f.requested - Math.min(f.stillOpen, f.heldByNodes);
  if (lost === 0 && errors === 0) return { ok: true };
  return { ok: false, failure: `${count(lost)} sockets not held, ${count(errors)} errors` };
}

export function socketsTable(f: SocketsFigures): ScenarioResult['table'] {
  const perSocket = f.rssPerSocketBytes === undefined ? 'n/a' : `${count(f.rssPerSocketBytes)} B`;
  const stalls = (all: number[]) => all.map((ms) => count(ms)).join(' / ');
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
    ['CPU while opening (100 % = one core)', describeCpu(f.cpuWhileOpening)],
    [
      'longest event-loop stall, ms: nodes / load workers',
      `${stalls(f.loopDelayMaxMs.nodes)} / ${stalls(f.loopDelayMaxMs.workers)}`,
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

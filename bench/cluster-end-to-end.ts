import { partitionOf } from '../src/cluster/event-log.js';
import {
  describeCluster,
  partitionLeaseKey,
  partitions,
  startCluster,
  type Cluster,
} from './cluster-nodes.js';
import {
  e2eSettings,
  endToEndTable,
  framesVerdict,
  measureEndToEnd,
  type EndToEndFigures,
} from './end-to-end.js';
import { count } from './number-format.js';
import type { BenchOptions } from './options.js';
import { failedResult, type Scenario, type ScenarioResult } from './scenario.js';
import { benchProjectId } from './server-process.js';

const name = 'cluster-end-to-end';
const nodes = 2;
const ingestNode = 0;
const dashboardNode = 1;

/**
 * Issue #10, item 9, "cross-node ack → dashboard p99": the end-to-end scenario's producer
 * (2,000 events/s, one marker per frame, early updates every 100 ms) sends to node 1 while
 * the dashboard watches on node 2, so every update crossed the cluster: node 1 appends to the
 * Redis log, the partition owner computes, the bus brings the result to node 2. Reports
 * send → update and ack → update per frame, signed (never floored at zero).
 */
export const clusterEndToEnd: Scenario = { name, loads: 2, run: runClusterEndToEnd };

async function runClusterEndToEnd(options: BenchOptions): Promise<ScenarioResult> {
  const commands = [
    ...describeCluster(nodes, e2eSettings),
    `producer on node ${ingestNode + 1}'s /v1/ingest, dashboard on node ${dashboardNode + 1}'s ` +
      '/v1/live: sockets in the runner (bench/event-sender.ts)',
  ];
  if (options.cluster < nodes)
    return failedResult(name, new Error(`needs --cluster ${nodes} or more`), commands);
  let cluster: Cluster;
  try {
    cluster = await startCluster(nodes, e2eSettings);
  } catch (err) {
    return failedResult(name, err, commands);
  }
  try {
    const urls = {
      ingest: cluster.socketUrl(ingestNode, '/v1/ingest'),
      live: cluster.socketUrl(dashboardNode, '/v1/live'),
    };
    const measured = await measureEndToEnd(urls, options);
    const redis = await cluster.joinedRedis();
    const lease = partitionLeaseKey(partitionOf(benchProjectId, partitions));
    const figures = {
      ...measured,
      ingestNode: ingestNode + 1,
      dashboardNode: dashboardNode + 1,
      partitionOwner: await cluster.redis.get(lease),
      clusterMode: redis.joined,
      redisKeys: redis.keys,
    };
    return {
      scenario: name,
      ...verdict(figures, cluster),
      figures,
      table: table(figures),
      commands,
      notes: notes(),
    };
  } catch (err) {
    return failedResult(name, err, commands);
  } finally {
    await cluster.stop();
  }
}

type Figures = EndToEndFigures & {
  ingestNode: number;
  dashboardNode: number;
  partitionOwner: string | null;
  clusterMode: boolean;
  redisKeys: number;
};

function verdict(f: Figures, cluster: Cluster): { ok: boolean; failure?: string } {
  const dead = cluster.nodes.flatMap((node, i) => (node.alive() ? [] : [`node ${i + 1}`]));
  if (dead.length > 0) return { ok: false, failure: `${dead.join(', ')} died during the run` };
  const frames = framesVerdict(f);
  if (f.clusterMode) return frames;
  const single = 'not a cluster run: Redis held no keys, so the nodes ran as single nodes';
  return { ok: false, failure: frames.failure ? `${single}; ${frames.failure}` : single };
}

function table(f: Figures): ScenarioResult['table'] {
  return [
    ['path', `producer → node ${f.ingestNode}, dashboard on node ${f.dashboardNode}`],
    ['partition owner of the project (its lease in Redis)', f.partitionOwner ?? 'none'],
    ...endToEndTable(f),
    [
      'cluster mode (the nodes wrote to Redis)',
      f.clusterMode ? `yes, ${count(f.redisKeys)} keys` : 'no: they ran as single nodes',
    ],
  ];
}

function notes(): string[] {
  return [
    'As in end-to-end: **send → dashboard update** runs from the producer sending a frame to ' +
      'the dashboard socket receiving the first update that includes it; ack → update is ' +
      'that update’s arrival minus the ack’s, per frame, signed and not floored (negative ' +
      'when the dashboard on the other node had the frame first). In a cluster the ack ' +
      'means the frame is in the Redis log, fsynced; the partition owner reads it from there, ' +
      'so an update follows its ack unless the reply to the producer is the slower path. All ' +
      'times are on one monotonic clock in the runner. The load starts once the partition ' +
      'leases have settled (every one held, spread fairly, unchanged for 3 s), so no hand-over ' +
      'of the project’s partition is timed.',
  ];
}

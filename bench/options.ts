/** Options shared by every scenario; argv flags override the defaults or the `--quick` preset. */
export interface BenchOptions {
  quick: boolean;
  /** `--profile`: every server process runs with `--cpu-prof` (cpu-profiles.ts). */
  profile: boolean;
  /** Scenario names to run; empty runs them all. */
  only: string[];
  /** Closed-loop sockets of ingest-ws and the peer comparison. */
  connections: number;
  eventsPerFrame: number;
  /** Unacknowledged frames a connection may have outstanding. */
  inflight: number;
  measureSeconds: number;
  /** Run before measuring; its samples are discarded (JIT, chdb caches, first batches). */
  warmupSeconds: number;
  /** Sockets held by connection-capacity and ingest-under-load; dashboards of the fan-out. */
  sockets: number;
  /** Frames per second each socket sends in ingest-under-load. */
  rate: number;
  /** Events per frame in ingest-under-load: small batches, as a browser SDK sends them. */
  batch: number;
  /** Load generator processes; each holds its share of the sockets. */
  workers: number;
  /** Idle sockets each peer holds for the memory-per-connection comparison. */
  peerSockets: number;
  /** 20,000-row batches the storage ceiling inserts at most (also bounded by measureSeconds). */
  storageBatches: number;
  /** Distinct group keys of the pipeline's many-keys case and its window-memory fill. */
  windowKeys: number;
  /** Nodes of the cluster scenarios (`--cluster N`, with Redis); 0 runs the single-node suite. */
  cluster: number;
  /** Sockets cluster-sockets holds across the `cluster` nodes, at most `maxSocketsPerNode` each. */
  clusterSockets: number;
}

export const defaultOptions: BenchOptions = {
  quick: false,
  profile: false,
  only: [],
  connections: 50,
  eventsPerFrame: 100,
  inflight: 4,
  measureSeconds: 10,
  warmupSeconds: 2,
  sockets: 10_000,
  rate: 1,
  batch: 10,
  workers: 4,
  peerSockets: 5000,
  storageBatches: 50,
  windowKeys: 100_000,
  cluster: 0,
  clusterSockets: 0, // set from `cluster` by parseOptions unless given
};

// CI smoke preset: proves every path works end to end in seconds; its figures mean little.
const quickOptions: Partial<BenchOptions> = {
  quick: true,
  connections: 5,
  measureSeconds: 2,
  warmupSeconds: 0.5,
  sockets: 500,
  workers: 2,
  peerSockets: 500,
  storageBatches: 5,
  windowKeys: 10_000,
};

// The development machine's hard limit is 20,000 open files per process (every result's
// machine line shows `openFilesLimit`); the server needs some besides sockets.
const maxSockets = 19_000;
/**
 * Sockets one cluster node or one load worker holds at most. Measured with 18,000 sockets
 * held: the storage owner had 89 other files open (chdb, LMDB, Redis connections), a remote
 * node 28; 500 under the 20,000 leave room for chdb's merges on the owner.
 */
export const maxSocketsPerNode = 19_500;
/** Issue #10's goal for sockets held across the nodes of this 2-core machine. */
export const clusterSocketsGoal = 100_000;

const numericFlags = {
  '--connections': { key: 'connections', min: 1, max: maxSockets, integer: true },
  '--events': { key: 'eventsPerFrame', min: 1, max: 100_000, integer: true },
  '--inflight': { key: 'inflight', min: 1, max: 10_000, integer: true },
  '--seconds': { key: 'measureSeconds', min: 0.1, max: 3600, integer: false },
  '--sockets': { key: 'sockets', min: 1, max: maxSockets, integer: true },
  '--rate': { key: 'rate', min: 0.01, max: 1000, integer: false },
  '--batch': { key: 'batch', min: 1, max: 1000, integer: true },
  '--workers': { key: 'workers', min: 1, max: 16, integer: true },
  '--peer-sockets': { key: 'peerSockets', min: 1, max: maxSockets, integer: true },
  '--storage-batches': { key: 'storageBatches', min: 1, max: 1000, integer: true },
  '--window-keys': { key: 'windowKeys', min: 1000, max: 1_000_000, integer: true },
  '--cluster': { key: 'cluster', min: 1, max: 16, integer: true },
  '--cluster-sockets': { key: 'clusterSockets', min: 1, max: 200_000, integer: true },
} as const;

type NumericOption = (typeof numericFlags)[keyof typeof numericFlags]['key'];

export const usage =
  'usage: npm run bench -- [--quick] [--profile] [--only name,name] ' +
  Object.keys(numericFlags)
    .map((flag) => `[${flag} N]`)
    .join(' ');

export class OptionsError extends Error {}

/**
 * Reads `--quick`, `--only a,b` and the numeric flags above. Explicit flags win over
 * `--quick` whatever their order.
 *
 * @example
 * parseOptions(['--quick', '--sockets', '2000']); // 2,000 sockets, quick durations
 */
export function parseOptions(argv: readonly string[]): BenchOptions {
  const explicit: Partial<Pick<BenchOptions, NumericOption>> = {};
  let quick = false;
  let profile = false;
  let only: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i]!;
    if (flag === '--quick') {
      quick = true;
      continue;
    }
    if (flag === '--profile') {
      profile = true;
      continue;
    }
    i += 1;
    if (flag === '--only') {
      only = (argv[i] ?? '').split(',').filter(Boolean);
      continue;
    }
    const spec = numericFlags[flag as keyof typeof numericFlags];
    if (!spec) throw new OptionsError(`unknown option ${flag}`);
    const value = Number(argv[i]);
    const valid = Number.isFinite(value) && (!spec.integer || Number.isInteger(value));
    if (!valid || value < spec.min || value > spec.max) {
      throw new OptionsError(`${flag} takes a number from ${spec.min} to ${spec.max}`);
    }
    explicit[spec.key] = value;
  }
  const options = { ...defaultOptions, ...(quick ? quickOptions : {}), ...explicit, only, profile };
  return { ...options, clusterSockets: clusterSockets(options, explicit.clusterSockets) };
}

/** By default the goal (or `--quick`'s 500 per node), capped by what the nodes can hold. */
function clusterSockets(options: BenchOptions, explicit: number | undefined): number {
  const most = options.cluster * maxSocketsPerNode;
  if (explicit === undefined) {
    const wanted = options.quick ? 500 * options.cluster : clusterSocketsGoal;
    return Math.min(wanted, most);
  }
  if (options.cluster === 0) throw new OptionsError('--cluster-sockets needs --cluster N');
  if (explicit > most) {
    const nodes = Math.ceil(explicit / maxSocketsPerNode);
    throw new OptionsError(
      `--cluster-sockets ${explicit} needs --cluster ${nodes} or more (${maxSocketsPerNode} per node)`,
    );
  }
  return explicit;
}

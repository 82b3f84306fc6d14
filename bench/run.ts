/**
 * `npm run bench [-- --quick] [--only a,b] [--sockets N] …` (options.ts has every flag):
 * runs every scenario in turn against fresh servers, prints a Markdown summary and keeps
 * JSON + Markdown under bench/results. Exits 1 if a scenario failed or measured nothing.
 * `--cluster N` runs the cluster scenarios instead (N nodes and a redis-server).
 */
import { join } from 'node:path';
import { analytics } from './analytics.js';
import { chdbQueryBlocking } from './chdb-query-blocking.js';
import { chdbSessionMemory } from './chdb-session-memory.js';
import { clusterEndToEnd } from './cluster-end-to-end.js';
import { clusterIngest } from './cluster-ingest.js';
import { clusterNodeKill } from './cluster-node-kill.js';
import { clusterSockets } from './cluster-sockets.js';
import { codec } from './codec.js';
import { profileServers } from './cpu-profiles.js';
import { connectionCapacity } from './connection-capacity.js';
import { dashboardFanout } from './dashboard-fanout.js';
import { endToEnd } from './end-to-end.js';
import { fuzz } from './fuzz.js';
import { history } from './history.js';
import { ingestUnderLoad } from './ingest-under-load.js';
import { ingestHttp } from './ingest-http.js';
import { ingestWs } from './ingest-ws.js';
import { lightLoad } from './light-load.js';
import { notificationChannels } from './notification-channels.js';
import { notificationRules } from './notification-rules.js';
import { peerComparison } from './peer-comparison.js';
import { pipelineThroughput } from './pipeline-throughput.js';
import { watchLoadAverage } from './load-average.js';
import { describeMachine } from './machine.js';
import { OptionsError, parseOptions, usage, type BenchOptions } from './options.js';
import { renderMarkdown, resultsDir, runStamp, writeReport } from './report.js';
import { storageCeiling } from './storage-ceiling.js';
import type { Scenario, ScenarioResult } from './scenario.js';

/**
 * In run order; each scenario starts and stops its own servers. Numbered as in the issue
 * "Load benchmark suite"; the next three come from the stream-processing and notifications
 * issues; the last three measure choices that the code's comments and the README rest on.
 */
const scenarios: Scenario[] = [
  ingestWs, // 0: closed-loop ingest over the socket, the baseline the others refer to
  ingestHttp, // 1
  connectionCapacity, // 2
  ingestUnderLoad, // 3
  dashboardFanout, // 4: one window update to `sockets` dashboards
  endToEnd, // 5: an event's send to the first dashboard update that includes it
  lightLoad, // acks at 1,000 events/s: what batching adds to one insert (performance issue, goal 4)
  peerComparison, // 6
  storageCeiling, // 7: compares with ingest-ws's figure from this run
  history, // 10M stored events over 30 days: windows, rollup and stats answers (performance issue, goal 6)
  analytics, // 10M events of 10,000 persons over 90 days: each analytics API and warehouse job (issue #12)
  pipelineThroughput, // streams and group keys against no streams; memory per open window
  notificationRules, // 100 rules against none; in-app delivery latency
  notificationChannels, // web push and email sends/s against their loopback doubles
  codec, // decoding msgpackr records against plain maps and JSON, why clients send records
  chdbSessionMemory, // RSS of an embedded ClickHouse before any data
  chdbQueryBlocking, // event-loop stall of chdb's sync query() against queryAsync()
  fuzz, // a million hostile inputs on every socket and route, mixed with valid events
];

/**
 * Run by `--cluster N` and only then (issue #10, item 9): each starts its own redis-server and
 * nodes on this machine, so none belongs in the single-node suite or the CI smoke run.
 */
const clusterScenarios: Scenario[] = [
  clusterSockets, // sockets held across the N nodes
  clusterIngest, // acked events/s of 1, 2 and 3 nodes, and what bounds each
  clusterEndToEnd, // send on node 1 → dashboard update on node 2
  clusterNodeKill, // kill -9 of a node under steady load: acked events lost and doubled
];

// Server start, connects, drain and shutdown on top of each load's measured time; past this
// the run is stuck.
const overheadPerScenarioMs = 120_000;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let options: BenchOptions;
  let selected: Scenario[];
  try {
    options = parseOptions(args);
    selected = selectScenarios(options);
  } catch (err) {
    if (!(err instanceof OptionsError)) throw err;
    console.error(`${err.message}\n${usage}`);
    process.exitCode = 2;
    return;
  }
  const watchdog = armWatchdog(options, selected);
  const startedAt = new Date();
  const machine = describeMachine();
  const results: ScenarioResult[] = [];
  for (const scenario of selected) {
    console.log(`running ${scenario.name} …`);
    const load = watchLoadAverage();
    const folder = join(resultsDir, `${runStamp(startedAt)}-${scenario.name}`);
    const profiling = options.profile ? profileServers(folder) : undefined;
    const result = await scenario.run(options, results);
    const profiles = profiling?.finish();
    results.push({ ...result, loadAverage: load.stop(), ...(profiles ? { profiles } : {}) });
  }
  clearTimeout(watchdog);

  const report = { startedAt, command: commandLine(args), options, machine, results };
  const files = writeReport(report);
  console.log(`\n${renderMarkdown(report)}\nwrote ${files.json}\n      ${files.markdown}`);
  if (results.some((result) => !result.ok)) process.exitCode = 1;
}

function armWatchdog(options: BenchOptions, selected: Scenario[]): NodeJS.Timeout {
  const loadMs = (options.warmupSeconds + options.measureSeconds) * 1000;
  const limitMs = selected
    .map(
      (scenario) =>
        scenario.maxMs?.(options) ?? (scenario.loads ?? 1) * (loadMs + overheadPerScenarioMs),
    )
    .reduce((a, b) => a + b, 0);
  const timer = setTimeout(() => {
    console.error(`bench still running after ${limitMs} ms; giving up`);
    process.exit(3); // exit hooks kill the servers and workers and remove data folders
  }, limitMs);
  return timer.unref();
}

function selectScenarios({ only, cluster }: BenchOptions): Scenario[] {
  const pool = cluster > 0 ? clusterScenarios : scenarios;
  const known = pool.map((scenario) => scenario.name);
  const unknown = only.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    const hint = cluster > 0 ? 'with --cluster' : 'without --cluster';
    throw new OptionsError(
      `unknown scenario ${unknown.join(', ')}; scenarios ${hint}: ${known.join(', ')}`,
    );
  }
  return only.length === 0 ? pool : pool.filter((s) => only.includes(s.name));
}

function commandLine(args: string[]): string {
  const tail = args.join(' ');
  if (process.env.npm_lifecycle_event === 'bench')
    return `npm run bench${tail ? ` -- ${tail}` : ''}`;
  return `tsx bench/run.ts${tail ? ` ${tail}` : ''}`;
}

// Every process a scenario starts (a cluster's nodes, its redis-server, load workers) adds
// an exit hook that ends it with the runner; a cluster run holds more than Node's default 10.
process.setMaxListeners(100);
// Ctrl-C: exit through the exit hooks, which stop the server and remove its data folder.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

main().catch((err: unknown) => {
  console.error('bench failed:', err);
  process.exitCode = 1;
});

/**
 * `npm run bench -- --only fuzz`: at least 1,000,000 hostile inputs (10,000 with `--quick`)
 * against a real server from worker processes, over the three sockets, the upgrades and every
 * HTTP route of the server's own route table, mixed with valid events. Fails when the server
 * dies or hangs, a valid acknowledged event is missing or doubled, its RSS passes the bound,
 * or its /metrics do not account for what the fuzzer was answered.
 */
import { randomBytes } from 'node:crypto';
import { fuzzWorkerCommand, runFuzzFleet } from './fuzz-fleet.js';
import { untouchedRoutes } from './fuzz-http.js';
import type { Target } from './fuzz-lanes.js';
import { createRandom } from './fuzz-random.js';
import { fuzzFigures, fuzzTable, fuzzVerdict, rssBoundBytes } from './fuzz-report.js';
import {
  fuzzSettings,
  fuzzStreams,
  issueTokens,
  otherProject,
  routeTableFrom,
} from './fuzz-server.js';
import { readBack } from './fuzz-readback.js';
import { watchServer } from './fuzz-watch.js';
import type { WorkerConfig } from './fuzz-worker.js';
import type { BenchOptions } from './options.js';
import { failedResult, type Scenario, type ScenarioResult } from './scenario.js';
import { scrapeMetrics } from './server-metrics.js';
import {
  benchProjectId,
  defaultServerOptions,
  describeServer,
  startServer,
  type ServerProcess,
} from './server-process.js';

const name = 'fuzz';
const workers = 2; // the machine's cores: the server and the workers share them
// Each target's share of the inputs.
const shares: Record<Target, number> = {
  ingest: 0.6,
  live: 0.15,
  user: 0.15,
  http: 0.05, // each request costs the server ~10× a socket frame: erasures, ClickHouse reads
  handshake: 0.048,
  'raw-http': 0.002,
};
const lanes = { ingest: 6, live: 3, user: 3, http: 8, handshake: 4 };

// The inputs' deadline: a full run takes minutes on an idle 2-core machine, far longer on a
// busy one; past it the run fails as short of its inputs.
const durationMs = (options: BenchOptions) => (options.quick ? 90_000 : 45 * 60_000);

export const fuzz: Scenario = {
  name,
  maxMs: (options) => durationMs(options) + 5 * 60_000, // start, read-back, stop
  run: runFuzz,
};

async function runFuzz(options: BenchOptions): Promise<ScenarioResult> {
  const inputs = options.quick ? 10_000 : 1_000_000;
  const { settings, jwt, otherKey } = fuzzSettings();
  // The JWT secret and the other project's key are made per run; the report needs neither.
  const masked = describeServer(settings)
    .replace(jwt.secret, '<secret>')
    .replace(otherKey, '<key>');
  const commands = [
    masked.replace('LOG_LEVEL=warn', 'LOG_LEVEL=debug'),
    `load: ${workers} × ${fuzzWorkerCommand}`,
  ];
  const lines: string[] = [];
  let server: ServerProcess;
  try {
    server = await startServer(settings, {
      ...defaultServerOptions,
      logLevel: 'debug', // the route table is logged once, at debug level
      onLine: (line) => lines.length < 200 && lines.push(line),
    });
  } catch (err) {
    return failedResult(name, err, commands);
  }
  try {
    return await fuzzServer(server, {
      inputs,
      jwt,
      otherKey,
      lines,
      commands,
      durationMs: durationMs(options),
    });
  } catch (err) {
    return failedResult(name, err, commands);
  } finally {
    await server.stop();
  }
}

/** One worker's share of the inputs, its seed, and the credentials it needs. */
async function workerConfig(
  server: ServerProcess,
  run: Run,
  of: Pick<WorkerConfig, 'worker' | 'runId' | 'routes'>,
): Promise<WorkerConfig> {
  const { worker, runId } = of;
  const users = Array.from({ length: lanes.user }, (_, l) => `fuzz-user-${runId}-w${worker}-t${l}`);
  const share = ([target, part]: [string, number]) => [
    target,
    Math.ceil((run.inputs * part) / workers),
  ];
  return {
    ...of,
    ...{ seed: createRandom().seed, port: server.port, streams: fuzzStreams, lanes },
    budgets: Object.fromEntries(Object.entries(shares).map(share)) as Record<Target, number>,
    creds: {
      ...{ project: benchProjectId, key: server.key, otherKey: run.otherKey, otherProject },
      ...{ jwt: run.jwt, userTokens: await issueTokens(server, users) },
    },
    // The server's: limits.maxFrameBytes and the live and user sockets' 64 KiB, each dropped
    // by uWS past payloadLimit (src/transport/socket-errors.ts).
    limits: {
      ingest: { maxFrameBytes: 1024 * 1024, dropBytes: 4 * 1024 * 1024 },
      live: { maxFrameBytes: 64 * 1024, dropBytes: 256 * 1024 },
      user: { maxFrameBytes: 64 * 1024, dropBytes: 256 * 1024 },
    },
    durationMs: run.durationMs,
  };
}

interface Run {
  inputs: number;
  jwt: WorkerConfig['creds']['jwt'];
  otherKey: string;
  lines: string[];
  commands: string[];
  durationMs: number;
}

async function fuzzServer(server: ServerProcess, run: Run): Promise<ScenarioResult> {
  const routes = await routeTableFrom(run.lines);
  const runId = randomBytes(3).toString('hex');
  const configs: WorkerConfig[] = [];
  for (let worker = 0; worker < workers; worker++)
    configs.push(await workerConfig(server, run, { worker, runId, routes }));
  const before = await scrapeMetrics(server.port);
  const watch = watchServer(server);
  const cpuAtStart = server.cpuSeconds() ?? 0;
  const startedAt = performance.now();
  let shown = 0;
  const fleet = await runFuzzFleet(configs, (sent) => {
    if (sent - shown < run.inputs / 10) return;
    shown = sent;
    console.log(
      `  fuzz: ${sent.toLocaleString('en-US')} inputs sent, server RSS ${Math.round((server.rssBytes() ?? 0) / 2 ** 20)} MiB`,
    );
  });
  const seconds = (performance.now() - startedAt) / 1000;
  const serverCpuSeconds = (server.cpuSeconds() ?? cpuAtStart) - cpuAtStart;
  const watched = await watch.stop();
  const after = await readBack(server, fleet, before, runId);
  const outcome = {
    ...fleet,
    ...after,
    alive: after.alive && !watched.died,
    seconds,
    serverCpuSeconds,
    watched,
    target: run.inputs,
  };
  return {
    scenario: name,
    ...fuzzVerdict(outcome, server.logTail()),
    figures: fuzzFigures(outcome, configs, routes),
    table: fuzzTable(outcome),
    commands: run.commands,
    notes: [
      `RSS bound: peak at most ${Math.round(rssBoundBytes / 2 ** 20)} MiB.`,
      'Request budgets (limits.keyRequestsPerSecond, userRequestsPerSecond) are raised so the inputs reach the handlers; event limits are the defaults.',
      `Routes from the server's own table (${routes.length}), less ${untouchedRoutes.join(' and ')}, which the runner reads.`,
    ],
  };
}

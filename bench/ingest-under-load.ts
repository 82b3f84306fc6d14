import { mergeCounts, type FleetRunResult } from './fleet-result.js';
import { openFleet, type Fleet } from './load-fleet.js';
import { byCode, count, mebibytes, ms } from './number-format.js';
import type { BenchOptions } from './options.js';
import { startCpuMeter } from './proc-stats.js';
import { failedResult, type Scenario, type ScenarioResult } from './scenario.js';
import { describeServer, startServer, type ServerProcess } from './server-process.js';
import { workerCommand } from './worker-process.js';

const name = 'ingest-under-load';
// Seconds of frames a socket may have unacknowledged before it skips its turn: past that
// the server is far behind, and the skips (counted) say so better than a growing queue.
const outstandingSeconds = 5;

/**
 * Many sockets, each sending small batches at a steady rate (open loop), as a fleet of
 * browsers would: the acknowledged rate, the ack latency and what the server's CPU took.
 */
export const ingestUnderLoad: Scenario = { name, run: runIngestUnderLoad };

async function runIngestUnderLoad(options: BenchOptions): Promise<ScenarioResult> {
  const commands = [describeServer(), `${options.workers} × ${workerCommand}`];
  let server: ServerProcess;
  try {
    server = await startServer();
  } catch (err) {
    return failedResult(name, err, commands);
  }
  let fleet: Fleet | undefined;
  try {
    fleet = await openFleet({
      transport: 'ws',
      url: `ws://127.0.0.1:${server.port}/v1/ingest?key=${server.key}`,
      sockets: options.sockets,
      workers: options.workers,
      connectTimeoutMs: 30_000,
    });
    const cpu = { percent: undefined as number | undefined, meter: startCpuMeter(server.pid) };
    const load = await fleet.run({
      mode: {
        kind: 'paced',
        framesPerSecond: options.rate,
        maxOutstanding: Math.max(2, Math.ceil(options.rate * outstandingSeconds)),
      },
      activeSockets: fleet.opened,
      eventsPerFrame: options.batch,
      warmupMs: options.warmupSeconds * 1000,
      measureMs: options.measureSeconds * 1000,
      drainTimeoutMs: 10_000,
      onMeasure: (phase) => {
        if (phase === 'start') cpu.meter = startCpuMeter(server.pid);
        else cpu.percent = cpu.meter.percent();
      },
    });
    const figures = {
      sockets: fleet.opened,
      offeredEventsPerSecond: fleet.opened * options.rate * options.batch,
      ...load,
      errors: mergeCounts([fleet.errors, load.errors]),
      serverCpuPercent: cpu.percent,
      serverRssBytes: server.rssBytes(),
    };
    return { scenario: name, ...verdict(load, server), figures, table: table(figures), commands };
  } catch (err) {
    return failedResult(name, err, commands);
  } finally {
    await fleet?.close();
    await server.stop();
  }
}

function verdict(load: FleetRunResult, server: ServerProcess) {
  if (!server.alive())
    return { ok: false, failure: `server died during the run:\n${server.logTail().join('\n')}` };
  if (load.counts.accepted === 0) return { ok: false, failure: 'no events were acknowledged' };
  return { ok: true };
}

type Figures = FleetRunResult & {
  sockets: number;
  offeredEventsPerSecond: number;
  serverCpuPercent: number | undefined;
  serverRssBytes: number | undefined;
};

function table(f: Figures): ScenarioResult['table'] {
  const { latencyMs: latency } = f;
  const percent = (n: number | undefined) => (n === undefined ? 'n/a' : `${n.toFixed(1)} %`);
  return [
    ['sockets sending', count(f.sockets)],
    ['events/s offered (sockets × rate × batch)', count(f.offeredEventsPerSecond)],
    ['events/s sent', count(f.eventsSentPerSecond)],
    ['events/s acknowledged', count(f.eventsPerSecond)],
    [
      'ack latency p50 / p99 / p99.9',
      `${ms(latency.p50Ms)} / ${ms(latency.p99Ms)} / ${ms(latency.p999Ms)}`,
    ],
    ['ack latency max', ms(latency.maxMs)],
    ['server CPU (100 % = one core)', percent(f.serverCpuPercent)],
    ['server RSS at the end', mebibytes(f.serverRssBytes)],
    ['load generator CPU, all workers', percent(f.generatorCpuPercent)],
    ['turns skipped (too many frames unacknowledged)', count(f.counts.skipped)],
    ['errors', byCode(f.errors)],
    ['frames unacknowledged at the end', count(f.counts.unacked)],
    ['sockets open at the end', count(f.openSockets)],
  ];
}

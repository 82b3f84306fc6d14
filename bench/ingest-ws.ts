import type { BenchOptions } from './options.js';
import { byCode, count, mebibytes, ms } from './number-format.js';
import { failedResult, type Scenario, type ScenarioResult } from './scenario.js';
import {
  describeServer,
  serverCommand,
  serverEnv,
  startServer,
  type ServerProcess,
} from './server-process.js';
import { runWsLoad, type WsLoadResult } from './ws-load.js';

const name = 'ingest-ws';

/**
 * Events in over the ingest WebSocket, acknowledged once durable in embedded ClickHouse:
 * the path every SDK takes. The load client shares the machine with the server.
 */
export const ingestWs: Scenario = { name, run: runIngestWs };

async function runIngestWs(options: BenchOptions): Promise<ScenarioResult> {
  const commands = [`${describeServer()} (load: this process, ws-load.ts)`];
  let server: ServerProcess;
  try {
    server = await startServer();
  } catch (err) {
    return failedResult(name, err, commands);
  }
  try {
    const rssAtStartBytes = server.rssBytes();
    const load = await runWsLoad({
      url: `ws://127.0.0.1:${server.port}/v1/ingest?key=${server.key}`,
      connections: options.connections,
      eventsPerFrame: options.eventsPerFrame,
      inflight: options.inflight,
      warmupMs: options.warmupSeconds * 1000,
      measureMs: options.measureSeconds * 1000,
      drainTimeoutMs: 10_000,
      connectTimeoutMs: 10_000,
    });
    const rssAtEndBytes = server.rssBytes();
    const survived = server.alive();
    const figures = {
      server: { command: serverCommand, env: serverEnv },
      ...load,
      rssAtStartBytes,
      rssAtEndBytes,
    };
    return {
      scenario: name,
      ...verdict(load, survived, server.logTail()),
      figures,
      table: table(load, rssAtEndBytes),
      commands,
    };
  } finally {
    await server.stop();
  }
}

function verdict(load: WsLoadResult, survived: boolean, logTail: string[]) {
  if (!survived)
    return { ok: false, failure: `server died during the run:\n${logTail.join('\n')}` };
  if (load.acceptedEvents === 0) return { ok: false, failure: 'no events were acknowledged' };
  return { ok: true };
}

function table(load: WsLoadResult, rssBytes: number | undefined): ScenarioResult['table'] {
  const { latencyMs: latency } = load;
  return [
    ['events/s acknowledged', count(load.eventsPerSecond)],
    ['frames/s acknowledged', count(load.framesPerSecond)],
    [
      'ack latency p50 / p99 / p99.9',
      `${ms(latency.p50Ms)} / ${ms(latency.p99Ms)} / ${ms(latency.p999Ms)}`,
    ],
    ['ack latency max', ms(latency.maxMs)],
    ['latency samples', count(latency.samples)],
    ['connections open', count(load.connectionsOpened)],
    ['errors (whole run)', byCode(load.errors)],
    ['frames unacknowledged at the end', count(load.unackedFrames)],
    ['server RSS at the end', mebibytes(rssBytes)],
  ];
}

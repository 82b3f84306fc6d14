import { sleep } from './deadline.js';
import { mergeCounts } from './fleet-result.js';
import { openFleet, type Fleet } from './load-fleet.js';
import { byCode, count, mebibytes } from './number-format.js';
import type { BenchOptions } from './options.js';
import { failedResult, type Scenario, type ScenarioResult } from './scenario.js';
import { describeServer, startServer, type ServerProcess } from './server-process.js';
import { workerCommand } from './worker-process.js';

const name = 'connection-capacity';
// Long enough for the kernel to account the new sockets' pages and for a ping to pass.
const settleMs = 1000;

/**
 * Opens `sockets` idle ingest sockets from several worker processes, holds them, and reports
 * the time to open them all and the server's RSS per socket. Any socket lost is a failure.
 */
export const connectionCapacity: Scenario = { name, run: runConnectionCapacity };

async function runConnectionCapacity(options: BenchOptions): Promise<ScenarioResult> {
  const commands = [describeServer(), `${options.workers} × ${workerCommand}`];
  let server: ServerProcess;
  try {
    server = await startServer();
  } catch (err) {
    return failedResult(name, err, commands);
  }
  let fleet: Fleet | undefined;
  try {
    await sleep(settleMs);
    const rssBeforeBytes = server.rssBytes();
    fleet = await openFleet({
      transport: 'ws',
      url: `ws://127.0.0.1:${server.port}/v1/ingest?key=${server.key}`,
      sockets: options.sockets,
      workers: options.workers,
      connectTimeoutMs: 30_000,
    });
    const hold = await holdIdle(fleet, options);
    const rssWithSocketsBytes = server.rssBytes();
    const perSocket =
      rssBeforeBytes !== undefined && rssWithSocketsBytes !== undefined && fleet.opened > 0
        ? Math.round((rssWithSocketsBytes - rssBeforeBytes) / fleet.opened)
        : undefined;
    const figures = {
      requested: options.sockets,
      opened: fleet.opened,
      heldAfterSeconds: hold.seconds,
      stillOpen: hold.open,
      connectMs: fleet.connectMs,
      errors: mergeCounts([fleet.errors, hold.errors]),
      rssBeforeBytes,
      rssWithSocketsBytes,
      rssPerSocketBytes: perSocket,
      workers: options.workers,
    };
    const lost = options.sockets - hold.open;
    const errorCount = Object.values(figures.errors).reduce((a, b) => a + b, 0);
    const ok = lost === 0 && errorCount === 0 && server.alive();
    const failure = ok ? undefined : `${count(lost)} sockets not held, ${count(errorCount)} errors`;
    return { scenario: name, ok, failure, figures, table: table(figures), commands };
  } catch (err) {
    return failedResult(name, err, commands);
  } finally {
    await fleet?.close();
    await server.stop();
  }
}

/** An idle run: nothing is sent, and the report says how many sockets are still open. */
export async function holdIdle(fleet: Fleet, options: BenchOptions) {
  const seconds = Math.min(5, options.measureSeconds);
  const result = await fleet.run({
    mode: { kind: 'window', inflight: 1 },
    activeSockets: 0,
    eventsPerFrame: 1,
    warmupMs: 0,
    measureMs: seconds * 1000,
    drainTimeoutMs: 0,
  });
  return { seconds, open: result.openSockets, closed: result.closedSockets, errors: result.errors };
}

function table(f: {
  requested: number;
  stillOpen: number;
  heldAfterSeconds: number;
  connectMs: number;
  errors: Record<string, number>;
  rssBeforeBytes: number | undefined;
  rssWithSocketsBytes: number | undefined;
  rssPerSocketBytes: number | undefined;
  workers: number;
}): ScenarioResult['table'] {
  return [
    ['sockets requested', `${count(f.requested)} from ${f.workers} worker processes`],
    [`sockets open after holding ${f.heldAfterSeconds} s`, count(f.stillOpen)],
    ['time to open all', `${(f.connectMs / 1000).toFixed(2)} s`],
    ['errors', byCode(f.errors)],
    [
      'server RSS before / with the sockets',
      `${mebibytes(f.rssBeforeBytes)} / ${mebibytes(f.rssWithSocketsBytes)}`,
    ],
    [
      'server RSS per socket',
      f.rssPerSocketBytes === undefined ? 'n/a' : `${count(f.rssPerSocketBytes)} B`,
    ],
  ];
}

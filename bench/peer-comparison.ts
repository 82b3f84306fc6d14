import { sleep } from './deadline.js';
import { openFleet, type Fleet } from './load-fleet.js';
import type { BenchOptions } from './options.js';
import { peerNotes, peerTable } from './peer-table.js';
import { targets, type Target, type TargetFigures } from './peer-targets.js';
import { failedResult, type Scenario, type ScenarioResult } from './scenario.js';
import { workerCommand } from './worker-process.js';

const name = 'peers';
// Long enough for the kernel to account the new sockets' pages.
const settleMs = 1000;

/**
 * backline next to a plain `ws` server and a Socket.IO server speaking the same ingest and
 * ack exchange, all driven by the same load workers in the same run: events/s and latency
 * under a closed loop, and RSS per idle socket with the same number of sockets.
 */
export const peerComparison: Scenario = { name, loads: Object.keys(targets).length, run: runPeers };

async function runPeers(options: BenchOptions): Promise<ScenarioResult> {
  const all = Object.values(targets);
  const commands = [...all.map((t) => t.command), `${options.workers} × ${workerCommand}`];
  const measured: TargetFigures[] = [];
  try {
    for (const target of all) measured.push(await measureTarget(target, options));
  } catch (err) {
    return failedResult(name, err, commands);
  }
  const silent = measured.filter((m) => m.load.counts.accepted === 0).map((m) => m.target);
  return {
    scenario: name,
    ok: silent.length === 0,
    ...(silent.length ? { failure: `nothing acknowledged by ${silent.join(', ')}` } : {}),
    figures: { targets: measured },
    table: peerTable(measured),
    commands,
    notes: peerNotes(options),
  };
}

/** Starts one target, reads its RSS before and with the idle sockets, then loads it. */
async function measureTarget(target: Target, options: BenchOptions): Promise<TargetFigures> {
  const { server, url } = await target.start();
  try {
    await sleep(settleMs);
    const rssBeforeBytes = server.rssBytes();
    const fleet = await openFleet({
      transport: target.transport,
      url,
      sockets: target.measureMemory
        ? Math.max(options.peerSockets, options.connections)
        : options.connections,
      workers: options.workers,
      connectTimeoutMs: 30_000,
    });
    try {
      await sleep(settleMs);
      const rssWithSocketsBytes = server.rssBytes();
      const perSocket =
        target.measureMemory && rssBeforeBytes !== undefined && rssWithSocketsBytes !== undefined
          ? Math.round((rssWithSocketsBytes - rssBeforeBytes) / fleet.opened)
          : undefined;
      const load = await closedLoop(fleet, options);
      return {
        target: target.name,
        sockets: fleet.opened,
        connectMs: fleet.connectMs,
        connectErrors: fleet.errors,
        rssBeforeBytes,
        rssWithSocketsBytes,
        rssPerIdleSocketBytes: perSocket,
        load,
      };
    } finally {
      await fleet.close();
    }
  } finally {
    await server.stop();
  }
}

/** The same closed loop as ingest-ws, from the fleet's first `connections` sockets. */
function closedLoop(fleet: Fleet, options: BenchOptions) {
  return fleet.run({
    mode: { kind: 'window', inflight: options.inflight },
    activeSockets: options.connections,
    eventsPerFrame: options.eventsPerFrame,
    warmupMs: options.warmupSeconds * 1000,
    measureMs: options.measureSeconds * 1000,
    drainTimeoutMs: 10_000,
  });
}

/**
 * A load generator process, forked by `load-fleet.ts` with `--import tsx`. It holds its share
 * of the fleet's sockets (no process may hold more than its open-files limit, which every
 * result records as `machine.openFilesLimit`) and obeys the runner's commands of
 * `fleet-protocol.ts`. It exits when told, when the runner goes away, or when its lifetime
 * runs out, whichever comes first.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FleetCommand, WorkerReport } from './fleet-protocol.js';
import type { IngestClient } from './ingest-client.js';
import { createLiveWatch } from './live-watch.js';
import { openClients } from './open-clients.js';
import { driveSockets } from './socket-driver.js';

let clients: IngestClient[] = [];
let firstIndex = 0;
let watch: ReturnType<typeof createLiveWatch> | undefined;

/** Resolves once the message is handed to the IPC channel, so an exit after it loses nothing. */
function report(message: WorkerReport): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, undefined, () => resolve());
  });
}

async function handle(cmd: FleetCommand): Promise<void> {
  switch (cmd.t) {
    case 'open': {
      setTimeout(() => process.exit(4), cmd.lifetimeMs);
      firstIndex = cmd.firstIndex;
      const cpuAtStart = process.cpuUsage();
      const loopDelay = monitorEventLoopDelay({ resolution: 20 });
      loopDelay.enable();
      const opened = await openClients(cmd);
      loopDelay.disable();
      const cpu = process.cpuUsage(cpuAtStart);
      clients = opened.clients;
      return report({
        t: 'opened',
        opened: clients.length,
        errors: opened.errors,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        loopDelayMaxMs: Math.round(loopDelay.max / 1e6),
      });
    }
    case 'run':
      return report(await driveSockets(clients, firstIndex, cmd));
    case 'subscribe':
      watch = createLiveWatch(clients);
      return report(await watch.subscribe(cmd));
    case 'deliveries':
      if (!watch) throw new Error('deliveries before subscribe');
      return report(await watch.deliveries(cmd));
    case 'close':
      return closeAll();
  }
}

// Sockets whose server does not answer the close are cut after a second, so no close timer
// of `ws` (30 s) keeps the worker up.
async function closeAll(): Promise<void> {
  for (const client of clients) client.close();
  const allClosed = Promise.all(clients.map((client) => client.closed));
  await Promise.race([allClosed, new Promise((resolve) => setTimeout(resolve, 1000))]);
  for (const client of clients) client.terminate();
  await report({ t: 'closed' });
  process.exit(0);
}

process.on('message', (cmd: FleetCommand) => {
  handle(cmd).catch(async (err: unknown) => {
    await report({ t: 'failed', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
// Lets the runner start its connect clock after the worker's own start-up.
void report({ t: 'ready' });

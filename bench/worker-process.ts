import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { settlesWithin } from './deadline.js';
import type { FleetCommand, WorkerReport } from './fleet-protocol.js';
import { projectRoot } from './listening-process.js';

const workerScript = fileURLToPath(new URL('./load-worker.ts', import.meta.url));
/** How the runner starts each load worker, for the report. */
export const workerCommand = 'node --import tsx bench/load-worker.ts (child_process.fork, IPC)';

export interface WorkerProcess {
  readonly pid: number;
  /** Resolves once the worker has loaded and listens for commands. */
  readonly ready: Promise<void>;
  /** Sends `cmd` and resolves with the worker's report of type `expect`. */
  ask<T extends WorkerReport['t']>(
    cmd: FleetCommand,
    expect: T,
    timeoutMs: number,
  ): Promise<Extract<WorkerReport, { t: T }>>;
  /** Sends `close`; SIGKILLs the worker (by its PID) if it has not exited in `timeoutMs`. */
  stop(timeoutMs: number): Promise<void>;
}

/** Forks one load worker; it runs until `stop`, or until the runner exits (then it is killed). */
export function forkWorker(): WorkerProcess {
  const child = fork(workerScript, [], {
    cwd: projectRoot,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (report: WorkerReport) => report.t === 'ready' && resolve());
    void exited.then(() => reject(new Error('worker exited before it was ready')));
  });
  const onExit = () => kill(child);
  process.once('exit', onExit);
  void exited.then(() => process.removeListener('exit', onExit));

  return {
    pid: child.pid ?? 0,
    ready,
    ask: (cmd, expect, timeoutMs) => ask(child, exited, cmd, expect, timeoutMs),
    async stop(timeoutMs) {
      if (child.connected) child.send({ t: 'close' } satisfies FleetCommand);
      if (!(await settlesWithin(exited, timeoutMs))) kill(child);
      await settlesWithin(exited, 5000);
    },
  };
}

function ask<T extends WorkerReport['t']>(
  child: ChildProcess,
  exited: Promise<void>,
  cmd: FleetCommand,
  expect: T,
  timeoutMs: number,
): Promise<Extract<WorkerReport, { t: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`worker gave no ${expect} report in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (report: WorkerReport) => {
      if (report.t === expect) done(undefined, report as Extract<WorkerReport, { t: T }>);
      else if (report.t === 'failed') done(new Error(`worker failed: ${report.message}`));
    };
    function done(err?: Error, report?: Extract<WorkerReport, { t: T }>) {
      clearTimeout(timer);
      child.removeListener('message', onMessage);
      if (err) reject(err);
      else resolve(report!);
    }
    child.on('message', onMessage);
    void exited.then(() => done(new Error(`worker exited before its ${expect} report`)));
    child.send(cmd);
  });
}

// Only ever the PID of a worker forked above.
function kill(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

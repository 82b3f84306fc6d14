import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { projectRoot } from './listening-process.js';
import { addTally, emptyTally, type Tally } from './fuzz-tally.js';
import type { ValidReport } from './fuzz-valid.js';
import type { WorkerConfig, WorkerMessage } from './fuzz-worker.js';

const workerScript = fileURLToPath(new URL('./fuzz-worker.ts', import.meta.url));
export const fuzzWorkerCommand = 'node --import tsx bench/fuzz-worker.ts (child_process.fork, IPC)';

export interface FleetResult {
  tally: Tally;
  valid: ValidReport[];
  /** Workers that failed or exited without their report. */
  failures: string[];
}

/**
 * Forks one fuzz worker per config and waits for every report. `onProgress` gets the inputs
 * sent so far, summed over the workers. A worker still running `graceMs` after its deadline
 * is killed by its PID; workers never outlive the runner.
 */
export async function runFuzzFleet(
  configs: WorkerConfig[],
  onProgress: (inputs: number) => void,
  graceMs = 60_000,
): Promise<FleetResult> {
  const progress = new Array<number>(configs.length).fill(0);
  const reports = await Promise.all(
    configs.map((config, i) =>
      runWorker(config, graceMs, (inputs) => {
        progress[i] = inputs;
        onProgress(progress.reduce((a, b) => a + b, 0));
      }),
    ),
  );
  const tally = emptyTally();
  const valid: ValidReport[] = [];
  const failures: string[] = [];
  for (const report of reports) {
    if (report.t === 'done') {
      addTally(tally, report.tally);
      valid.push(report.valid);
    } else failures.push(report.message);
  }
  return { tally, valid, failures };
}

function runWorker(
  config: WorkerConfig,
  graceMs: number,
  onProgress: (inputs: number) => void,
): Promise<Extract<WorkerMessage, { t: 'done' | 'failed' }>> {
  const child = fork(workerScript, [], {
    cwd: projectRoot,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(child.pid, 'SIGKILL'); // only ever the worker forked here
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', kill);
  const timer = setTimeout(kill, config.durationMs + graceMs);
  return new Promise((resolve) => {
    let started = false;
    child.on('message', (message: WorkerMessage) => {
      if (message.t === 'progress') {
        if (!started) child.send({ t: 'run', config });
        started = true;
        onProgress(message.inputs);
      } else resolve(message);
    });
    child.once('exit', (code, signal) =>
      resolve({
        t: 'failed',
        message: `worker ${config.worker} exited (${signal ?? code}) without a report`,
      }),
    );
  }).finally(() => {
    clearTimeout(timer);
    process.removeListener('exit', kill);
  }) as Promise<Extract<WorkerMessage, { t: 'done' | 'failed' }>>;
}

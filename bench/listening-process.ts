import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { noteStarted, profileFlags } from './cpu-profiles.js';
import { projectRoot } from './project-root.js';
import { settlesWithin } from './deadline.js';
import { readCpuSeconds, readRssBytes } from './proc-stats.js';

/** A server the bench started (backline or a peer) that announced its loopback port. */
export interface ListeningProcess {
  readonly pid: number;
  readonly port: number;
  alive(): boolean;
  /** Resident set size from /proc, undefined once the process is gone or off Linux. */
  rssBytes(): number | undefined;
  cpuSeconds(): number | undefined;
  /** The last lines the process printed, for a failure report. */
  logTail(): string[];
  /** SIGTERM, then SIGKILL after `stopTimeoutMs`; then `cleanUp`. Returns how it ended. */
  stop(): Promise<string>;
  /** SIGKILL at once (a crash, `kill -9` by its PID); then `cleanUp`. Returns how it ended. */
  kill(): Promise<string>;
}

export interface ListeningSpec {
  /** Arguments of `node`, run from the project root. */
  args: string[];
  env: NodeJS.ProcessEnv;
  /** The line printed once the process listens; its first group is the port. */
  listening: RegExp;
  /** Masked in the log tail, so reports never carry it. */
  secret?: string;
  /** Removes what the process leaves behind; runs however it ended. */
  cleanUp?: () => void;
  startTimeoutMs: number;
  stopTimeoutMs: number;
  /** Every line the process prints, whole. */
  onLine?: (line: string) => void;
}

export { projectRoot };
const tailLines = 20;

/**
 * Spawns `node <args>` and resolves once it prints its port. Rejects (after stopping it)
 * if it exits or stays silent for `startTimeoutMs`.
 *
 * @example
 * const peer = await startListening({ args: ['--import', 'tsx', 'bench/peers/ws-peer.ts'],
 *   env: process.env, listening: /listening on 127\.0\.0\.1:(\d+)/,
 *   startTimeoutMs: 10_000, stopTimeoutMs: 5000 });
 */
export async function startListening(spec: ListeningSpec): Promise<ListeningProcess> {
  // Under `--profile`, `--cpu-prof` into the scenario's folder (cpu-profiles.ts).
  const child = spawn(process.execPath, [...profileFlags(), ...spec.args], {
    cwd: projectRoot,
    env: spec.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid !== undefined) noteStarted(child.pid, spec.args);
  const tail: string[] = [];
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve(`spawn failed: ${err.message}`));
    child.once('exit', (code, signal) => resolve(signal ?? `exit code ${code}`));
  });
  const port = new Promise<number>((resolve) => readLines(child, tail, spec, resolve));
  // Last resort when the runner exits without stop(): nothing we started outlives it.
  const onExit = () => {
    if (alive(child)) signal(child, 'SIGKILL');
    spec.cleanUp?.();
  };
  process.once('exit', onExit);

  const end = async (first: NodeJS.Signals, graceMs: number) => {
    if (alive(child)) signal(child, first);
    if (!(await settlesWithin(exited, graceMs))) signal(child, 'SIGKILL');
    const ended = (await settlesWithin(exited, 5000)) ? await exited : 'alive after SIGKILL';
    process.removeListener('exit', onExit);
    spec.cleanUp?.();
    return ended;
  };
  const stop = () => end('SIGTERM', spec.stopTimeoutMs);
  const first = Promise.race([port, exited]);
  const announced = await settlesWithin(first, spec.startTimeoutMs);
  const ready = announced ? await first : `no port announced in ${spec.startTimeoutMs} ms`;
  if (typeof ready !== 'number') {
    const ended = await stop();
    throw new Error(`server did not start (${ready}; ${ended}):\n${tail.join('\n')}`);
  }
  const pid = child.pid!;
  return {
    pid,
    port: ready,
    alive: () => alive(child),
    rssBytes: () => readRssBytes(pid),
    cpuSeconds: () => readCpuSeconds(pid),
    logTail: () => [...tail],
    stop,
    kill: () => end('SIGKILL', 0),
  };
}

/** Keeps reading both pipes for the whole run: a full pipe would block the server's writes. */
function readLines(
  child: ChildProcess,
  tail: string[],
  spec: ListeningSpec,
  onPort: (port: number) => void,
): void {
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      spec.onLine?.(line);
      const match = spec.listening.exec(line);
      if (match) onPort(Number(match[1]));
      const shown = spec.secret ? line.replaceAll(spec.secret, '<key>') : line;
      tail.push(shown.slice(0, 500));
      if (tail.length > tailLines) tail.shift();
    });
  }
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null && child.pid !== undefined;
}

// Only ever the PID of the child spawned above.
function signal(child: ChildProcess, name: NodeJS.Signals): void {
  try {
    process.kill(child.pid!, name);
  } catch {
    // Already gone between the check and the signal.
  }
}

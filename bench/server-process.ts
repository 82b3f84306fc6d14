import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { settlesWithin } from './deadline.js';

/** The exact command the benchmarks run, from the project root, with its settings. */
export const serverCommand = 'node --import tsx src/main.ts';
export const serverEnv = {
  PORT: '0',
  HOST: '127.0.0.1',
  DATA_DIR: '<fresh folder under os.tmpdir()>',
  BACKLINE_DEV_KEY: '<random per run>',
  LOG_LEVEL: 'warn',
};

export interface ServerProcess {
  readonly pid: number;
  readonly port: number;
  /** The ingest key, random per start. */
  readonly key: string;
  alive(): boolean;
  /** Resident set size from /proc, undefined once the process is gone or off Linux. */
  rssBytes(): number | undefined;
  /** The last lines the server printed, for a failure report. */
  logTail(): string[];
  /** SIGTERM, then SIGKILL after `stopTimeoutMs`; removes the data folder. Returns how it ended. */
  stop(): Promise<string>;
}

export const defaultServerOptions = {
  startTimeoutMs: 60_000, // chdb opens its session before the listener starts
  stopTimeoutMs: 20_000, // above the server's own 15 s shutdown timeout
};

const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const listening = /^backline listening on http:\/\/127\.0\.0\.1:(\d+) /;
const tailLines = 20;
// Settings a developer's shell may carry that would point the server away from loopback or
// from a fresh data folder.
const inheritedSettings =
  /^(BACKLINE_|CLICKHOUSE_URL$|REDIS_URL$|PORT$|HOST$|DATA_DIR$|LOG_LEVEL$)/;

/**
 * Starts the real server on a free loopback port with a fresh data folder and a random key.
 * Rejects (after cleaning up) if it exits or stays silent before announcing its port.
 *
 * @example
 * const server = await startServer();
 * try { await load(`ws://127.0.0.1:${server.port}/v1/ingest?key=${server.key}`); }
 * finally { await server.stop(); }
 */
export async function startServer(options = defaultServerOptions): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'backline-bench-'));
  const key = `bench_${randomBytes(24).toString('base64url')}`;
  const [, ...args] = serverCommand.split(' ');
  const child = spawn(process.execPath, args, {
    cwd: projectRoot,
    env: environment(dataDir, key),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve(`spawn failed: ${err.message}`));
    child.once('exit', (code, signal) => resolve(signal ?? `exit code ${code}`));
  });
  const port = new Promise<number>((resolve) => readLines(child, tail, key, resolve));
  const cleanUp = () => killAndRemove(child, dataDir);
  process.once('exit', cleanUp);

  const stop = async () => {
    if (alive(child)) signal(child, 'SIGTERM');
    if (!(await settlesWithin(exited, options.stopTimeoutMs))) signal(child, 'SIGKILL');
    const ended = (await settlesWithin(exited, 5000)) ? await exited : 'alive after SIGKILL';
    process.removeListener('exit', cleanUp);
    rmSync(dataDir, { recursive: true, force: true });
    return ended;
  };
  const first = Promise.race([port, exited]);
  const announced = await settlesWithin(first, options.startTimeoutMs);
  const ready = announced ? await first : `no port announced in ${options.startTimeoutMs} ms`;
  if (typeof ready !== 'number') {
    const ended = await stop();
    throw new Error(`server did not start (${ready}; ${ended}):\n${tail.join('\n')}`);
  }
  const pid = child.pid!;
  const rssBytes = () => readRss(pid);
  return {
    pid,
    port: ready,
    key,
    alive: () => alive(child),
    rssBytes,
    logTail: () => [...tail],
    stop,
  };
}

function environment(dataDir: string, key: string): NodeJS.ProcessEnv {
  const kept = Object.entries(process.env).filter(([name]) => !inheritedSettings.test(name));
  return { ...Object.fromEntries(kept), ...serverEnv, DATA_DIR: dataDir, BACKLINE_DEV_KEY: key };
}

/** Keeps reading both pipes for the whole run: a full pipe would block the server's writes. */
function readLines(
  child: ChildProcess,
  tail: string[],
  key: string,
  onPort: (port: number) => void,
): void {
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      const match = listening.exec(line);
      if (match) onPort(Number(match[1]));
      // The server prints its key on start; reports should not carry it.
      tail.push(line.replaceAll(key, '<key>').slice(0, 500));
      if (tail.length > tailLines) tail.shift();
    });
  }
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null && child.pid !== undefined;
}

function signal(child: ChildProcess, name: NodeJS.Signals): void {
  try {
    process.kill(child.pid!, name);
  } catch {
    // Already gone between the check and the signal.
  }
}

// Last resort when the runner exits without stop(): no server or data folder outlives it.
function killAndRemove(child: ChildProcess, dataDir: string): void {
  if (alive(child)) signal(child, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
}

function readRss(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './free-port.js';

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** The running process's id; changes on `restart()`. */
  readonly pid: number;
  /** The data folder (AOF files), kept across `restart()`. */
  readonly dir: string;
  /** SIGTERM and wait for the exit; a second call does nothing. */
  stop(): Promise<void>;
  /** SIGKILL by pid, as a crash, and wait for the exit. */
  kill(): Promise<void>;
  /** Starts again on the same port and folder, so the AOF brings the data back. */
  restart(): Promise<void>;
}

export interface RedisServerOptions {
  /** Appended to the command line; later settings win (`['--appendfsync', 'everysec']`). */
  args?: string[];
  /** Folders searched for `redis-server`, PATH-style; the default is PATH plus /usr/bin and /usr/sbin. */
  searchPath?: string;
}

/** Processes started here and still running: killed if the test process ends without stopping them. */
const running = new Set<ChildProcess>();
const killRunning = () => {
  for (const child of running) if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
};
// Vitest ends its workers with SIGTERM, after which Node runs no 'exit' listeners.
const endSignals = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
const onSignal = (signal: NodeJS.Signals) => {
  killRunning();
  for (const name of endSignals) process.off(name, onSignal);
  process.kill(process.pid, signal); // the default action, now that no listener is left
};
process.on('exit', killRunning);

function track(child: ChildProcess): void {
  if (running.size === 0) for (const name of endSignals) process.on(name, onSignal);
  running.add(child);
  child.once('exit', () => {
    running.delete(child);
    if (running.size === 0) for (const name of endSignals) process.off(name, onSignal);
  });
}

/**
 * A real `redis-server` (Debian 7.0) for one test, on a free loopback port with its own folder,
 * writing an AOF fsynced on every write (what cluster mode requires) and no RDB snapshots.
 *
 * @example
 * const redis = await startRedisServer();
 * const client = openRedis(redis.url);
 * await redis.kill(); await redis.restart(); // the acknowledged writes are back
 * await redis.stop();
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = findRedisServer(
    options.searchPath ?? [process.env.PATH ?? '', '/usr/bin', '/usr/sbin'].join(delimiter),
  );
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'backline-redis-'));
  const args = [
    ...['--bind', '127.0.0.1', '--port', String(port), '--dir', dir],
    ...['--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no'],
    ...(options.args ?? []),
  ];
  let child = await launch(binary, args, port);

  const end = async (signal: NodeJS.Signals) => {
    if (!running.has(child)) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid!, signal);
    await exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return child.pid!;
    },
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    async restart() {
      await end('SIGTERM');
      child = await launch(binary, args, port);
    },
  };
}

function findRedisServer(searchPath: string): string {
  for (const dir of searchPath.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  throw new Error(
    'redis-server not found: install the Debian package `redis-server` (apt-get install redis-server)',
  );
}

async function launch(binary: string, args: string[], port: number): Promise<ChildProcess> {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  for (let attempt = 0; attempt < 200; attempt++) {
    if (!running.has(child)) throw new Error(`redis-server exited at start:\n${output}`);
    if (await answersPing(port)) return child;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  process.kill(child.pid!, 'SIGKILL');
  throw new Error(`redis-server did not answer PING on port ${port}:\n${output}`);
}

/** A raw PING, so the helper does not depend on the client under test. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

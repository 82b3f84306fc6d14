import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { settlesWithin } from './deadline.js';
import { readCpuSeconds, readRssBytes } from './proc-stats.js';

/**
 * How the cluster scenarios start Redis, as a reader would: the durability cluster mode
 * requires (every write fsynced before its reply, checked by the nodes at start), no RDB.
 */
export const redisCommand =
  'redis-server --bind 127.0.0.1 --port <free> --dir <fresh folder under os.tmpdir()> ' +
  "--appendonly yes --appendfsync always --save '' --daemonize no";

export interface RedisProcess {
  readonly pid: number;
  readonly url: string;
  alive(): boolean;
  cpuSeconds(): number | undefined;
  rssBytes(): number | undefined;
  /** Keys in the database (0: no node wrote anything) and the memory Redis reports. */
  inspect(): Promise<{ keys: number; usedMemoryBytes: number }>;
  /** The string at `key` (the full key, prefix included), null when there is none. */
  get(key: string): Promise<string | null>;
  /** The strings at `keys`, in order, null for each missing one. */
  mget(keys: string[]): Promise<Array<string | null>>;
  /** SIGTERM by its PID (SIGKILL after `stopTimeoutMs`), then the folder is removed. */
  stop(): Promise<void>;
}

export const defaultRedisOptions = {
  startTimeoutMs: 10_000, // an empty AOF loads at once
  stopTimeoutMs: 5000, // one last fsync
};

const ready = /ready to accept connections/i;

/**
 * Starts a `redis-server` (Debian's 7.0) on a free loopback port with a fresh folder; it
 * ends with the runner if nobody stops it.
 *
 * @example
 * const redis = await startRedis();
 * try { await startNodes(redis.url); } finally { await redis.stop(); }
 */
export async function startRedis(options = defaultRedisOptions): Promise<RedisProcess> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'backline-bench-redis-'));
  const args = [
    ...['--bind', '127.0.0.1', '--port', String(port), '--dir', dir],
    ...['--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no'],
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  const exited = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      tail.push(`${err.message} (Debian: apt-get install redis-server)`);
      resolve();
    });
    child.once('exit', () => resolve());
  });
  const started = new Promise<void>((resolve) => {
    for (const stream of [child.stdout, child.stderr])
      createInterface({ input: stream }).on('line', (line) => {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        if (ready.test(line)) resolve();
      });
  });
  const isAlive = () => child.exitCode === null && child.signalCode === null && !!child.pid;
  // Only ever the PID of the redis-server spawned above.
  const kill = (signal: NodeJS.Signals) => {
    if (!isAlive()) return;
    try {
      process.kill(child.pid!, signal);
    } catch {
      // Gone between the check and the signal.
    }
  };
  const onExit = () => {
    kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  const stop = async () => {
    kill('SIGTERM');
    if (!(await settlesWithin(exited, options.stopTimeoutMs))) kill('SIGKILL');
    await settlesWithin(exited, 5000);
    process.removeListener('exit', onExit);
    rmSync(dir, { recursive: true, force: true });
  };

  const up = await settlesWithin(Promise.race([started, exited]), options.startTimeoutMs);
  if (!up || !isAlive()) {
    await stop();
    throw new Error(`redis-server did not start on port ${port}:\n${tail.join('\n')}`);
  }
  const pid = child.pid!;
  const url = `redis://127.0.0.1:${port}`;
  return {
    pid,
    url,
    alive: isAlive,
    cpuSeconds: () => readCpuSeconds(pid),
    rssBytes: () => readRssBytes(pid),
    inspect: () => withRedis(url, inspectRedis),
    get: (key) => withRedis(url, (redis) => redis.get(key)),
    mget: (keys) => withRedis(url, (redis) => redis.mget(keys)),
    stop,
  };
}

/** A connection of its own for one look, so nothing of the bench stays connected. */
async function withRedis<T>(url: string, look: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    return await look(redis);
  } finally {
    redis.disconnect();
  }
}

async function inspectRedis(redis: Redis) {
  const keys = await redis.dbsize();
  const memory = /^used_memory:(\d+)/m.exec(await redis.info('memory'));
  return { keys, usedMemoryBytes: Number(memory?.[1] ?? 0) };
}

/** A loopback port free right now (Redis has no "port 0, tell me which"). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startListening, type ListeningProcess } from './listening-process.js';

/** The exact command the benchmarks run, from the project root, with its settings. */
export const serverCommand = 'node --import tsx src/main.ts';
export const serverEnv = {
  PORT: '0',
  HOST: '127.0.0.1',
  DATA_DIR: '<fresh folder under os.tmpdir()>',
  BACKLINE_DEV_KEY: '<random per run>',
  LOG_LEVEL: 'warn',
};

/** Parts of backline's JSON config file a scenario may set; empty means every default. */
export interface ServerSettings {
  limits?: Record<string, number>;
  storage?: Record<string, number>;
  analytics?: Record<string, unknown>;
  /** Email providers, their limits and the sender, as the config file's `email`. */
  email?: Record<string, unknown>;
  /**
   * Streams and rules of one project `bench`, whose key (random per start) may ingest, read
   * and administer. Absent: the dev project with its example streams, as `npm start` runs.
   */
  project?: { streams?: object[]; rules?: object[]; auth?: object };
  /** Projects beside `bench`, as the config file writes them (each with its own keys). */
  otherProjects?: object[];
}

export const benchProjectId = 'bench';

export interface ServerProcess extends ListeningProcess {
  /** The ingest key, random per start unless `NodeStart.key` named it. */
  readonly key: string;
  readonly dataDir: string;
}

/** How one node of several differs from a lone server (bench/cluster-nodes.ts). */
export interface NodeStart {
  /** The project key; one shared by every node of a cluster. Random when absent. */
  key?: string;
  /** Set on top of `serverEnv`: a cluster node's REDIS_URL, BACKLINE_NODE_ID, … */
  env?: Record<string, string>;
  /** A folder the caller made and removes, so it can read what was stored after the stop. */
  dataDir?: string;
}

export const defaultServerOptions = {
  startTimeoutMs: 60_000, // chdb opens its session before the listener starts
  stopTimeoutMs: 20_000, // above the server's own 15 s shutdown timeout
};

export interface ServerStartOptions {
  startTimeoutMs: number;
  stopTimeoutMs: number;
  /** `LOG_LEVEL` instead of `warn` (`debug` logs the route table once, at start). */
  logLevel?: string;
  /** Every line the server prints, whole (the log tail keeps only the last ones, cut). */
  onLine?: (line: string) => void;
}

const listening = /^backline listening on http:\/\/127\.0\.0\.1:(\d+) /;
// Settings a developer's shell may carry that would point the server away from loopback or
// from a fresh data folder.
const inheritedSettings =
  /^(BACKLINE_|CLICKHOUSE_URL$|REDIS_URL$|PORT$|HOST$|DATA_DIR$|LOG_LEVEL$)/;

/**
 * The command line as a reader would type it, with the config file's content inline; a
 * project's long lists of streams or rules are shown by their count and first entry.
 */
export function describeServer(
  settings: ServerSettings = {},
  nodeEnv: Record<string, string> = {},
): string {
  const env = Object.entries({ ...serverEnv, ...nodeEnv }).map(([name, v]) => `${name}=${v}`);
  if (hasSettings(settings)) {
    const summaries: string[] = [];
    const shown = JSON.stringify(configFile(settings, '<key>'), (name, value: unknown) => {
      if ((name !== 'streams' && name !== 'rules') || !Array.isArray(value) || value.length < 3)
        return value;
      summaries.push(`[<${value.length} ${name}, the first: ${JSON.stringify(value[0])}>]`);
      return `<summary ${summaries.length - 1}>`;
    });
    const inline = shown.replace(/"<summary (\d+)>"/g, (_, i: string) => summaries[Number(i)]!);
    env.push(`BACKLINE_CONFIG=<file: ${inline}>`);
  }
  return `${env.join(' ')} ${serverCommand}`;
}

/**
 * Starts the real server on a free loopback port with a fresh data folder and a random key,
 * plus a config file when `settings` has any. Rejects (after cleaning up) if it exits or
 * stays silent before announcing its port.
 *
 * @example
 * const server = await startServer({ storage: { flushIntervalMs: 1 } });
 * try { await load(`ws://127.0.0.1:${server.port}/v1/ingest?key=${server.key}`); }
 * finally { await server.stop(); }
 */
export async function startServer(
  settings: ServerSettings = {},
  options: ServerStartOptions = defaultServerOptions,
  node: NodeStart = {},
): Promise<ServerProcess> {
  const dataDir = node.dataDir ?? mkdtempSync(join(tmpdir(), 'backline-bench-'));
  const key = node.key ?? `bench_${randomBytes(24).toString('base64url')}`;
  const env = { ...environment(dataDir, key), ...node.env };
  if (options.logLevel) env.LOG_LEVEL = options.logLevel;
  if (hasSettings(settings)) {
    env.BACKLINE_CONFIG = join(dataDir, 'bench-config.json');
    writeFileSync(env.BACKLINE_CONFIG, JSON.stringify(configFile(settings, key)));
  }
  const [, ...args] = serverCommand.split(' ');
  const server = await startListening({
    args,
    env,
    listening,
    secret: key,
    cleanUp: () => {
      if (!node.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
    ...options,
  });
  return { ...server, key, dataDir };
}

function configFile(settings: ServerSettings, key: string): object {
  const { project, otherProjects = [], ...rest } = settings;
  if (!project) return rest;
  const keys = [{ key, scopes: ['ingest', 'read', 'admin'] }];
  return { ...rest, projects: [{ id: benchProjectId, keys, ...project }, ...otherProjects] };
}

function hasSettings(settings: ServerSettings): boolean {
  return Object.values(settings).some((part) => part && Object.keys(part).length > 0);
}

function environment(dataDir: string, key: string): NodeJS.ProcessEnv {
  const kept = Object.entries(process.env).filter(([name]) => !inheritedSettings.test(name));
  return { ...Object.fromEntries(kept), ...serverEnv, DATA_DIR: dataDir, BACKLINE_DEV_KEY: key };
}

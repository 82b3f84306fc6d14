/**
 * Seeds a server's data folder before the server starts, in a process of its own: chdb keeps
 * one engine per process and one session per folder, and the runner should not carry its
 * memory. The scenario runs the script (`runSeed`); the script's `main` is `seedMain`, which
 * opens the folder's embedded ClickHouse, applies backline's migrations, seeds, and prints
 * one JSON line: what it stored, read back by `runSeed`. Then the scenario's server starts on
 * the folder (`onSeededServer`). Used by the history and analytics scenarios (history-seed.ts,
 * analytics-seed.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openChdb } from '../src/storage/chdb-client.js';
import type { ClickHouse } from '../src/storage/clickhouse.js';
import { migrate } from '../src/storage/migrate.js';
import { projectRoot } from './project-root.js';
import { failedResult, type ScenarioResult } from './scenario.js';
import {
  defaultServerOptions,
  describeServer,
  startServer,
  type ServerProcess,
  type ServerSettings,
} from './server-process.js';

const run = promisify(execFile);

const argsOf = (script: string, dataDir: string, args: readonly number[]) => [
  ...['--import', 'tsx', script, dataDir],
  ...args.map(String),
];

/** The seed's command line as a reader would run it again. */
export const seedCommand = (script: string, args: readonly number[]): string =>
  `node ${argsOf(script, '<data folder>', args).join(' ')}`;

/** Runs `script` on `dataDir` with numeric `args`; answers the JSON it printed last. */
export async function runSeed<Result>(
  script: string,
  dataDir: string,
  args: readonly number[],
  timeoutMs: number,
): Promise<Result> {
  const { stdout } = await run(process.execPath, argsOf(script, dataDir, args), {
    cwd: projectRoot,
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Result;
}

/** A scenario's seed (`script` with `args`) and the server it then starts on the folder. */
export interface SeededRun {
  scenario: string;
  script: string;
  args: readonly number[];
  timeoutMs: number;
  settings: ServerSettings;
}

/** What a seeded scenario measures on: its server, what the seed stored, the start's time. */
export interface SeededServer<Seeded> {
  server: ServerProcess;
  seeded: Seeded;
  startSeconds: number;
}

/**
 * A scenario on a seeded server: a fresh data folder (removed at the end, or at exit), the seed
 * run into it, a server started on it (given 3 minutes: it opens the seeded ClickHouse), then
 * `measure`, then the server stopped. Any failure is the scenario's failed result; the result's
 * commands are the seed's and the server's.
 */
export async function onSeededServer<Seeded>(
  run: SeededRun,
  measure: (
    on: SeededServer<Seeded>,
  ) => Promise<Omit<ScenarioResult, 'scenario' | 'commands'> | ScenarioResult>,
): Promise<ScenarioResult> {
  const commands = [seedCommand(run.script, run.args), describeServer(run.settings)];
  const dataDir = mkdtempSync(join(tmpdir(), `backline-bench-${run.scenario}-`));
  const removeData = () => rmSync(dataDir, { recursive: true, force: true });
  process.once('exit', removeData);
  try {
    const seeded = await runSeed<Seeded>(run.script, dataDir, run.args, run.timeoutMs);
    const began = performance.now();
    const start = { ...defaultServerOptions, startTimeoutMs: 180_000 };
    const server = await startServer(run.settings, start, { dataDir });
    try {
      const startSeconds = (performance.now() - began) / 1000;
      return {
        scenario: run.scenario,
        commands,
        ...(await measure({ server, seeded, startSeconds })),
      };
    } finally {
      await server.stop();
    }
  } catch (err) {
    return failedResult(run.scenario, err, commands);
  } finally {
    process.removeListener('exit', removeData);
    removeData();
  }
}

/** Active parts of `events` in the seeded folder. */
export async function eventParts(ch: ClickHouse): Promise<number> {
  const [parts] = await ch.query<{ n: string }>(
    `SELECT toString(count()) AS n FROM system.parts
     WHERE database = currentDatabase() AND table = 'events' AND active`,
  );
  return Number(parts?.n ?? 0);
}

/**
 * A seed script's entry: `<data folder> <n>…` (positive integers, `names` of them), the
 * folder's ClickHouse migrated, then `seed`; exits 1 with the message on any failure.
 */
export function seedMain<Result>(
  names: readonly string[],
  seed: (ch: ClickHouse, args: number[]) => Promise<Result>,
): void {
  const [dataDir, ...rest] = process.argv.slice(2);
  const args = rest.map(Number);
  const main = async () => {
    if (
      !dataDir ||
      args.length !== names.length ||
      !args.every((n) => Number.isSafeInteger(n) && n > 0)
    )
      throw new Error(`usage: <data folder> ${names.map((n) => `<${n}>`).join(' ')}`);
    const ch = openChdb(join(dataDir, 'clickhouse'));
    try {
      await migrate(ch);
      console.log(JSON.stringify(await seed(ch, args)));
    } finally {
      await ch.close();
    }
  };
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}

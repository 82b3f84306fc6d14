/**
 * Seeds a server's data folder before the server starts, in a process of its own: chdb keeps
 * one engine per process and one session per folder, and the runner should not carry its
 * memory. The scenario runs the script (`runSeed`); the script's `main` is `seedMain`, which
 * opens the folder's embedded ClickHouse, applies backline's migrations, seeds, and prints
 * one JSON line: what it stored, read back by `runSeed`. Used by the history and analytics
 * scenarios (history-seed.ts, analytics-seed.ts).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openChdb } from '../src/storage/chdb-client.js';
import type { ClickHouse } from '../src/storage/clickhouse.js';
import { migrate } from '../src/storage/migrate.js';
import { projectRoot } from './project-root.js';

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

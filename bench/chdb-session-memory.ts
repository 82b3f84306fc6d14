import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { MemoryStep } from './chdb-session-open.js';
import { projectRoot } from './listening-process.js';
import { mebibytes } from './number-format.js';
import type { BenchOptions } from './options.js';
import { median } from './percentiles.js';
import { failedResult, type Scenario, type ScenarioResult } from './scenario.js';

const name = 'chdb-session-memory';
const script = 'bench/chdb-session-open.ts';
const run = promisify(execFile);

/**
 * What an embedded ClickHouse costs in memory before any data: RSS of a fresh process before
 * chdb loads, after it loads, after a `Session` opens on an empty folder, after the first
 * query and after backline's migrations. Median of 3 processes (1 with `--quick`).
 */
export const chdbSessionMemory: Scenario = { name, run: runSessionMemory };

async function runSessionMemory(options: BenchOptions): Promise<ScenarioResult> {
  const args = ['--import', 'tsx', script];
  const commands = [`node ${args.join(' ')}`];
  const runs: MemoryStep[][] = [];
  try {
    for (let i = 0; i < (options.quick ? 1 : 3); i += 1) {
      const { stdout } = await run(process.execPath, args, { cwd: projectRoot, timeout: 60_000 });
      runs.push(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as MemoryStep[]);
    }
  } catch (err) {
    return failedResult(name, err, commands);
  }
  const steps = medianSteps(runs);
  const rssOf = (step: string) => steps.find((s) => s.step === step)!.rssBytes;
  const before = rssOf('before chdb');
  const figures = {
    processes: runs.length,
    steps,
    sessionOpenBytes: rssOf('Session opened') - before,
    migratedBytes: rssOf('backline schema migrated') - before,
  };
  return {
    scenario: name,
    ok: figures.sessionOpenBytes > 0,
    figures,
    table: [
      ...steps.map((s): [string, string] => [`RSS, ${s.step}`, mebibytes(s.rssBytes)]),
      [
        '**chdb loaded + Session opened, over the process before**',
        mebibytes(figures.sessionOpenBytes),
      ],
      ['… and backline’s schema migrated', mebibytes(figures.migratedBytes)],
    ],
    commands,
    notes: [
      `Median of ${runs.length} fresh process${runs.length === 1 ? '' : 'es'} (node with ` +
        'the tsx loader), each opening ' +
        'backline’s `openChdb` on an empty temp folder; RSS from `process.memoryUsage()`. The ' +
        'JS heap barely moves: the cost is the ClickHouse engine’s native code and memory.',
    ],
  };
}

/** Each step's median over the processes; every process reports the same steps in order. */
function medianSteps(runs: MemoryStep[][]): MemoryStep[] {
  return runs[0]!.map((first, i) => ({
    step: first.step,
    rssBytes: median(runs.map((r) => r[i]!.rssBytes)),
    heapUsedBytes: median(runs.map((r) => r[i]!.heapUsedBytes)),
  }));
}

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { QueryLag } from './chdb-query-lag.js';
import { projectRoot } from './listening-process.js';
import { count, ms } from './number-format.js';
import type { BenchOptions } from './options.js';
import { median } from './percentiles.js';
import { failedResult, type Scenario, type ScenarioResult } from './scenario.js';

const name = 'chdb-query-blocking';
const script = 'bench/chdb-query-lag.ts';
// Enough rows that the query takes a few hundred ms on the development machine.
const rows = 100_000_000;
const run = promisify(execFile);

/**
 * Why backline calls only chdb's async methods (src/storage/chdb-client.ts): how long the
 * event loop stalls while the same query runs through `Session.query()` and through
 * `Session.queryAsync()`, measured in a separate process.
 */
export const chdbQueryBlocking: Scenario = { name, run: runQueryBlocking };

async function runQueryBlocking(options: BenchOptions): Promise<ScenarioResult> {
  const repeats = options.quick ? 2 : 5;
  const args = ['--import', 'tsx', script, `${rows}`, `${repeats}`];
  const commands = [`node ${args.join(' ')}`];
  let lags: QueryLag[];
  try {
    const { stdout } = await run(process.execPath, args, { cwd: projectRoot, timeout: 120_000 });
    lags = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as QueryLag[];
  } catch (err) {
    return failedResult(name, err, commands);
  }
  const of = (call: QueryLag['call']) => {
    const mine = lags.filter((l) => l.call === call);
    return {
      queryMs: median(mine.map((l) => l.queryMs)),
      longestGapMs: median(mine.map((l) => l.longestGapMs)),
    };
  };
  const figures = { rows, repeats, query: of('query'), queryAsync: of('queryAsync'), lags };
  const row = (label: string, f: { queryMs: number; longestGapMs: number }): [string, string] => [
    label,
    `${ms(f.queryMs)} / ${ms(f.longestGapMs)}`,
  ];
  return {
    scenario: name,
    ok: lags.length === 2 * repeats,
    figures,
    table: [
      ['query', `\`SELECT sum(cityHash64(number)) FROM numbers(${count(rows)})\``],
      row('**`Session.query()`** (sync): query time / longest event-loop stall', figures.query),
      row('**`Session.queryAsync()`**: query time / longest event-loop stall', figures.queryAsync),
    ],
    commands,
    notes: [
      `Median of ${repeats} calls each, alternating; a 1 ms interval timer in the same ` +
        'process notes the longest gap between its ticks while the call runs. A gap as long ' +
        'as the query means no socket, timer or ack was served meanwhile.',
    ],
  };
}

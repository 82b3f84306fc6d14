import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { projectRoot } from './listening-process.js';
import { count } from './number-format.js';
import type { BenchOptions } from './options.js';
import { failedResult, type Scenario, type ScenarioResult } from './scenario.js';

const name = 'storage-ceiling';
const rowsPerBatch = 20_000; // backline's storage.maxBatchRows default: its biggest batch
const script = 'bench/chdb-insert-loop.ts';
const run = promisify(execFile);

interface InsertFigures {
  rows: number;
  seconds: number;
  lanes: number;
  rowsPerBatch: number;
  stored: number;
}

/**
 * How fast embedded ClickHouse takes the same rows with nothing in front of it, next to the
 * events/s backline acknowledged with storage on (ingest-ws, earlier in the same run).
 */
export const storageCeiling: Scenario = { name, run: runStorageCeiling };

async function runStorageCeiling(
  options: BenchOptions,
  earlier: readonly ScenarioResult[],
): Promise<ScenarioResult> {
  const args = ['--import', 'tsx', script, `${options.storageBatches}`];
  args.push(`${options.measureSeconds}`, `${rowsPerBatch}`);
  const commands = [`node ${args.join(' ')}`];
  let insert: InsertFigures;
  try {
    // Bounded: the loop stops itself after measureSeconds; the kill is for a hung engine.
    const timeout = options.measureSeconds * 1000 + 60_000;
    const { stdout } = await run(process.execPath, args, { cwd: projectRoot, timeout });
    insert = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as InsertFigures;
  } catch (err) {
    return failedResult(name, err, commands);
  }
  const rowsPerSecond = Math.round(insert.rows / insert.seconds);
  const ws = earlier.find((result) => result.scenario === 'ingest-ws' && result.ok);
  const backline = ws?.figures.eventsPerSecond as number | undefined;
  const figures = { ...insert, rowsPerSecond, backlineEventsPerSecond: backline };
  const ok = insert.rows > 0 && insert.stored >= insert.rows;
  return {
    scenario: name,
    ok,
    ...(ok ? {} : { failure: `${insert.stored} rows stored of ${insert.rows} inserted` }),
    figures,
    table: [
      ['direct chdb insert, rows/s', count(rowsPerSecond)],
      ['rows inserted (after one warm-up batch)', count(insert.rows)],
      ['batch rows / inserts in flight', `${count(insert.rowsPerBatch)} / ${insert.lanes}`],
      ['backline events/s acknowledged (ingest-ws)', backline ? count(backline) : 'n/a'],
      [
        'backline ÷ direct insert',
        backline ? `${(backline / rowsPerSecond).toFixed(2)}` : 'n/a (run with ingest-ws)',
      ],
    ],
    commands,
    notes: [
      'Rows shaped as backline stores the bench events, inserted through the same ' +
        '`ClickHouse.insert` (src/storage/chdb-client.ts) with a dedup token per batch and as ' +
        'many inserts in flight as the batch writer allows; rows are built outside the clock.',
    ],
  };
}

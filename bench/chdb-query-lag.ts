/**
 * The chdb-query-blocking scenario's measuring process: runs one CPU-bound query through a
 * chdb `Session`'s synchronous `query()` and its `queryAsync()` in turn, while a 1 ms
 * interval notes the longest gap between its ticks, and prints one JSON line per call.
 *
 * Run: `node --import tsx bench/chdb-query-lag.ts <rows> <repeats>`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Session } from 'chdb';

export interface QueryLag {
  call: 'query' | 'queryAsync';
  queryMs: number;
  /** The longest time the 1 ms interval went without a tick while the call ran. */
  longestGapMs: number;
}

const [rows, repeats] = process.argv.slice(2, 4).map(Number) as [number, number];
// Hashing every number keeps the engine busy on its own threads for the whole query.
const sql = `SELECT sum(cityHash64(number)) AS h FROM numbers(${rows})`;

/** Runs `call` with the interval ticking; the gap that covers a blocking call ends after it. */
async function measure(call: QueryLag['call'], run: () => unknown): Promise<QueryLag> {
  let last = performance.now();
  let longestGapMs = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longestGapMs = Math.max(longestGapMs, now - last);
    last = now;
  }, 1);
  await sleep(20); // the interval is running before the query starts
  longestGapMs = 0;
  const started = performance.now();
  await run();
  const queryMs = performance.now() - started;
  await sleep(5); // the first tick after a blocking call closes its gap
  clearInterval(ticker);
  return { call, queryMs, longestGapMs };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'backline-query-lag-'));
  const session = new Session(dir);
  try {
    session.query(sql, 'Null'); // unmeasured: the first query loads functions and threads
    const results: QueryLag[] = [];
    for (let i = 0; i < repeats; i += 1) {
      results.push(await measure('query', () => session.query(sql, 'JSONEachRow')));
      results.push(
        await measure('queryAsync', () => session.queryAsync(sql, { format: 'JSONEachRow' })),
      );
    }
    console.log(JSON.stringify(results));
  } finally {
    session.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

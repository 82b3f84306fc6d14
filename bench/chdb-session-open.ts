/**
 * The chdb-session-memory scenario's measuring process: opens backline's embedded ClickHouse
 * on an empty temp folder as the server does at start and prints one JSON line with its RSS
 * and heap after each step. A fresh process, so nothing loaded chdb before the first step.
 *
 * Run: `node --import tsx bench/chdb-session-open.ts`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from '../src/storage/migrate.js';

export interface MemoryStep {
  step: string;
  rssBytes: number;
  heapUsedBytes: number;
}

const steps: MemoryStep[] = [];
const note = (step: string) => {
  const { rss, heapUsed } = process.memoryUsage();
  steps.push({ step, rssBytes: rss, heapUsedBytes: heapUsed });
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'backline-session-memory-'));
  try {
    note('before chdb');
    // Imported here, not at the top: loading chdb's native library is a step of its own.
    const { openChdb } = await import('../src/storage/chdb-client.js');
    note('chdb loaded');
    const ch = openChdb(join(dir, 'clickhouse'));
    note('Session opened');
    await ch.query('SELECT 1 AS one');
    note('first query');
    await migrate(ch);
    note('backline schema migrated');
    await ch.close();
    console.log(JSON.stringify(steps));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

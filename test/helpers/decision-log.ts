import { join } from 'node:path';
import { pino } from 'pino';
import type { DecisionRow } from '../../src/model/decision.js';
import { createDecisionLog } from '../../src/notify/decision-log.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { createBatchWriter } from '../../src/storage/batch-writer.js';
import { openChdb } from '../../src/storage/chdb-client.js';
import { insertInto } from '../../src/storage/clickhouse.js';
import { createDecisionStore, decisionsTable } from '../../src/storage/decision-store.js';
import { migrate } from '../../src/storage/migrate.js';
import { openSpool } from '../../src/storage/spool.js';

/** The real decision log on an embedded ClickHouse in `dir`, its writer started. */
export async function openDecisionLog(dir: string, flushIntervalMs = 5) {
  const ch = openChdb(join(dir, 'ch'));
  await migrate(ch);
  const metrics = createMetrics();
  const writer = createBatchWriter<DecisionRow>(
    {
      table: decisionsTable,
      insert: insertInto<DecisionRow>(ch, decisionsTable),
      spool: openSpool(join(dir, 'spool-decisions')),
      metrics,
      log: pino({ level: 'silent' }),
    },
    { flushIntervalMs },
  );
  await writer.start();
  return {
    ch,
    decisions: createDecisionLog({ writer, store: createDecisionStore(ch), metrics }),
    async close() {
      await writer.stop();
      await ch.close();
    },
  };
}

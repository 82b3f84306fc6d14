import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../ops/logger.js';
import type { Service } from '../ops/lifecycle.js';
import { backoffMs } from '../lib/backoff.js';
import { openChdb } from './chdb-client.js';
import type { ClickHouse } from './clickhouse.js';
import { materializeProps } from './analytics/materialized-props.js';
import { applyRetention, migrate } from './migrate.js';
import { openClickHouseServer } from './server-client.js';

export interface StorageOptions {
  dataDir: string;
  clickhouseUrl: string | undefined; // unset: embedded chdb in `<dataDir>/clickhouse`
  retentionDays: number;
  /** `props.…` fields kept as columns of `events` (analytics/materialized-props.ts). */
  materializedProps?: readonly string[];
}

/**
 * Opens ClickHouse (embedded or server), applies migrations, the retention TTL and the
 * materialized props. A server
 * that is not reachable yet is retried with backoff until it is, or until `stop()`.
 */
export function createStorageService(
  options: StorageOptions,
  log: Logger,
): Service & { readonly ch: ClickHouse } {
  const ch = options.clickhouseUrl
    ? openClickHouseServer(options.clickhouseUrl)
    : openChdb(join(options.dataDir, 'clickhouse'));
  const stopping = new AbortController();
  return {
    name: 'storage',
    ch,
    async start() {
      for (let attempt = 1; ; attempt++) {
        try {
          const applied = await migrate(ch);
          await applyRetention(ch, options.retentionDays);
          await materializeProps(ch, options.materializedProps ?? []);
          log.info({ backend: ch.kind, applied }, 'storage ready');
          return;
        } catch (err) {
          if (ch.kind === 'embedded' || stopping.signal.aborted) throw err;
          const delay = backoffMs(attempt, 500, 15_000);
          log.warn({ err, retryInMs: delay }, 'ClickHouse not reachable yet');
          await sleep(delay, undefined, { signal: stopping.signal }).catch(() => undefined);
        }
      }
    },
    async stop() {
      stopping.abort();
      await ch.close();
    },
  };
}

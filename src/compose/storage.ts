import { join } from 'node:path';
import type { AuditRow } from '../model/audit-entry.js';
import type { DecisionRow } from '../model/decision.js';
import type { EventRow } from '../model/event.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { openLmdbStateStore } from '../state/lmdb-state-store.js';
import { createTimers } from '../state/timers.js';
import {
  createBatchWriter,
  type BatchWriterDeps,
  type defaultBatchOptions,
} from '../storage/batch-writer.js';
import { insertInto } from '../storage/clickhouse.js';
import { createDecisionStore, decisionsTable } from '../storage/decision-store.js';
import { auditTable, createAuditStore } from '../storage/audit-store.js';
import { createUserData } from '../storage/user-data.js';
import { createEventStore, eventsTable } from '../storage/event-store.js';
import { createRollupRoller } from '../storage/rollup-roller.js';
import { createRollupStore } from '../storage/rollup-store.js';
import { createRollupTurns } from '../storage/rollup-turns.js';
import { createSegmentQuery } from '../storage/segment-query.js';
import { openSpool } from '../storage/spool.js';
import { createStorageService } from '../storage/storage-service.js';
import { createWindowStore, windowsTable, type WindowRow } from '../storage/window-store.js';
import { clusterStorage } from './cluster-storage.js';
import type { ClusterNode } from './cluster-node.js';
import type { AppConfig } from './config.js';
import { composeSealer } from './sealer.js';

/**
 * Storage: ClickHouse (embedded or a server) with its stores and a batch writer per table,
 * and the LMDB state store with its persistent timers. A cluster node (`node`) takes its
 * ClickHouse and the shared Redis state from cluster-storage.ts instead.
 */
export function composeStorage(
  config: AppConfig,
  deps: { node: ClusterNode | undefined; metrics: Metrics; log: Logger },
) {
  const { metrics, log } = deps;
  const { dataDir, clickhouseUrl } = config;
  const { storage, state } = deps.node
    ? clusterStorage(config, deps.node, deps)
    : {
        storage: createStorageService(
          {
            dataDir,
            clickhouseUrl,
            retentionDays: config.storage.retentionDays,
            materializedProps: config.analytics.materializedProps,
          },
          log,
        ),
        state: openLmdbStateStore(join(dataDir, 'state')),
      };
  // Each table's rows are batched and made durable through a disk spool of their own.
  const writerFor = <Row>(
    table: string,
    insert: BatchWriterDeps<Row>['insert'],
    options: Partial<typeof defaultBatchOptions> = {},
  ) =>
    createBatchWriter<Row>(
      { table, insert, spool: openSpool(join(dataDir, 'spool', table)), metrics, log },
      { ...config.storage, ...options },
    );
  const events = createEventStore(storage.ch);
  const windows = createWindowStore(storage.ch);
  const sealer = composeSealer(config, deps);
  // One table's DDL and rolls take turns: a roll never lands in a table made again meanwhile.
  const rollupTurns = createRollupTurns();
  return {
    storage,
    events,
    // Single node only: a cluster node's events reach ClickHouse through the event log.
    eventWriter: writerFor<EventRow>(eventsTable, events.insert),
    windows,
    // Nobody waits on windows and decisions: larger batches, and retried in memory.
    windowWriter: writerFor<WindowRow>(windowsTable, windows.insert, {
      flushIntervalMs: 1000,
      retryUnstored: true,
    }),
    decisionWriter: writerFor<DecisionRow>(
      decisionsTable,
      insertInto<DecisionRow>(storage.ch, decisionsTable),
      { flushIntervalMs: 200, retryUnstored: true },
    ),
    decisionStore: createDecisionStore(storage.ch),
    auditWriter: writerFor<AuditRow>(auditTable, insertInto<AuditRow>(storage.ch, auditTable), {
      flushIntervalMs: 200,
      retryUnstored: true,
    }),
    auditLog: createAuditStore(storage.ch),
    userData: createUserData(storage.ch),
    segments: createSegmentQuery(storage.ch),
    rollups: createRollupStore(storage.ch, rollupTurns),
    // Single node, or the holder of the `rollups` lease (cluster-work.ts).
    roller: createRollupRoller({ ch: storage.ch, turns: rollupTurns, metrics, log }),
    state,
    stateService: { name: 'state', start: async () => undefined, stop: () => state.close() },
    sealer,
    timers: createTimers(state, log, {}, sealer),
  };
}

export type Stored = ReturnType<typeof composeStorage>;

import type { AuditRow } from '../model/audit-entry.js';
import type { ClickHouse } from './clickhouse.js';

export const auditTable = 'audit_log';

/**
 * Reads of the audit log in ClickHouse (rows are written by a batch writer into `audit_log`).
 *
 * @example
 * const audit = createAuditStore(ch);
 * await audit.between('dev', Date.now() - 86_400_000, Date.now(), 1000); // oldest first
 */
export function createAuditStore(ch: ClickHouse) {
  return {
    /** A project's entries with `ts` in [from, to), oldest first, at most `limit`. */
    async between(project: string, fromMs: number, toMs: number, limit: number) {
      const rows = await ch.query<Record<string, unknown>>(
        `SELECT toString(toUnixTimestamp64Milli(ts)) AS ts_ms, actor, action, target, status,
                before_hash, after_hash, request_id
         FROM audit_log
         WHERE project = {project:String}
           AND ts >= fromUnixTimestamp64Milli({from:Int64}) AND ts < fromUnixTimestamp64Milli({to:Int64})
         ORDER BY ts, request_id LIMIT {limit:UInt32}`,
        { project, from: fromMs, to: toMs, limit },
      );
      return rows.map((row): AuditRow => ({
        ts: Number(row.ts_ms),
        project,
        actor: row.actor as string,
        action: row.action as string,
        target: row.target as string,
        status: Number(row.status),
        before_hash: row.before_hash as string,
        after_hash: row.after_hash as string,
        request_id: row.request_id as string,
      }));
    },
  };
}

export type AuditStore = ReturnType<typeof createAuditStore>;

import { createHash, randomUUID } from 'node:crypto';
import type { AuditRow } from '../model/audit-entry.js';
import type { Metrics } from '../ops/metrics.js';

/** JSON with object keys sorted at every level: the same definition always hashes the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (!inner || typeof inner !== 'object' || Array.isArray(inner)) return inner;
    const sorted: Record<string, unknown> = {};
    for (const name of Object.keys(inner).sort())
      sorted[name] = (inner as Record<string, unknown>)[name];
    return sorted;
  });
}

/** SHA-256 (hex) of a definition's canonical JSON; '' for none. */
export const definitionHash = (value: unknown): string =>
  value === undefined || value === null
    ? ''
    : createHash('sha256').update(canonicalJson(value)).digest('hex');

/** What a handler tells the audit of its request: the target and the definition around it. */
export interface AuditNote {
  /** Names what was acted on, when the route's own `:param` is not the right name. */
  target?: string;
  /** The definition before the request (undefined: there was none). */
  before?: unknown;
  /** The definition after it (undefined: none, e.g. deleted). */
  after?: unknown;
  /** Audit this request even though its route is not an admin write (an export). */
  always?: boolean;
}

/** Everything the HTTP layer knows of an audited request once it is answered. */
export interface AuditedRequest {
  project: string;
  actor: string;
  action: string;
  target: string;
  status: number;
  requestId: string;
  note: AuditNote;
}

/** Where audit rows go: a batch writer into `audit_log`. */
export interface AuditSink {
  enqueue(rows: readonly AuditRow[]): void;
}

/** A request id from the client's `X-Request-Id` (printable, at most 128) or a new one. */
export const requestIdOf = (header: string): string =>
  /^[\x21-\x7e]{1,128}$/.test(header) ? header : randomUUID();

/**
 * The audit trail: one row per audited request, hashed and written in batches to
 * `audit_log`, counted in `backline_audit_entries_total`.
 *
 * @example
 * const audit = createAuditTrail({ writer: auditWriter, metrics });
 * audit.record({ project: 'dev', actor: 'key:Ab12', action: 'PUT /v1/rules/:name', target: 'welcome', status: 200, requestId, note });
 */
export function createAuditTrail(deps: { writer: AuditSink; metrics: Metrics }, now = Date.now) {
  return {
    record(request: AuditedRequest): void {
      deps.metrics.auditEntries.inc();
      deps.writer.enqueue([
        {
          ts: now(),
          project: request.project,
          actor: request.actor,
          action: request.action,
          target: request.note.target ?? request.target,
          status: request.status,
          before_hash: definitionHash(request.note.before),
          after_hash: definitionHash(request.note.after),
          request_id: request.requestId,
        },
      ]);
    },
  };
}

export type AuditTrail = ReturnType<typeof createAuditTrail>;

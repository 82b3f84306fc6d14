import { createAuditTrail } from '../privacy/audit-trail.js';
import { createUserErasure } from '../privacy/user-erasure.js';
import { openUserExport } from '../privacy/user-export.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { StreamCatalog } from '../pipeline/stream-catalog.js';
import { rollupTable } from '../storage/rollup-sql.js';
import type { AppConfig } from './config.js';
import type { Notify } from './notify.js';
import type { Stored } from './storage.js';

/**
 * Privacy: the audit trail every admin route writes through, and the GDPR erase (a service:
 * it resumes journalled erases at start) and export of one user, over the stores where the
 * user's data lives.
 */
export function composePrivacy(
  config: AppConfig,
  deps: {
    stored: Stored;
    notify: Notify;
    catalog: StreamCatalog;
    metrics: Metrics;
    log: Logger;
  },
) {
  const { stored, notify, metrics, log } = deps;
  const owners = {
    state: stored.state,
    preferences: notify.preferences,
    push: notify.push.subscriptions,
    suppressions: notify.email.suppressions,
  };
  const erasure = createUserErasure(
    {
      state: stored.state,
      data: stored.userData,
      userState: owners,
      writers: {
        events: stored.eventWriter,
        decisions: stored.decisionWriter,
        windows: stored.windowWriter,
      },
      rollupTables: (project) =>
        deps.catalog.list(project).map((spec) => rollupTable(project, spec)),
      metrics,
      log,
    },
    {
      flushTimeoutMs: config.privacy.eraseFlushTimeoutMs,
      stepPauseMs: config.privacy.eraseStepPauseMs,
    },
  );
  return {
    audit: createAuditTrail({ writer: stored.auditWriter, metrics }),
    auditLog: stored.auditLog,
    erasure,
    exportUser: (project: string, userId: string) =>
      openUserExport({ ...owners, data: stored.userData }, project, userId),
  };
}

export type Privacy = ReturnType<typeof composePrivacy>;

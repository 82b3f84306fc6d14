import { createDedupWindow } from '../ingest/dedup-window.js';
import { createIngest } from '../ingest/ingest-service.js';
import { createLocalAcceptance } from '../ingest/local-acceptance.js';
import { warmDedup } from '../ingest/warm-dedup.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { AppConfig } from './config.js';
import type { Stored } from './storage.js';

/** Ingest: accepted events go to the events writer, de-duplicated over a window of ids. */
export function composeIngest(
  config: AppConfig,
  deps: { stored: Stored; metrics: Metrics; log: Logger },
) {
  const { stored, metrics, log } = deps;
  const window = { windowMs: config.storage.dedupWindowMs, maxIds: config.storage.dedupMaxIds };
  const dedup = createDedupWindow(window);
  const ingest = createIngest({
    acceptance: createLocalAcceptance({ writer: stored.eventWriter, dedup }),
    metrics,
    limits: config.limits,
  });
  const dedupWarmUp = {
    name: 'dedup-warm-up',
    start: async () => {
      const ids = await warmDedup(dedup, stored.events, window);
      log.info({ ids }, 'de-duplication window restored');
    },
    stop: async () => undefined,
  };
  return { ingest, dedupWarmUp };
}

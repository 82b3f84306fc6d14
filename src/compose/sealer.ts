import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { parseKeyRing } from '../state/key-ring.js';
import { createSealer } from '../state/sealer.js';
import type { AppConfig } from './config.js';

/**
 * The sealer of personal data in the state store (email addresses, push subscriptions,
 * timer payloads, digest variables), counted in /metrics. Without a key: a warning at start,
 * and data stored as it is.
 */
export function composeSealer(config: AppConfig, deps: { metrics: Metrics; log: Logger }) {
  const { metrics, log } = deps;
  const keys = parseKeyRing(config.encryption);
  if (keys.length === 0)
    log.warn(
      'BACKLINE_ENCRYPTION_KEY is not set: email addresses, push subscriptions and timer ' +
        'payloads are stored unencrypted',
    );
  else log.info({ sealsWith: keys[0]!.id, opens: keys.map((k) => k.id) }, 'encryption at rest');
  return createSealer(keys, {
    unsealFailed: (reason) => metrics.unsealFailures.inc({ reason }),
    resealed: () => metrics.resealed.inc(),
  });
}

import type { NotificationIntent } from '../notify/notification.js';
import type { Metrics } from '../ops/metrics.js';
import type { AudienceResolver } from './audience.js';
import type { Fire } from './firing.js';
import { toIntent } from './intent.js';

/** Hands one user's intent to the notification router, which decides the rest. */
export type Route = (intent: NotificationIntent) => void | Promise<unknown>;

/** A failure `fire` has already counted and logged, so its callers do not count it again. */
export class CountedFailure extends Error {}

/**
 * Turns a firing into one routed intent per audience user. Preferences, quiet hours, caps,
 * de-duplication and digests are the router's: a rule only says what and to whom. A user
 * whose routing fails does not stop the others; the firing then throws, so a timer retries
 * it, and the default dedup key (`<rule>/<firing id>`) makes the repeats harmless.
 *
 * @example
 * const fire = createFire({ audience, route: router.route, metrics, fail });
 * await fire({ project: 'dev', rule, id: event.id, userId: event.userId, context });
 */
export function createFire(deps: {
  audience: AudienceResolver;
  route: Route;
  metrics?: Metrics;
  fail: (reason: string, err: unknown, detail: object) => void;
}): Fire {
  const { audience, route, metrics, fail } = deps;
  return async (firing) => {
    const trigger = firing.rule.trigger.kind;
    const detail = { project: firing.project, rule: firing.rule.name, firing: firing.id };
    metrics?.ruleFirings.inc({ trigger });
    let failed = 0;
    try {
      for await (const userId of audience.users(firing)) {
        try {
          await route(toIntent(firing, userId));
          metrics?.ruleIntents.inc({ trigger });
        } catch (err) {
          failed += 1;
          fail('route', err, { ...detail, userId });
        }
      }
    } catch (err) {
      fail('audience', err, detail);
      throw new CountedFailure('audience failed', { cause: err });
    }
    if (failed > 0) throw new CountedFailure(`routing failed for ${failed} users`);
  };
}

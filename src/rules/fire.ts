import type { NotificationIntent } from '../notify/notification.js';
import type { Metrics } from '../ops/metrics.js';
import type { AudienceResolver } from './audience.js';
import type { Fire, Firing } from './firing.js';
import { toIntent } from './intent.js';

/** Hands one user's intent to the notification router, which decides the rest. */
export type Route = (intent: NotificationIntent) => void | Promise<unknown>;

/** Starts one user's run of a rule's workflow (rules/workflows/workflow-runner.ts). */
export type StartRun = (firing: Firing, userId: string) => Promise<unknown>;

/** Users of one firing routed at once, at most. */
const routeGroupSize = 100;

/** A failure `fire` has already counted and logged, so its callers do not count it again. */
export class CountedFailure extends Error {}

/**
 * Turns a firing into one routed intent per audience user (a rule with a workflow: one run
 * per user). Preferences, quiet hours, caps, de-duplication and digests are the router's: a
 * rule only says what and to whom. A user whose routing fails does not stop the others; the
 * firing then throws, so a timer retries it, and the default dedup key (`<rule>/<firing
 * id>`) makes the repeats harmless.
 *
 * @example
 * const fire = createFire({ audience, route: router.route, metrics, fail });
 * await fire({ project: 'dev', rule, id: event.id, userId: event.userId, context });
 */
export function createFire(deps: {
  audience: AudienceResolver;
  route: Route;
  /** Starts a workflow's run for one user (rules with `notification.steps`). */
  startRun?: StartRun;
  metrics?: Metrics;
  fail: (reason: string, err: unknown, detail: object) => void;
}): Fire {
  const { audience, route, metrics, fail } = deps;
  const startRun: StartRun =
    deps.startRun ?? (() => Promise.reject(new Error('no workflow runner is wired')));
  return async (firing) => {
    const deliver = firing.rule.notification.steps
      ? (userId: string) => startRun(firing, userId)
      : (userId: string) => route(toIntent(firing, userId));
    const trigger = firing.rule.trigger.kind;
    const detail = { project: firing.project, rule: firing.rule.name, firing: firing.id };
    metrics?.ruleFirings.inc({ trigger });
    let failed = 0;
    const routeAll = async (users: string[]) => {
      const outcomes = await Promise.allSettled(users.map(async (userId) => deliver(userId)));
      outcomes.forEach((outcome, i) => {
        if (outcome.status === 'fulfilled') return void metrics?.ruleIntents.inc({ trigger });
        failed += 1;
        fail('route', outcome.reason, { ...detail, userId: users[i] });
      });
    };
    try {
      // Users in groups routed at once: their state writes share commits (group commit), where
      // one by one a large audience paid a commit round per user.
      // A user listed twice in one group is routed once: the router drops the repeat anyway.
      const users = new Set<string>();
      for await (const userId of audience.users(firing)) {
        users.add(userId);
        if (users.size < routeGroupSize) continue;
        await routeAll([...users]);
        users.clear();
      }
      await routeAll([...users]);
    } catch (err) {
      fail('audience', err, detail);
      throw new CountedFailure('audience failed', { cause: err });
    }
    if (failed > 0) throw new CountedFailure(`routing failed for ${failed} users`);
  };
}

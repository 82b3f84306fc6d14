import { compileSource } from '../../pipeline/predicate.js';
import type { StreamEvent } from '../../model/event.js';
import type { StateStore } from '../../state/state-store.js';
import type { Timers } from '../../state/timers.js';
import { eventContext, ruleStateKey, type Fire } from '../firing.js';
import type { RuleSpec, TriggerOf } from '../rule-spec.js';
import type { CompiledTrigger, RuleLookup } from './trigger.js';

export const absenceTimerKind = 'rule.absence';

/** An A still waiting for its B; deleting it is what marks the A satisfied. */
interface Pending {
  ts: number;
  dueAt: number;
  timerId: string;
}

interface AbsencePayload {
  project: string;
  rule: string;
  event: StreamEvent;
}

/**
 * "A not followed by B for the same user within T". Each A leaves a pending mark and a
 * persistent timer at `A.ts + withinMs`; a B for that user with a time inside the span
 * deletes the mark (and cancels the timer). The timer fires the rule only if the mark is
 * still there, so a B that lands while the timer is being checked wins or loses cleanly,
 * and a server that was down past the deadline fires once after restart.
 *
 * @example
 * const absence = createAbsenceTrigger({ state, timers, fire, ruleOf });
 * absence.compile(rule, rule.trigger).onEvent('dev', signup)?.run();
 */
export function createAbsenceTrigger(deps: {
  state: StateStore;
  timers: Timers;
  fire: Fire;
  ruleOf: RuleLookup;
}) {
  const { state, timers, fire, ruleOf } = deps;
  const pendingKey = (project: string, rule: string, event: StreamEvent) =>
    ruleStateKey(project, rule, 'absence', event.userId, event.id);

  timers.on(absenceTimerKind, async (timer) => {
    const { project, rule: name, event } = timer.payload as AbsencePayload;
    const rule = ruleOf(project, name);
    // A removed or re-kinded rule has nothing to fire; its state went with it.
    if (rule?.trigger.kind !== 'absence') return;
    const key = pendingKey(project, name, event);
    if ((await state.get<Pending>(key)) === undefined) return;
    await fire({ project, rule, id: event.id, userId: event.userId, context: eventContext(event) });
    await state.del(key);
  });

  async function satisfy(project: string, rule: string, then: StreamEvent): Promise<void> {
    const prefix = `${ruleStateKey(project, rule, 'absence', then.userId)}/`;
    for (const [key, pending] of await state.list<Pending>(prefix)) {
      if (then.ts < pending.ts || then.ts > pending.dueAt) continue;
      await state.del(key);
      await timers.cancel(pending.dueAt, pending.timerId);
    }
  }

  async function wait(project: string, rule: string, withinMs: number, first: StreamEvent) {
    const dueAt = first.ts + withinMs;
    // Derived from the event, so processing the same A twice is one timer.
    const timerId = `absence/${encodeURIComponent(project)}/${rule}/${encodeURIComponent(first.id)}`;
    const pending: Pending = { ts: first.ts, dueAt, timerId };
    await state.put(pendingKey(project, rule, first), pending);
    const payload: AbsencePayload = { project, rule, event: first };
    await timers.schedule(absenceTimerKind, dueAt, payload, timerId);
  }

  return {
    compile(rule: RuleSpec, trigger: TriggerOf<'absence'>): CompiledTrigger {
      const isFirst = compileSource(trigger.first);
      const isThen = compileSource(trigger.then);
      return {
        sources: [trigger.first, trigger.then],
        onEvent(project, event) {
          if (!event.userId) return undefined; // "the same user" needs a user
          const first = isFirst(event);
          const then = isThen(event);
          if (!first && !then) return undefined;
          return {
            // One key per rule and user: an A and its B in one batch are handled in order.
            key: ruleStateKey(project, rule.name, 'absence', event.userId),
            async run() {
              // An event that is both a B and an A closes the earlier span, then opens its own.
              if (then) await satisfy(project, rule.name, event);
              if (first) await wait(project, rule.name, trigger.withinMs, event);
            },
          };
        },
      };
    },
  };
}

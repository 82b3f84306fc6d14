import { compileSource } from '../../pipeline/predicate.js';
import { eventContext, type Fire } from '../firing.js';
import type { RuleSpec, TriggerOf } from '../rule-spec.js';
import type { CompiledTrigger } from './trigger.js';

/**
 * Fires once per event of the listed types whose fields pass `where`, with the same
 * predicate the metric streams use.
 *
 * @example
 * const trigger = createEventTrigger({ fire }).compile(rule, rule.trigger);
 * const task = trigger.onEvent('dev', event); // undefined when the event does not match
 */
export function createEventTrigger(deps: { fire: Fire }) {
  return {
    compile(rule: RuleSpec, trigger: TriggerOf<'event'>): CompiledTrigger {
      const matches = compileSource({ types: trigger.types, where: trigger.where });
      return {
        sources: [{ types: trigger.types, where: trigger.where }],
        onEvent(project, event) {
          if (!matches(event)) return undefined;
          return {
            // Events are independent firings: a key of their own lets them run together.
            key: `event/${rule.name}/${event.id}`,
            run: () =>
              deps.fire({
                project,
                rule,
                id: event.id,
                userId: event.userId,
                context: eventContext(event),
              }),
          };
        },
      };
    },
  };
}

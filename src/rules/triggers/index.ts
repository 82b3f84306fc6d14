import type { StreamEvent } from '../../model/event.js';
import type { StateStore } from '../../state/state-store.js';
import type { Timers } from '../../state/timers.js';
import type { Fire } from '../firing.js';
import type { RuleSpec } from '../rule-spec.js';
import { createAbsenceTrigger } from './absence-trigger.js';
import { createEventTrigger } from './event-trigger.js';
import { createScheduleTrigger } from './schedule-trigger.js';
import { createThresholdTrigger } from './threshold-trigger.js';
import type { CompiledTrigger, RuleLookup } from './trigger.js';

/**
 * Every trigger kind behind one `compile`, a small switch on `trigger.kind`. Creating them
 * registers the absence and schedule timer handlers.
 *
 * @example
 * const triggers = createTriggers({ state, timers, fire, ruleOf, onBadTime });
 * const compiled = triggers.compile(spec);
 */
export function createTriggers(deps: {
  state: StateStore;
  timers: Timers;
  fire: Fire;
  ruleOf: RuleLookup;
  onBadTime: (project: string, rule: string, event: StreamEvent) => void;
}) {
  const event = createEventTrigger(deps);
  const threshold = createThresholdTrigger(deps);
  const absence = createAbsenceTrigger(deps);
  const schedule = createScheduleTrigger(deps);
  return {
    compile(spec: RuleSpec): CompiledTrigger {
      const { trigger } = spec;
      switch (trigger.kind) {
        case 'event':
          return event.compile(spec, trigger);
        case 'threshold':
          return threshold.compile(spec, trigger);
        case 'absence':
          return absence.compile(spec, trigger);
        case 'schedule':
          return schedule.compile(spec, trigger);
      }
    },
  };
}

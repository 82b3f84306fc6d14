import { readField } from '../../pipeline/field-path.js';
import { compileSource } from '../../pipeline/predicate.js';
import type { StreamEvent } from '../../model/event.js';
import type { Timers } from '../../state/timers.js';
import { eventContext, type Fire, type Firing } from '../firing.js';
import type { RuleSpec, TriggerOf } from '../rule-spec.js';
import type { CompiledTrigger, RuleLookup } from './trigger.js';

export const scheduleTimerKind = 'rule.schedule';

interface SchedulePayload {
  project: string;
  rule: string;
  event: StreamEvent;
}

/** Epoch ms from a number, a string of digits or an ISO-8601 string. */
export function timeOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Fires at a time read from the event plus `offsetMs` (1 h before `props.startsAt` is
 * `offsetMs: -3600000`), through persistent timers, so a time that passes while the server
 * is down fires once after restart. The timer id comes from the rule and the event id:
 * processing the event again schedules the same timer. A time already past fires at once.
 *
 * @example
 * const schedule = createScheduleTrigger({ timers, fire, ruleOf, onBadTime });
 * schedule.compile(rule, rule.trigger).onEvent('dev', showScheduled)?.run();
 */
export function createScheduleTrigger(deps: {
  timers: Timers;
  fire: Fire;
  ruleOf: RuleLookup;
  /** The event matched but its time field is missing or not a time. */
  onBadTime: (project: string, rule: string, event: StreamEvent) => void;
  now?: () => number;
}) {
  const { timers, fire, ruleOf, onBadTime } = deps;
  const now = deps.now ?? Date.now;
  const firing = (project: string, rule: RuleSpec, event: StreamEvent): Firing => ({
    project,
    rule,
    id: event.id,
    userId: event.userId,
    context: eventContext(event),
  });

  timers.on(scheduleTimerKind, async (timer) => {
    const { project, rule: name, event } = timer.payload as SchedulePayload;
    const rule = ruleOf(project, name);
    if (rule?.trigger.kind !== 'schedule') return; // removed since: nothing to fire
    await fire(firing(project, rule, event));
  });

  return {
    compile(rule: RuleSpec, trigger: TriggerOf<'schedule'>): CompiledTrigger {
      const matches = compileSource(trigger);
      const readAt = readField(trigger.at.field);
      return {
        sources: [{ types: trigger.types, where: trigger.where }],
        onEvent(project, event) {
          if (!matches(event)) return undefined;
          const at = timeOf(readAt(event));
          if (at === undefined) {
            onBadTime(project, rule.name, event);
            return undefined;
          }
          const dueAt = at + trigger.at.offsetMs;
          return {
            key: `schedule/${rule.name}/${event.id}`,
            async run() {
              if (dueAt <= now()) return fire(firing(project, rule, event));
              const payload: SchedulePayload = { project, rule: rule.name, event };
              const id = `schedule/${encodeURIComponent(project)}/${rule.name}/${encodeURIComponent(event.id)}`;
              await timers.schedule(scheduleTimerKind, dueAt, payload, id);
            },
          };
        },
      };
    },
  };
}

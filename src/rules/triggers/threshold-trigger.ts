import type { StateStore } from '../../state/state-store.js';
import { ruleStateKey, windowContext, type Fire } from '../firing.js';
import type { RuleSpec, TriggerOf } from '../rule-spec.js';
import type { CompiledTrigger } from './trigger.js';

type Bounds = Pick<TriggerOf<'threshold'>, 'above' | 'below' | 'hysteresis'>;

/** Per rule and group key: whether a crossing may fire, and the newest window seen. */
interface Watch {
  armed: boolean;
  start: number;
}

/**
 * One step of the hysteresis: an armed watch fires when the value reaches the bound and
 * disarms; it re-arms only once the value is back past the bound by `hysteresis`. With
 * `above: 1000, hysteresis: 10`, 990 → 1001 (fires) → 995 → 985 (re-arms) → 1002 (fires).
 */
export function crossing(
  armed: boolean,
  value: number,
  { above, below, hysteresis }: Bounds,
): { armed: boolean; fired: boolean } {
  if (above !== undefined) {
    if (armed) return value >= above ? { armed: false, fired: true } : { armed, fired: false };
    return { armed: value < above - hysteresis, fired: false };
  }
  const bound = below!;
  if (armed) return value <= bound ? { armed: false, fired: true } : { armed, fired: false };
  return { armed: value > bound + hysteresis, fired: false };
}

/** The watch after a window starting at `start`, and whether it fires; an older window changes nothing. */
function advance(current: Watch | undefined, start: number, value: number, bounds: Bounds) {
  const watch = current ?? { armed: true, start: 0 };
  if (start < watch.start) return { next: current, fired: false };
  const step = crossing(watch.armed, value, bounds);
  const changed = step.armed !== watch.armed || start !== watch.start;
  return { next: changed ? { armed: step.armed, start } : current, fired: step.fired };
}

/** `votes`, or `load.p95` for one level of a quantiles aggregate; numbers only. */
export function watchedValue(values: Record<string, unknown>, name: string): number | undefined {
  let value = values[name];
  const dot = name.indexOf('.');
  if (value === undefined && dot > 0) {
    const nested = values[name.slice(0, dot)];
    if (typeof nested === 'object' && nested !== null)
      value = (nested as Record<string, unknown>)[name.slice(dot + 1)];
  }
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * Watches a metric stream's windows and fires when a value crosses its bound. The watch is
 * kept in the StateStore and written before firing, so a restart (which replays the open
 * windows) does not fire a crossing again. Only the newest window of a key counts: a late
 * re-emit of an older window must not re-arm the watch and flap.
 *
 * @example
 * const trigger = createThresholdTrigger({ state, fire }).compile(rule, rule.trigger);
 * trigger.onWindow('dev', window)?.run();
 */
export function createThresholdTrigger(deps: { state: StateStore; fire: Fire }) {
  const { state, fire } = deps;
  return {
    compile(rule: RuleSpec, trigger: TriggerOf<'threshold'>): CompiledTrigger {
      return {
        onWindow(project, window) {
          if (window.stream !== trigger.stream) return undefined;
          if (trigger.key !== undefined && window.key !== trigger.key) return undefined;
          const value = watchedValue(window.values, trigger.value);
          if (value === undefined) return undefined;
          const stateKey = ruleStateKey(
            project,
            rule.name,
            'threshold',
            trigger.stream,
            window.key,
          );
          return {
            key: stateKey,
            async run() {
              let fired = false;
              // Atomic: a window handled on two nodes at once fires its crossing once.
              await state.update<Watch>(stateKey, (current) => {
                const step = advance(current, window.start, value, trigger);
                fired = step.fired;
                return step.next;
              });
              if (!fired) return;
              await fire({
                project,
                rule,
                id: `${trigger.stream}/${window.key}/${window.start}/${window.rev}`,
                userId: '',
                context: windowContext(window, value, trigger.above ?? trigger.below!),
              });
            },
          };
        },
      };
    },
  };
}

import { readField, type FieldReader } from '../pipeline/field-path.js';
import { compileSource, type Predicate } from '../pipeline/predicate.js';
import type { StreamEvent } from '../model/event.js';
import type { KeyedTask } from './keyed-tasks.js';
import type { CompiledTrigger, EventSource } from './triggers/trigger.js';

interface Entry {
  /** Definition order: an event's tasks are handed on in it. */
  ordinal: number;
  trigger: CompiledTrigger;
}

/**
 * The rules one event type may fire: rules with the same conditions share one check (read
 * once per event), rules with an `eq`/`in` condition are looked up by that field's value.
 */
interface Plan {
  shared: Array<{ check: Predicate; entries: Entry[] }>;
  guards: Array<{ read: FieldReader; byValue: Map<unknown, Entry[]> }>;
}

/**
 * A project's event rules indexed by what an event must have for them to fire, built once
 * per rule change instead of every rule reading every event: by event type; then a rule
 * whose `where` has an `eq` or `in` condition by that field's value (one map lookup for all
 * the rules on one field), and rules with the same conditions behind one check of them.
 * Each candidate still runs its whole trigger, so the index only skips rules that could
 * not fire. An event's tasks keep definition order.
 *
 * @example
 * const index = createRuleIndex([compiledA, compiledB]);
 * const tasks = index.tasks('dev', events);
 */
export function createRuleIndex(triggers: readonly CompiledTrigger[]) {
  const entries = triggers
    .map((trigger, ordinal) => ({ ordinal, trigger }))
    .filter((entry) => entry.trigger.onEvent !== undefined);
  const types = new Set(entries.flatMap((e) => [...(typesOf(e.trigger) ?? [])]));
  const plans = new Map([...types].map((type) => [type, planOf(entries, type)]));
  const otherTypes = planOf(entries, undefined);

  return {
    /** Whether any rule reads events at all (none: ingest batches cost nothing here). */
    empty: entries.length === 0,
    /** Every task the events ask of the rules: event by event, rules in definition order. */
    tasks(project: string, events: readonly StreamEvent[]): KeyedTask[] {
      const tasks: KeyedTask[] = [];
      for (const event of events) {
        const candidates = candidatesOf(plans.get(event.type) ?? otherTypes, event);
        for (const entry of candidates) {
          const task = entry.trigger.onEvent!(project, event);
          if (task) tasks.push(task);
        }
      }
      return tasks;
    },
  };
}

/** The rules that may fire on `event`, in definition order (each still checks all it needs). */
function candidatesOf(plan: Plan, event: StreamEvent): readonly Entry[] {
  let found: Entry[] | undefined;
  let sets = 0;
  for (const { check, entries } of plan.shared) {
    if (!check(event)) continue;
    found = found ? found.concat(entries) : entries;
    sets += 1;
  }
  for (const { read, byValue } of plan.guards) {
    const entries = byValue.get(read(event));
    if (!entries) continue;
    found = found ? found.concat(entries) : entries;
    sets += 1;
  }
  if (!found) return [];
  return sets > 1 ? [...found].sort((a, b) => a.ordinal - b.ordinal) : found;
}

/** Event types the trigger may fire on; undefined for every type. */
function typesOf(trigger: CompiledTrigger): Set<string> | undefined {
  const sources = trigger.sources;
  if (!sources || sources.some((s) => s.types === undefined)) return undefined;
  return new Set(sources.flatMap((s) => s.types!));
}

/** The entries that may fire on `type` (undefined: a type no rule names). */
function planOf(entries: readonly Entry[], type: string | undefined): Plan {
  const plan: Plan = { shared: [], guards: [] };
  const shared = new Map<string, Plan['shared'][number]>();
  const guards = new Map<string, Plan['guards'][number]>();
  for (const entry of entries) {
    const types = typesOf(entry.trigger);
    if (types && (type === undefined || !types.has(type))) continue;
    const { sources } = entry.trigger;
    const guard = guardOf(sources);
    if (guard) {
      let byField = guards.get(guard.field);
      if (!byField) {
        byField = { read: readField(guard.field), byValue: new Map() };
        guards.set(guard.field, byField);
        plan.guards.push(byField);
      }
      for (const value of new Set(guard.values))
        byField.byValue.set(value, [...(byField.byValue.get(value) ?? []), entry]);
      continue;
    }
    // One source: checked here by its conditions (the plan has the type). Else every event.
    const where = sources?.length === 1 ? sources[0]!.where : [];
    const signature = JSON.stringify(where);
    let group = shared.get(signature);
    if (!group) {
      group = { check: compileSource({ where: [...where] }), entries: [] };
      shared.set(signature, group);
      plan.shared.push(group);
    }
    group.entries.push(entry);
  }
  return plan;
}

/** A field whose value must be one of `values` for the trigger to fire (one source only). */
function guardOf(sources: readonly EventSource[] | undefined) {
  if (sources?.length !== 1) return undefined;
  for (const { field, op, value } of sources[0]!.where) {
    if (op === 'eq') return { field, values: [value] };
    if (op === 'in') return { field, values: Array.isArray(value) ? value : [value] };
  }
  return undefined;
}

export type RuleIndex = ReturnType<typeof createRuleIndex>;

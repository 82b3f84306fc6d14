import type { StreamEvent } from '../../model/event.js';
import type { WindowResult } from '../../model/window-result.js';
import type { Condition } from '../../pipeline/stream-spec.js';
import type { KeyedTask } from '../keyed-tasks.js';
import type { RuleSpec } from '../rule-spec.js';

/**
 * A rule's trigger compiled once when the rule is defined: what one event or window result
 * asks of it, as a keyed task (or nothing when it does not match).
 */
export interface CompiledTrigger {
  onEvent?(project: string, event: StreamEvent): KeyedTask | undefined;
  /**
   * What an event must pass (any one of these) for `onEvent` to do anything, so the rule
   * index (rule-index.ts) can skip the rule for other events. Absent: every event is read.
   */
  sources?: readonly EventSource[];
  onWindow?(project: string, window: WindowResult): KeyedTask | undefined;
}

/** Timer handlers look the rule up when they fire: it may have been replaced or removed. */
export type RuleLookup = (project: string, name: string) => RuleSpec | undefined;

/** Event types (absent: any) and `where` conditions, all of which must hold. */
export interface EventSource {
  types?: readonly string[] | undefined;
  where: readonly Condition[];
}

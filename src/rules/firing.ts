import type { StreamEvent } from '../model/event.js';
import type { WindowResult } from '../model/window-result.js';
import type { Context } from './render.js';
import type { RuleSpec } from './rule-spec.js';

/** One time a rule's trigger fired: what audience resolution and rendering start from. */
export interface Firing {
  project: string;
  rule: RuleSpec;
  /** Unique per firing of the rule: the default de-duplication key is `<rule>/<id>`. */
  id: string;
  /** The triggering event's user, for the `user` audience ('' when none). */
  userId: string;
  /** What templates and audience fields read: event fields, or a window's values and key. */
  context: Context;
}

/** What fires a rule and does the work: audience resolution and routing. */
export type Fire = (firing: Firing) => Promise<void>;

/**
 * An event's fields at the top level (`props.showId`, `type`, `ts`) and again under `event`,
 * because rendering sets `userId` to the recipient: `{{event.userId}}` is who acted.
 */
export function eventContext(event: StreamEvent): Context {
  const fields = {
    id: event.id,
    type: event.type,
    ts: event.ts,
    userId: event.userId,
    anonymousId: event.anonymousId,
    sessionId: event.sessionId,
    props: event.props,
  };
  return { ...fields, event: fields };
}

/** A window result and the value a threshold watched, with the bound it crossed. */
export function windowContext(window: WindowResult, value: number, bound: number): Context {
  const { stream, key, start, end, values, final, rev } = window;
  return { stream, key, start, end, values, final, rev, value, bound };
}

/**
 * State keys owned by one rule live under `rule/<project>/<name>/`, so removing a rule
 * clears its state with one prefix listing. Parts are URI-encoded: keys and user ids are
 * client text and may hold `/`.
 */
export const ruleStatePrefix = (project: string, rule: string): string =>
  `rule/${encodeURIComponent(project)}/${rule}/`;

export const ruleStateKey = (project: string, rule: string, ...parts: string[]): string =>
  ruleStatePrefix(project, rule) + parts.map(encodeURIComponent).join('/');

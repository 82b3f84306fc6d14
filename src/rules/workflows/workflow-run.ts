import type { ChannelName } from '../../notify/notification.js';
import type { Context } from '../render.js';
import type { RuleSpec } from '../rule-spec.js';
import { ruleStateKey, ruleStatePrefix } from '../firing.js';
import type { EngagementState, WorkflowStep } from './workflow-spec.js';

/**
 * Where a run is: indices into the step lists, through the arms of branches
 * (`[2, 'then', 0]`: the first step of the `then` of the third step).
 */
export type Cursor = Array<number | 'then' | 'else'>;

/** One workflow run: one firing of a rule for one user, from its first step to its end. */
export interface WorkflowRun {
  project: string;
  rule: string;
  firing: string;
  userId: string;
  /** The rule's notification as the run began: a rule changed meanwhile does not move it. */
  notification: RuleSpec['notification'];
  /** The firing's context (sealed at rest: events' props are users' data). */
  context: Context;
  /** Variables steps added for later templates (`digest`), sealed like the context. */
  vars: Record<string, unknown>;
  cursor: Cursor;
  /** Bumped by every step's write: a writer that read an older one lost a race and retries. */
  rev: number;
  status: 'running' | 'waiting' | 'done';
  /** What the run sent, in order: notification ids and the channels each was sent through. */
  sent: Array<{ id: string; channels: ChannelName[] }>;
  /** Engagement the providers and apps reported per sent notification (events). */
  engaged: Record<string, EngagementState>;
  startedAt: number;
}

/** `rule/<project>/<rule>/run/<user>/<firing>`: erased with the user, removed with the rule. */
export const runKey = (project: string, rule: string, userId: string, firing: string): string =>
  ruleStateKey(project, rule, 'run', userId, firing);

/** Every run of one user under one rule. */
export const userRunsPrefix = (project: string, rule: string, userId: string): string =>
  `${ruleStatePrefix(project, rule)}run/${encodeURIComponent(userId)}/`;

/** The run's id in the decision log and in its sends' de-duplication keys. */
export const runId = (run: Pick<WorkflowRun, 'rule' | 'firing'>): string =>
  `${run.rule}/${run.firing}`;

/** A cursor as text (`2.then.0`): in timer ids, de-duplication keys and decision reasons. */
export const cursorText = (cursor: Cursor): string => cursor.join('.');

/** The step a cursor points at, or undefined past the end of its list. */
export function stepAt(steps: readonly WorkflowStep[], cursor: Cursor): WorkflowStep | undefined {
  let list: readonly WorkflowStep[] = steps;
  for (let i = 0; i < cursor.length - 1; i += 2) {
    const branch = list[cursor[i] as number];
    if (branch?.kind !== 'branch') return undefined;
    list = branch[cursor[i + 1] as 'then' | 'else'];
  }
  return list[cursor.at(-1) as number];
}

/** The step after the one at `cursor`: the next of its list, else the step after its branch. */
export function nextCursor(steps: readonly WorkflowStep[], cursor: Cursor): Cursor | undefined {
  let at = [...cursor];
  for (;;) {
    at[at.length - 1] = (at.at(-1) as number) + 1;
    if (stepAt(steps, at) !== undefined) return at;
    if (at.length === 1) return undefined;
    at = at.slice(0, -2);
  }
}

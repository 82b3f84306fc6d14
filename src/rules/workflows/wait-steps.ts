import type { StepResult } from './step-result.js';
import type { WorkflowRun } from './workflow-run.js';
import { engagementStates, type EngagementState, type StepOf } from './workflow-spec.js';

/** A notification's inbox item as far as engagement goes (notify/inbox.ts). */
export type InboxRead = (
  project: string,
  userId: string,
  id: string,
) => Promise<{ seen: boolean; read: boolean } | undefined>;

const rank = (state: EngagementState | undefined): number =>
  state === undefined ? -1 : engagementStates.indexOf(state);

/** `delay`: waits `ms`, then goes on. */
export const delayStep = (run: WorkflowRun, step: StepOf<'delay'>, now: number): StepResult => ({
  go: 'wait',
  run,
  until: now + step.ms,
  reason: `delay ${step.ms} ms`,
});

export const delayOver = (run: WorkflowRun): StepResult => ({
  go: 'next',
  run,
  reason: 'delay over',
});

/** `wait_for`: waits `withinMs`, then looks whether the user engaged. */
export const waitForStep = (
  run: WorkflowRun,
  step: StepOf<'wait_for'>,
  now: number,
): StepResult => ({
  go: 'wait',
  run,
  until: now + step.withinMs,
  reason: `wait_for ${step.state} ${step.withinMs} ms`,
});

/**
 * The end of a `wait_for`: the run ends when any notification it sent reached the state
 * (its inbox item seen or read, or what email and app events reported), else goes on.
 */
export async function waitForOver(
  run: WorkflowRun,
  step: StepOf<'wait_for'>,
  inboxItem: InboxRead,
): Promise<StepResult> {
  const by = await reachedBy(run, step.state, inboxItem);
  return by
    ? { go: 'end', run, reason: `wait_for ${step.state} met by ${by}` }
    : { go: 'next', run, reason: `wait_for ${step.state} not met within ${step.withinMs} ms` };
}

/** The first notification of the run that reached `state`, or undefined. */
async function reachedBy(
  run: WorkflowRun,
  state: EngagementState,
  inboxItem: InboxRead,
): Promise<string | undefined> {
  const wanted = rank(state);
  for (const { id } of run.sent) {
    if (rank(run.engaged[id]) >= wanted) return id;
    if (wanted > rank('read')) continue; // an inbox item knows no clicks
    const item = await inboxItem(run.project, run.userId, id);
    const seen = item?.read ? 'read' : item?.seen ? 'seen' : undefined;
    if (rank(seen) >= wanted) return id;
  }
  return undefined;
}

import type { ChannelName, NotificationIntent } from '../../notify/notification.js';
import { toIntent } from '../intent.js';
import type { StepResult } from './step-result.js';
import { cursorText, type WorkflowRun } from './workflow-run.js';

/** Routes one step's notification; resolves to the id it went out under. */
export type SendIntent = (intent: NotificationIntent) => Promise<string>;

/**
 * A step's notification: the rule's templates over the firing's context and the run's
 * variables, through `channels`, under the run's de-duplication key plus the step's place,
 * so a step taken again after a crash is dropped by the router. The run's first send (and any
 * in-app one) is kept in the inbox; later sends through other channels carry the same message
 * elsewhere and add no second item.
 */
export function stepIntent(run: WorkflowRun, channels: ChannelName[]): NotificationIntent {
  const context = { ...run.context, ...run.vars };
  const base = toIntent(
    {
      project: run.project,
      rule: { name: run.rule, notification: run.notification },
      id: run.firing,
      context,
    },
    run.userId,
  );
  const kept = run.sent.length === 0 || channels.includes('in_app');
  return {
    ...base,
    channels,
    dedupKey: `${base.dedupKey}#${cursorText(run.cursor)}`,
    ...(kept ? {} : { inbox: false as const }),
  };
}

/** `send`: routes through `channels` (the rule's when absent) and goes on. */
export async function sendStep(
  run: WorkflowRun,
  channels: ChannelName[] | undefined,
  send: SendIntent,
): Promise<StepResult> {
  const through = channels ?? [...run.notification.channels];
  const id = await send(stepIntent(run, through));
  return {
    go: 'next',
    run: { ...run, sent: [...run.sent, { id, channels: through }] },
    reason: `send ${through.join(',')} as ${id}`,
    ...(through.length === 1 ? { channel: through[0]! } : {}),
  };
}

/**
 * `escalate`: routes through the rule's next channel after the furthest one the last send
 * used, in the order of the rule's `channels`; with none left it goes on without sending.
 */
export async function escalateStep(run: WorkflowRun, send: SendIntent): Promise<StepResult> {
  const order = run.notification.channels;
  const last = run.sent.at(-1)?.channels ?? [];
  const furthest = Math.max(...last.map((c) => order.indexOf(c)));
  const next = order[furthest + 1];
  if (next === undefined)
    return { go: 'next', run, reason: `escalate: no channel after ${order[furthest] ?? 'none'}` };
  const sent = await sendStep(run, [next], send);
  return { ...sent, reason: `escalate to ${sent.reason}` };
}

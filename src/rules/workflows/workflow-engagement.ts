import type { StreamEvent } from '../../model/event.js';
import type { SealedRecords } from '../../state/sealed-records.js';
import type { StateStore } from '../../state/state-store.js';
import type { KeyedTask } from '../keyed-tasks.js';
import { userRunsPrefix, type WorkflowRun } from './workflow-run.js';
import { engagementStates, type EngagementState } from './workflow-spec.js';

/**
 * Events that report a user engaged with a notification (`props.notificationId`), and the
 * state each reaches: the email webhooks' opens and clicks, and clicks an app reports on an
 * in-app or push notification. Seen and read in-app come from the inbox itself.
 */
export const engagementEvents: Readonly<Record<string, EngagementState>> = {
  'email.open': 'read',
  'email.click': 'clicked',
  'notification.click': 'clicked',
};

const rank = (state: EngagementState | undefined) =>
  state === undefined ? -1 : engagementStates.indexOf(state);

/**
 * Keeps what engagement events report on the runs that sent the notification, for `wait_for`
 * to find: one task per event that names a notification of a user, looking through that
 * user's runs of each workflow rule of the project (a user has few at a time).
 *
 * @example
 * const engagement = createWorkflowEngagement(state, runs);
 * tasks.push(...engagement.tasks('dev', ['nudge'], events));
 */
export function createWorkflowEngagement(state: StateStore, runs: SealedRecords<WorkflowRun>) {
  async function mark(prefix: string, id: string, reached: EngagementState): Promise<void> {
    // Read plain: the sent ids are not sealed, so runs of other notifications stay closed.
    for (const [key, run] of await state.list<Pick<WorkflowRun, 'sent' | 'status'>>(prefix)) {
      if (run.status === 'done' || !run.sent.some((s) => s.id === id)) continue;
      await runs.update(key, (current) =>
        current && rank(current.engaged[id]) < rank(reached)
          ? { ...current, engaged: { ...current.engaged, [id]: reached } }
          : current,
      );
    }
  }

  return {
    tasks(project: string, rules: readonly string[], events: readonly StreamEvent[]): KeyedTask[] {
      const tasks: KeyedTask[] = [];
      for (const event of events) {
        const reached = Object.hasOwn(engagementEvents, event.type)
          ? engagementEvents[event.type]
          : undefined;
        const id = event.props.notificationId;
        if (!reached || typeof id !== 'string' || !event.userId) continue;
        for (const rule of rules) {
          const prefix = userRunsPrefix(project, rule, event.userId);
          tasks.push({ key: prefix, run: () => mark(prefix, id, reached) });
        }
      }
      return tasks;
    },
  };
}

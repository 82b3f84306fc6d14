import { createInbox } from '../../../src/notify/inbox.js';
import type { Notification, NotificationIntent } from '../../../src/notify/notification.js';
import { createPreferences } from '../../../src/notify/preferences.js';
import { eventContext, type Firing } from '../../../src/rules/firing.js';
import { createWorkflowRunner } from '../../../src/rules/workflows/workflow-runner.js';
import type { Sealer } from '../../../src/state/sealer.js';
import type { StateStore } from '../../../src/state/state-store.js';
import { createTimers } from '../../../src/state/timers.js';
import { event, log, rule } from '../rules-fixtures.js';

export const t0 = Date.parse('2026-03-02T09:00:00Z');

/** A rule whose notification is `steps`, through in-app then email. */
export const workflowRule = (steps: unknown[], notification: Record<string, unknown> = {}) =>
  rule({
    name: 'nudge',
    trigger: { kind: 'event', types: ['doc.shared'] },
    audience: { kind: 'user' },
    notification: {
      category: 'docs',
      title: '{{props.doc}} was shared with you',
      body: '',
      channels: ['in_app', 'email'],
      steps,
      ...notification,
    },
  });

/** A firing of `spec` by one `doc.shared` event. */
export function firingOf(spec: ReturnType<typeof workflowRule>, id: string, props = {}): Firing {
  const shared = event('doc.shared', { id, userId: 'owner' }, { doc: 'Plan', ...props });
  return { project: 'dev', rule: spec, id, userId: 'owner', context: eventContext(shared) };
}

/**
 * A workflow runner on `state` with real persistent timers, the real inbox and preferences,
 * and a clock the test moves. Its router stands in as the runner's `send` port does: each
 * intent gets an id, lands in the inbox unless it says not to, and is kept in `sent`; the
 * decision log's rows are kept in `reasons` per user.
 */
export function openWorkflows(state: StateStore, sealer?: Sealer) {
  let clock = t0;
  const timers = createTimers(state, log);
  const inbox = createInbox(state);
  const preferences = createPreferences(state);
  const sent: Notification[] = [];
  const reasons = new Map<string, string[]>();
  const send = async (intent: NotificationIntent) => {
    const n: Notification = { ...intent, id: `n${sent.length + 1}`, ts: clock };
    if (intent.inbox !== false) await inbox.append(n);
    sent.push(n);
    return n.id;
  };
  const runner = createWorkflowRunner({
    state,
    timers,
    send,
    inboxItem: inbox.get,
    preferences: preferences.get,
    record: (subject, reason) =>
      reasons.set(subject.userId, [...(reasons.get(subject.userId) ?? []), reason]),
    ...(sealer ? { sealer } : {}),
    now: () => clock,
  });
  return {
    runner,
    inbox,
    preferences,
    sent,
    reasons: (userId: string) => reasons.get(userId) ?? [],
    /** Moves the clock by `ms` and handles the timers due then, as their interval would. */
    async pass(ms: number) {
      clock += ms;
      await timers.fireDue(clock);
    },
  };
}

import { createSerialQueue } from '../../lib/serial-queue.js';
import type { DecisionSubject } from '../../notify/decision-log.js';
import type { ChannelName } from '../../notify/notification.js';
import type { Metrics } from '../../ops/metrics.js';
import { createSealedRecords } from '../../state/sealed-records.js';
import { plainSealer, type Sealer } from '../../state/sealer.js';
import type { StateStore } from '../../state/state-store.js';
import type { Timers } from '../../state/timers.js';
import type { Firing } from '../firing.js';
import { branchStep, type PreferencesOf } from './branch-step.js';
import { createDigestStep, defaultDigestOptions } from './digest-step.js';
import { escalateStep, sendStep, type SendIntent } from './send-step.js';
import type { StepResult } from './step-result.js';
import { delayOver, delayStep, waitForOver, waitForStep, type InboxRead } from './wait-steps.js';
import { createWorkflowEngagement } from './workflow-engagement.js';
import { cursorText, nextCursor, runId, runKey, stepAt, type WorkflowRun } from './workflow-run.js';

export const workflowTimerKind = 'workflow-step';

export const defaultWorkflowOptions = {
  ...defaultDigestOptions,
  // An ended run's record stays this long (then a timer deletes it): a firing retried
  // meanwhile finds it and starts no second run.
  keepEndedMs: 7 * 86_400_000,
};

export interface WorkflowDeps {
  state: StateStore;
  timers: Timers;
  send: SendIntent;
  inboxItem: InboxRead;
  preferences: PreferencesOf;
  /** One row of the decision log (outcome `workflow`). */
  record: (subject: DecisionSubject, reason: string, channel?: ChannelName) => void;
  sealer?: Sealer;
  metrics?: Metrics;
  now?: () => number;
}

/** A timer's payload: the run (project and user name it, for erasure) and the step it resumes. */
interface StepTimer {
  project: string;
  userId: string;
  rule: string;
  firing: string;
  /** The cursor of the waiting step (`cursorText`), or `ended` for the record's deletion. */
  at: string;
}

/** Lost a race with another writer of the run: the caller's timer or firing is retried. */
class RunMoved extends Error {}

/**
 * Runs rules' workflows (`notification.steps`): one run per firing and user, kept under
 * `rule/<project>/<rule>/run/<user>/<firing>` (context sealed) and advanced step by step.
 * Sends go through the router (preferences, caps and quiet hours apply); waits are
 * persistent timers, so a run survives restarts; every step taken is a `workflow` row in the
 * decision log. Each write checks the run's `rev`, so of two writers racing one wins and
 * the other's timer or firing is retried; a step taken twice sends once (its
 * de-duplication key) and learns the first send's id.
 *
 * @example
 * const workflows = createWorkflowRunner({ state, timers, send, inboxItem, preferences, record });
 * await workflows.start(firing, 'u42'); // sends, then waits on a timer
 */
export function createWorkflowRunner(
  deps: WorkflowDeps,
  options: Partial<typeof defaultWorkflowOptions> = {},
) {
  const opts = { ...defaultWorkflowOptions, ...options };
  const { timers, send, metrics } = deps;
  const now = deps.now ?? Date.now;
  const runs = createSealedRecords<WorkflowRun>(deps.state, deps.sealer ?? plainSealer, [
    'context',
    'vars',
  ]);
  const digests = createDigestStep(deps.state, deps.sealer, opts);
  const engagement = createWorkflowEngagement(deps.state, runs);
  // One run's steps in this process one after another: a timer and a retried firing do not race.
  const serial = createSerialQueue();
  const keyOf = (r: Pick<WorkflowRun, 'project' | 'rule' | 'userId' | 'firing'>) =>
    runKey(r.project, r.rule, r.userId, r.firing);

  const record = (run: WorkflowRun, reason: string, channel?: ChannelName) => {
    const { project, userId, rule } = run;
    const id = runId(run);
    const subject = {
      project,
      userId,
      rule,
      id,
      category: run.notification.category,
      dedupKey: id,
    };
    deps.record(subject, `workflow: ${reason}`, channel);
  };

  function enter(run: WorkflowRun): Promise<StepResult> | StepResult {
    const step = stepAt(run.notification.steps ?? [], run.cursor);
    if (step) metrics?.ruleWorkflowSteps.inc({ kind: step.kind });
    switch (step?.kind) {
      case 'send':
        return sendStep(run, step.channels, send);
      case 'escalate':
        return escalateStep(run, send);
      case 'delay':
        return delayStep(run, step, now());
      case 'wait_for':
        return waitForStep(run, step, now());
      case 'digest':
        return digests.enter(run, step, now());
      case 'branch':
        return branchStep(run, step, deps.preferences);
      case undefined:
        return { go: 'end', run, reason: `no step at ${cursorText(run.cursor)}` };
    }
  }

  /** The step a timer ended the wait of. */
  function resume(run: WorkflowRun): Promise<StepResult> | StepResult {
    const step = stepAt(run.notification.steps ?? [], run.cursor);
    if (step?.kind === 'delay') return delayOver(run);
    if (step?.kind === 'wait_for') return waitForOver(run, step, deps.inboxItem);
    if (step?.kind === 'digest') return digests.over(run, step);
    return enter(run);
  }

  /** Writes `run` over the stored one of the same `rev`; the stored engagement is kept. */
  async function write(run: WorkflowRun): Promise<WorkflowRun> {
    let won = false;
    const written = await runs.update(keyOf(run), (current) => {
      won = current?.rev === run.rev;
      return won ? { ...run, engaged: current!.engaged, rev: run.rev + 1 } : current;
    });
    if (!won || !written) throw new RunMoved(`run ${runId(run)} moved on meanwhile`);
    return written;
  }

  const timerOf = (run: WorkflowRun, at: string) =>
    [run.project, run.rule, run.userId, run.firing, at].map(encodeURIComponent).join('/');

  async function schedule(run: WorkflowRun, at: string, dueAt: number): Promise<void> {
    const { project, userId, rule, firing } = run;
    const payload: StepTimer = { project, userId, rule, firing, at };
    await timers.schedule(workflowTimerKind, dueAt, payload, `workflow/${timerOf(run, at)}`);
  }

  /** Takes steps from `result` on until the run waits or ends. */
  async function proceed(first: StepResult): Promise<void> {
    for (let result = first; ;) {
      if (result.go === 'wait') {
        record(result.run, result.reason);
        // The timer first: a crash before the write leaves a timer that finds the run there.
        await schedule(result.run, cursorText(result.run.cursor), result.until);
        await write({ ...result.run, status: 'waiting' });
        return;
      }
      if (result.go === 'end') return end(result.run, `${result.reason}: ended`);
      record(result.run, result.reason, result.go === 'next' ? result.channel : undefined);
      const cursor =
        result.go === 'into'
          ? result.run.cursor
          : nextCursor(result.run.notification.steps ?? [], result.run.cursor);
      if (!cursor) return end(result.run, 'ended after its last step');
      const run = await write({ ...result.run, cursor, status: 'running' });
      if (result.go === 'next') await result.afterWrite?.();
      result = await enter(run);
    }
  }

  async function end(run: WorkflowRun, reason: string): Promise<void> {
    record(run, reason);
    await write({ ...run, status: 'done', context: {}, vars: {} });
    await schedule(run, 'ended', now() + opts.keepEndedMs);
  }

  timers.on(workflowTimerKind, async (timer) => {
    const at = timer.payload as StepTimer;
    const key = keyOf(at);
    // Thrown on, so the timer is tried again at the next check (timers.ts logs it).
    await serial
      .push(key, () => resumeAt(key, at))
      .catch((err: unknown) => {
        metrics?.ruleFailures.inc({ reason: 'workflow' });
        throw err;
      });
  });

  async function resumeAt(key: string, at: StepTimer): Promise<void> {
    if (at.at === 'ended') {
      const ended = await deps.state.get<Pick<WorkflowRun, 'status'>>(key);
      if (ended?.status === 'done') await deps.state.del(key);
      return;
    }
    const run = await runs.get(key);
    // Removed with its rule, ended, or past this step (a timer of a step taken twice). A
    // run still `running` at this step stopped between scheduling and writing: it resumes.
    if (!run || run.status === 'done' || cursorText(run.cursor) !== at.at) return;
    await proceed(await resume(run));
  }

  return {
    /** Starts the run of `firing` for `userId`, or takes up one a failed try left running. */
    start(firing: Firing, userId: string): Promise<void> {
      const fresh: WorkflowRun = {
        ...{ project: firing.project, rule: firing.rule.name, firing: firing.id, userId },
        ...{ notification: firing.rule.notification, context: firing.context, vars: {} },
        ...{ cursor: [0], rev: 0, status: 'running', sent: [], engaged: {}, startedAt: now() },
      };
      const key = keyOf(fresh);
      return serial.push(key, async () => {
        let created = false;
        const run = await runs.update(key, (current) => {
          created = current === undefined;
          return current ?? fresh;
        });
        if (created) record(fresh, `started: ${fresh.notification.steps?.length ?? 0} steps`);
        if (run?.status === 'running') await proceed(await enter(run));
      });
    },
    /** Tasks that keep engagement events' states on the runs of `rules` (workflow rules). */
    engagementTasks: engagement.tasks,
  };
}

export type WorkflowRunner = ReturnType<typeof createWorkflowRunner>;

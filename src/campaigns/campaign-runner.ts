import { randomUUID } from 'node:crypto';
import { backoffMs } from '../lib/backoff.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { StandingAudience } from '../rules/audience.js';
import type { Route } from '../rules/fire.js';
import { intentFor, type IntentSource } from '../rules/intent.js';
import type { Context } from '../rules/render.js';
import type { StateStore } from '../state/state-store.js';
import type { Timers } from '../state/timers.js';
import {
  campaignContext,
  campaignScope,
  dueOfQueueKey,
  queueKey,
  queuePrefix,
  tallyKey,
  type CampaignRecord,
  type QueuedRecipient,
  type StepTally,
} from './campaign-record.js';
import { createCampaignSteps, type PlanStep, type SendStep } from './campaign-steps.js';
import type { SendTimes } from './send-times.js';
import { sortableTime, type StateWrite } from '../state/state-store.js';

export const defaultCampaignRunnerOptions = {
  planPageSize: 5000, // recipients read from the audience and planned per step
  maxChunk: 1000, // recipients routed per send step at most (fewer when the rate is lower)
  routeGroupSize: 1000, // routed at once: their state writes share commits, their emails calls
  maxAttempts: 5, // failed routes of one recipient, or reads of an audience page, before giving up
  retryAfterMs: 1000, // pause after a failed step; an audience page's retries double it
};

/** What the runner reads of audiences (rules/audience.ts `page`). */
export interface AudiencePages {
  page(
    project: string,
    audience: StandingAudience,
    context: Context,
    at: number,
    page: { after: string; limit: number },
  ): Promise<string[]>;
}

/**
 * Runs campaigns in steps on persistent timers, so a restart resumes where it stopped and
 * no step holds the timers long. A plan step reads one page of the audience (as of the
 * campaign's start, so pages agree), gives each recipient a send time and queues them in the
 * state store by that time, and wakes the send steps when its recipients are due sooner than
 * the next one: sending starts with the first page while the next are read. A send step
 * routes the queued recipients that are due, at most one second's worth of `ratePerSecond`,
 * then wakes the next one a second's worth later (or at the next planned time); with the
 * queue empty the chain stops, and the campaign is done once its last page was planned. Every
 * recipient's intent carries the campaign's de-duplication key, so a step run twice (a crash
 * between routing and dequeuing) notifies nobody twice.
 *
 * @example
 * const runner = createCampaignRunner({ state, timers, audience, times, route, log });
 * await runner.begin(record);
 */
export function createCampaignRunner(
  deps: {
    state: StateStore;
    timers: Timers;
    audience: AudiencePages;
    times: SendTimes;
    route: Route;
    metrics?: Metrics;
    log: Logger;
    now?: () => number;
  },
  options: Partial<typeof defaultCampaignRunnerOptions> = {},
) {
  const { state, timers, audience, times, route, metrics, log } = deps;
  const opts = { ...defaultCampaignRunnerOptions, ...options };
  const now = deps.now ?? Date.now;

  const { load, change, schedulePlan, wake, clear } = createCampaignSteps({ state, timers, now });

  /**
   * Reads a page of the audience and plans its send times; undefined when either failed (the
   * audience's store or the send hours' down, a deleted cohort): counted, and retried with
   * growing pauses until `maxAttempts`, then the campaign fails with the error.
   */
  async function readPage(record: CampaignRecord, step: PlanStep) {
    const { project, id, spec } = record;
    const context = campaignContext(record);
    const page = { after: step.after, limit: opts.planPageSize };
    try {
      const users = await audience.page(project, spec.audience, context, record.startAt, page);
      return { users, dueAt: await times.plan(project, spec, users, now()) };
    } catch (err) {
      metrics?.campaignFailures.inc({ reason: 'plan' });
      log.warn({ err, campaign: id, project }, 'campaign plan step failed');
      const failures = (step.failures ?? 0) + 1;
      if (failures < opts.maxAttempts) {
        const at = now() + backoffMs(failures, opts.retryAfterMs, 5 * 60_000);
        await schedulePlan(record, step.page, step.after, at, failures);
      } else {
        const error = `plan: ${(err as Error).message}`;
        await change(record, (r) => ({ ...r, status: 'failed', error, finishedAt: now() }));
      }
      return undefined;
    }
  }

  async function plan(step: PlanStep): Promise<void> {
    const { project, id, page } = step;
    const record = await load(project, id);
    if (!record || record.status === 'cancelled' || record.plannedPages > page) return;
    const read = await readPage(record, step);
    if (!read) return;
    const { users, dueAt } = read;
    const limit = opts.planPageSize;
    await state.batch(
      users.map((userId, i) => ({
        op: 'put' as const,
        key: queueKey(project, id, dueAt[i]!, userId),
        value: { userId, attempts: 0 } satisfies QueuedRecipient,
      })),
    );
    const last = users.length < limit;
    const planned = await change(record, (r) =>
      r.plannedPages !== page
        ? r
        : {
            ...r,
            status: r.status === 'cancelled' ? r.status : last ? 'sending' : 'planning',
            plannedPages: page + 1,
            targeted: r.targeted + users.length,
            firstSendAt: Math.min(r.firstSendAt ?? Infinity, ...dueAt),
            lastSendAt: Math.max(r.lastSendAt ?? -Infinity, ...dueAt),
          },
    );
    if (!planned || planned.status === 'cancelled') return;
    // Sending starts with the first page planned, while the next pages are read.
    if (users.length > 0) await wake(planned, Math.max(now(), Math.min(...dueAt)));
    if (!last) await schedulePlan(planned, page + 1, users.at(-1)!, now());
    // An empty last page: a send step finds the queue empty, and the campaign done.
    else if (users.length === 0) await wake(planned, now());
  }

  /** Routes one recipient; false when the route failed (it stays queued for a later step). */
  async function routeOne(source: IntentSource, recipient: QueuedRecipient): Promise<boolean> {
    try {
      await route(intentFor(source, recipient.userId));
      return true;
    } catch (err) {
      log.warn({ err, campaign: source.scope, project: source.project }, 'campaign route failed');
      metrics?.campaignFailures.inc({ reason: 'route' });
      return false;
    }
  }

  /** Adds the tally of a step cut short after its queue batch to the record (see StepTally). */
  async function foldTally(record: CampaignRecord): Promise<CampaignRecord | undefined> {
    const tally = await state.get<StepTally>(tallyKey(record.project, record.id));
    if (!tally || tally.step === record.tallied) return record;
    return change(record, (r) => (r.tallied === tally.step ? r : counted(r, tally)));
  }

  async function send({ project, id, at }: SendStep): Promise<void> {
    const loaded = await load(project, id);
    const record = loaded && (await foldTally(loaded));
    if (!record || record.status === 'done') return;
    const prefix = queuePrefix(project, id);
    if (record.status === 'cancelled') return void (await drop(record, prefix));
    if (at !== undefined && record.nextSendAt !== at) return;
    const scope = campaignScope(id);
    const source: IntentSource = {
      ...{ project, scope, notification: record.spec.notification, defaultDedupKey: scope },
      context: campaignContext(record),
    };
    const started = now();
    const chunk = Math.min(record.spec.ratePerSecond, opts.maxChunk);
    const due = await state.list<QueuedRecipient>(prefix, {
      before: `${prefix}${sortableTime(started + 1)}`,
      limit: chunk,
    });
    const tally: StepTally = { step: randomUUID(), routed: 0, failed: 0 };
    let retrying = false;
    for (let i = 0; i < due.length; i += opts.routeGroupSize) {
      const group = due.slice(i, i + opts.routeGroupSize);
      const ok = await Promise.all(group.map(([, r]) => routeOne(source, r)));
      const writes: StateWrite[] = group.map(([key, r], j) => {
        if (ok[j]) tally.routed += 1;
        else if (r.attempts + 1 >= opts.maxAttempts) tally.failed += 1;
        else {
          retrying = true;
          return { op: 'put' as const, key, value: { ...r, attempts: r.attempts + 1 } };
        }
        return { op: 'del' as const, key };
      });
      // The step's tally so far goes with its queue changes, atomically.
      writes.push({ op: 'put', key: tallyKey(project, id), value: { ...tally } });
      await state.batch(writes);
    }
    const { routed, failed } = tally;
    metrics?.campaignRecipients.inc({ outcome: 'routed' }, routed);
    if (failed > 0) metrics?.campaignRecipients.inc({ outcome: 'failed' }, failed);
    const [next] = await state.list<QueuedRecipient>(prefix, { limit: 1 });
    // With the queue empty the chain stops: done once planned whole, else the next plan step
    // wakes it.
    const paced = started + Math.ceil((due.length * 1000) / record.spec.ratePerSecond);
    const retry = retrying ? started + opts.retryAfterMs : 0;
    const updated = await change(record, (r) => ({
      ...(due.length === 0 || r.tallied === tally.step ? r : counted(r, tally)),
      nextSendAt: null,
      pacedUntil: Math.max(paced, retry),
      ...(next || r.status !== 'sending' ? {} : { status: 'done', finishedAt: now() }),
    }));
    if (!next || !updated || updated.status === 'cancelled') return;
    await wake(updated, dueOfQueueKey(next[0], prefix));
  }

  /** A cancelled campaign's queue, removed a page per step. */
  async function drop(record: CampaignRecord, prefix: string): Promise<void> {
    const page = await state.list(prefix, { limit: 5000 });
    await state.batch(page.map(([key]) => ({ op: 'del' as const, key })));
    if (page.length === 5000) await clear(record);
  }

  timers.on('campaign-plan', (timer) => plan(timer.payload as PlanStep));
  timers.on('campaign-send', (timer) => send(timer.payload as SendStep));

  return {
    /** Starts a stored campaign: its first plan step at its start time. */
    begin: (record: CampaignRecord) => schedulePlan(record, 0, '', record.startAt),
    /** Clears a cancelled campaign's queue (a step that finds it cancelled does too). */
    clear,
  };
}

export type CampaignRunner = ReturnType<typeof createCampaignRunner>;

const counted = (r: CampaignRecord, tally: StepTally): CampaignRecord => ({
  ...r,
  routed: r.routed + tally.routed,
  failed: r.failed + tally.failed,
  tallied: tally.step,
});

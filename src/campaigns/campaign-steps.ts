import type { StateStore } from '../state/state-store.js';
import type { Timers } from '../state/timers.js';
import { campaignKey, type CampaignRecord } from './campaign-record.js';

export interface PlanStep {
  project: string;
  id: string;
  page: number;
  after: string;
  /** Earlier tries of this page that failed (the audience's store down, a deleted cohort). */
  failures?: number;
}
export interface SendStep {
  project: string;
  id: string;
  /** The `nextSendAt` it was scheduled for: another one means a later plan moved it. */
  at?: number;
}

/**
 * A campaign's record and the timers of its steps: reads and atomic changes of the record,
 * scheduling a plan step, waking the one chain of send steps, and a step that clears a
 * cancelled campaign's queue. Timer ids name campaign, step and time, so scheduling the same
 * step twice is one timer.
 *
 * @example
 * const { load, change, schedulePlan, wake, clear } = createCampaignSteps({ state, timers, now });
 */
export function createCampaignSteps(deps: {
  state: StateStore;
  timers: Timers;
  now: () => number;
}) {
  const { state, timers, now } = deps;
  const load = (project: string, id: string) => state.get<CampaignRecord>(campaignKey(project, id));
  const change = (record: CampaignRecord, fn: (r: CampaignRecord) => CampaignRecord) =>
    state.update<CampaignRecord>(campaignKey(record.project, record.id), (r) => r && fn(r));

  const schedulePlan = (
    record: CampaignRecord,
    page: number,
    after: string,
    at: number,
    failures = 0,
  ) =>
    timers.schedule<PlanStep>(
      'campaign-plan',
      at,
      { project: record.project, id: record.id, page, after, failures },
      `campaign-${record.id}-plan-${page}-${failures}`,
    );
  /**
   * Makes sure the send step runs by `at`, but not before the pace allows (`pacedUntil`, set
   * by the step before): schedules it unless one is due as soon.
   */
  async function wake(record: CampaignRecord, at: number): Promise<void> {
    let target = at;
    const woken = await change(record, (r) => {
      target = Math.max(at, r.pacedUntil ?? 0);
      return r.nextSendAt != null && r.nextSendAt <= target ? r : { ...r, nextSendAt: target };
    });
    if (woken?.nextSendAt !== target) return;
    const step = { project: record.project, id: record.id, at: target };
    const timerId = `campaign-${record.id}-send-${target}`;
    await timers.schedule<SendStep>('campaign-send', target, step, timerId);
  }

  /** A step that clears a cancelled campaign's queue, whatever else is scheduled. */
  const clear = (record: CampaignRecord) =>
    timers.schedule<SendStep>(
      'campaign-send',
      now(),
      { project: record.project, id: record.id },
      `campaign-${record.id}-clear-${now()}`,
    );

  return { load, change, schedulePlan, wake, clear };
}

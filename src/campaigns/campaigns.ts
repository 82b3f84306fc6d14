import { randomBytes } from 'node:crypto';
import { BacklineError } from '../errors.js';
import { describeIssues } from '../state/saved-definitions.js';
import { sortableTime, type StateStore } from '../state/state-store.js';
import { campaignKey, campaignsPrefix, type CampaignRecord } from './campaign-record.js';
import type { CampaignRunner } from './campaign-runner.js';
import { campaignSpecSchema } from './campaign-spec.js';
import type { SendTimes } from './send-times.js';

const finished = (r: CampaignRecord) => r.status === 'done' || r.status === 'failed';

/** Campaigns a listing shows, newest first. */
const listLimit = 100;

/**
 * A project's campaigns: `create` checks a spec (BAD_CAMPAIGN names the bad part), stores
 * it and starts it; `cancel` stops what is not yet routed (CAMPAIGN_FINISHED once done).
 * Records live in the state store, so every node of a cluster sees the same campaigns and
 * the node holding the timers runs them.
 *
 * @example
 * const campaigns = createCampaigns({ state, runner, times });
 * const record = await campaigns.create('dev', { name: 'tour', audience: { kind: 'cohort', cohort: 'fans' }, … });
 */
export function createCampaigns(deps: {
  state: StateStore;
  runner: CampaignRunner;
  times: SendTimes;
  /** Whether `sendAt: "best"` can be planned (the analytics store is there). */
  bestHours: boolean;
  now?: () => number;
}) {
  const { state, runner, times } = deps;
  const now = deps.now ?? Date.now;

  function parse(raw: unknown) {
    const parsed = campaignSpecSchema.safeParse(raw);
    if (!parsed.success) throw new BacklineError('BAD_CAMPAIGN', describeIssues(parsed.error));
    if (parsed.data.sendAt === 'best' && !deps.bestHours)
      throw new BacklineError('BAD_CAMPAIGN', 'sendAt: "best" needs the analytics store');
    return parsed.data;
  }

  return {
    async create(project: string, raw: unknown): Promise<CampaignRecord> {
      const spec = parse(raw);
      const createdAt = now();
      // Time first, so ids (and the listing) sort by creation.
      const id = `${sortableTime(createdAt)}${randomBytes(4).toString('hex')}`;
      const record: CampaignRecord = {
        ...{ id, project, spec, status: 'scheduled', createdAt },
        startAt: times.startAt(spec, createdAt),
        ...{ targeted: 0, routed: 0, failed: 0, plannedPages: 0 },
        ...{ nextSendAt: null, firstSendAt: null, lastSendAt: null, finishedAt: null },
      };
      await state.put(campaignKey(project, id), record);
      await runner.begin(record);
      return record;
    },
    get: (project: string, id: string) => state.get<CampaignRecord>(campaignKey(project, id)),
    async list(project: string): Promise<CampaignRecord[]> {
      const page = await state.list<CampaignRecord>(campaignsPrefix(project), {
        reverse: true,
        limit: listLimit,
      });
      return page.map(([, record]) => record);
    },
    async cancel(project: string, id: string): Promise<CampaignRecord> {
      const found = await state.update<CampaignRecord>(campaignKey(project, id), (r) =>
        r && !finished(r) ? { ...r, status: 'cancelled', finishedAt: r.finishedAt ?? now() } : r,
      );
      if (!found) throw new BacklineError('UNKNOWN_CAMPAIGN');
      if (finished(found)) throw new BacklineError('CAMPAIGN_FINISHED');
      await runner.clear(found);
      return found;
    },
  };
}

export type Campaigns = ReturnType<typeof createCampaigns>;

import { part, scan, type StateStore } from '../state/state-store.js';
import {
  campaignKey,
  campaignsPrefix,
  queuesPrefix,
  type CampaignRecord,
} from './campaign-record.js';

/**
 * Takes an erased user out of a project's campaigns: their queued sends, and their id from
 * list audiences, so no campaign notifies them (and writes an inbox for them) after the
 * erase, and none keeps their id. Answers the entries deleted or changed. The queues of every campaign of
 * the project are scanned: the cost grows with what is queued, not with the user.
 *
 * @example
 * await eraseFromCampaigns(state, 'dev', 'u42');
 */
export async function eraseFromCampaigns(
  state: StateStore,
  project: string,
  userId: string,
): Promise<number> {
  let changed = 0;
  const queued = `/${part(userId)}`;
  for await (const [key] of scan(state, queuesPrefix(project)))
    if (key.endsWith(queued)) {
      await state.del(key);
      changed += 1;
    }
  for await (const [, record] of scan<CampaignRecord>(state, campaignsPrefix(project))) {
    const { audience } = record.spec;
    if (audience.kind !== 'list' || !audience.users.includes(userId)) continue;
    await state.update<CampaignRecord>(campaignKey(project, record.id), (r) => {
      if (!r || r.spec.audience.kind !== 'list') return r;
      const users = r.spec.audience.users.filter((u) => u !== userId);
      return { ...r, spec: { ...r.spec, audience: { ...r.spec.audience, users } } };
    });
    changed += 1;
  }
  return changed;
}

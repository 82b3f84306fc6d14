import type { Suppressions } from '../notify/channels/email/suppressions.js';
import type { PushSubscriptions } from '../notify/channels/web-push/push-subscriptions.js';
import type { PreferenceStore } from '../notify/preferences.js';
import { eraseFromCampaigns } from '../campaigns/campaign-erasure.js';
import { part, scan, type StateStore } from '../state/state-store.js';
import type { UserIds } from '../storage/user-rows.js';

export interface UserStateDeps {
  state: StateStore;
  /** Read through their owners: their values may be encrypted at rest. */
  preferences: Pick<PreferenceStore, 'get'>;
  push: Pick<PushSubscriptions, 'list' | 'remove'>;
  suppressions: Pick<Suppressions, 'forget'>;
}

/**
 * The state keys under one user's own prefix, as their owners write them: the inbox
 * (notify/inbox.ts), pending digests (notify/digests.ts), frequency caps (notify/caps.ts) and
 * de-duplication keys (notify/router.ts). Push subscriptions (`push/…`) and suppressions
 * (`emailsup/…`) go through their owners; preferences are one key.
 */
export const userPrefixes = (project: string, userId: string): string[] =>
  ['inbox', 'digest', 'cap', 'dedup'].map((area) => `${area}/${project}/${part(userId)}/`);

export const preferenceKey = (project: string, userId: string): string =>
  `pref/${project}/${part(userId)}`;

/** Email send records are keyed by notification (notify/channels/email/send-records.ts). */
const sendRecordKey = (project: string, id: string) => `emailsent/${project}/${part(id)}`;

const decoded = (segment: string): string => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
};

/** A key segment naming one of `ids`, whole or as a part of a group key (`a|b`). */
const segmentNames = (segment: string, ids: readonly string[]) =>
  decoded(segment)
    .split('|')
    .some((piece) => ids.includes(piece));

/**
 * Whether a timer's payload is about the user: some object in it, of the user's project,
 * carries the user id, or no user id and one of the user's anonymous ids (an event).
 */
export function payloadNames(value: unknown, user: UserIds, depth = 0): boolean {
  if (!value || typeof value !== 'object' || depth > 5) return false;
  const fields = value as Record<string, unknown>;
  if (typeof fields.project === 'string' && fields.project !== user.project) return false;
  const id = fields.userId ?? fields.user_id;
  const anonymous = fields.anonymousId ?? fields.anonymous_id;
  if (id === user.userId) return true;
  if (id === '' && typeof anonymous === 'string' && user.anonymousIds.includes(anonymous))
    return true;
  return Object.values(fields).some((inner) => payloadNames(inner, user, depth + 1));
}

/** Ids of the notifications in the user's inbox and pending digest. */
export async function stateNotificationIds(state: StateStore, project: string, userId: string) {
  const ids: string[] = [];
  for (const [, item] of await state.list<{ id: string }>(userPrefixes(project, userId)[0]!))
    ids.push(item.id);
  for (const [, item] of await state.list<{ id: string }>(userPrefixes(project, userId)[1]!))
    ids.push(item.id);
  return ids;
}

/**
 * Deletes the user's state: their own prefixes and preferences, push subscriptions (and the
 * endpoint's owner record), the suppression (kept as a hash of the address), email send
 * records of `notificationIds`, follow edges from or to the user, rule state keyed by the
 * user (absence spans, thresholds of a user-keyed window), timers whose payload names
 * them and their place in campaigns (queued sends, list audiences). The project's follow graph, rule state and every timer are scanned: the cost grows
 * with them, not with the user. Idempotent. Answers the keys deleted.
 */
export async function eraseUserState(
  deps: UserStateDeps,
  user: UserIds,
  notificationIds: readonly string[],
): Promise<number> {
  const { state } = deps;
  const { project, userId } = user;
  const ids = [userId, ...user.anonymousIds];
  let deleted = 0;
  const del = async (key: string) => {
    await state.del(key);
    deleted += 1;
  };
  const { email } = await deps.preferences.get(project, userId);
  await deps.suppressions.forget(project, userId, email);
  for (const subscription of await deps.push.list(project, userId))
    if (await deps.push.remove(project, userId, subscription.endpoint)) deleted += 1;
  for (const prefix of userPrefixes(project, userId))
    for await (const [key] of scan(state, prefix)) await del(key);
  if ((await state.get(preferenceKey(project, userId))) !== undefined)
    await del(preferenceKey(project, userId));
  for (const id of notificationIds)
    if ((await state.get(sendRecordKey(project, id))) !== undefined)
      await del(sendRecordKey(project, id));
  for await (const [key] of scan(state, `follow/${encodeURIComponent(project)}/`)) {
    const [, , , entity, follower] = key.split('/');
    if (decoded(follower ?? '') === userId || decoded(entity ?? '') === userId) await del(key);
  }
  for await (const [key] of scan(state, `rule/${encodeURIComponent(project)}/`))
    if (
      key
        .split('/')
        .slice(3)
        .some((segment) => segmentNames(segment, ids))
    )
      await del(key);
  for await (const [key, timer] of scan<{ payload: unknown }>(state, 'timer/'))
    if (payloadNames(timer.payload, user)) await del(key);
  deleted += await eraseFromCampaigns(state, project, userId);
  return deleted;
}

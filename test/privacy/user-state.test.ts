import { createECDH, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaps } from '../../src/notify/caps.js';
import type { Channel } from '../../src/notify/channel.js';
import { createSendRecords } from '../../src/notify/channels/email/send-records.js';
import { createSuppressions } from '../../src/notify/channels/email/suppressions.js';
import { createPushSubscriptions } from '../../src/notify/channels/web-push/push-subscriptions.js';
import { createDelivery } from '../../src/notify/delivery.js';
import { createInbox } from '../../src/notify/inbox.js';
import type { ChannelName, NotificationIntent } from '../../src/notify/notification.js';
import { createPreferences } from '../../src/notify/preferences.js';
import { createRouter } from '../../src/notify/router.js';
import { eraseUserState, stateNotificationIds } from '../../src/privacy/user-state.js';
import { ruleStateKey } from '../../src/rules/firing.js';
import { createFollowGraph } from '../../src/rules/follow-graph.js';
import { runKeyed } from '../../src/rules/keyed-tasks.js';
import type { AudienceOf } from '../../src/rules/rule-spec.js';
import type { StateStore } from '../../src/state/state-store.js';
import { createTimers } from '../../src/state/timers.js';
import { openDecisionLog } from '../helpers/decision-log.js';
import { event, log, noSegments, rule, stateStores, tempDir } from '../rules/rules-fixtures.js';
import { createCampaignRunner } from '../../src/campaigns/campaign-runner.js';
import { createCampaigns } from '../../src/campaigns/campaigns.js';
import { createSendTimes } from '../../src/campaigns/send-times.js';
import { createAudience } from '../../src/rules/audience.js';

const project = 'p1';
const erased = 'fan-erased';
const kept = 'fan-kept';
const anonymous = 'anon-of-erased';
let decisions: Awaited<ReturnType<typeof openDecisionLog>>;
beforeAll(async () => {
  decisions = await openDecisionLog(tempDir('user-state-decisions'));
});
afterAll(() => decisions.close());

const artists = rule({
  name: 'r',
  trigger: { kind: 'event' },
  audience: {
    kind: 'followers',
    entity: 'props.artistId',
    follow: { types: ['artist.follow'], entity: 'props.artistId' },
    unfollow: { types: ['artist.unfollow'], entity: 'props.artistId' },
  },
  notification: { category: 'c', title: 't', body: '' },
}).audience as AudienceOf<'followers'>;

function browserSubscription() {
  const keys = createECDH('prime256v1');
  keys.generateKeys();
  const endpoint = `https://push.example/send/${randomBytes(8).toString('hex')}`;
  return {
    endpoint,
    expirationTime: null,
    keys: {
      p256dh: keys.getPublicKey().toString('base64url'),
      auth: randomBytes(16).toString('base64url'),
    },
  };
}

/** Everything the notify and rules layers keep of a user, written through their owners. */
async function populate(state: StateStore, userId: string) {
  const timers = createTimers(state, log);
  const preferences = createPreferences(state);
  const inbox = createInbox(state);
  const channels = new Map<ChannelName, Channel>();
  const delivery = createDelivery({ channels, timers, decisions: decisions.decisions, log });
  const caps = createCaps(state, () => [{ category: '*', max: 100, periodMs: 3600_000 }]);
  const router = createRouter({
    ...{ state, preferences, caps, inbox, channels, delivery, timers },
    decisions: decisions.decisions,
  });
  const intent = (fields: Partial<NotificationIntent>): NotificationIntent => ({
    ...{ project, userId, rule: 'r1', category: 'shows', title: 'A show', body: 'Tonight' },
    ...{ data: {}, priority: 'normal', dedupKey: undefined, channels: ['in_app'] },
    ...{ template: undefined, variables: {} },
    ...fields,
  });
  const routed = [await router.route(intent({ dedupKey: 'show-7' }))];
  await preferences.put(project, userId, { email: `${userId}@example.com`, digest: 'hourly' });
  routed.push(await router.route(intent({ priority: 'low' }))); // digest + its timer
  await timers.schedule('delivery-retry', Date.now() + 60_000, { notification: routed[0] });
  await createPushSubscriptions(state).add(project, userId, browserSubscription());
  await createSuppressions(state).suppress(project, userId, {
    ...{ reason: 'bounce', email: `${userId}@example.com`, notificationId: routed[0]!.id },
    detail: '550 no such user',
  });
  await createSendRecords(state).begin(project, routed[0]!.id);
  const follow = (user: string, artistId: string) =>
    event('artist.follow', { userId: user }, { artistId });
  await runKeyed(
    createFollowGraph(state).tasks(project, [artists], [follow(userId, 'artist-7')]),
    (err) => {
      throw err;
    },
  );
  await state.put(ruleStateKey(project, 'absent', 'absence', userId, 'e1'), { ts: 1 });
  const anonymousEvent = { userId: '', anonymousId: `anon-of-${userId.slice(4)}` };
  await timers.schedule('absence', Date.now() + 60_000, {
    project,
    rule: 'r',
    event: anonymousEvent,
  });
  await campaignsOf(state, timers, router.route, userId);
  return routed.map((n) => n.id);
}

/** Two campaigns listing the user: one planned (the user queued for its send), one not yet. */
async function campaignsOf(
  state: StateStore,
  timers: ReturnType<typeof createTimers>,
  route: (intent: NotificationIntent) => Promise<unknown>,
  userId: string,
) {
  const times = createSendTimes({ zones: { timeZoneOf: async () => 'UTC' } });
  const audience = createAudience({ follows: createFollowGraph(state), segments: noSegments });
  const runner = createCampaignRunner({ state, timers, audience, times, route, log });
  const campaigns = createCampaigns({ state, runner, times, bestHours: false });
  const spec = (name: string, inMs: number) => ({
    name,
    audience: { kind: 'list', users: [userId] },
    notification: { category: 'news', title: 'News', body: '' },
    sendAt: Date.now() + inMs,
  });
  await campaigns.create(project, spec('planned', 3600_000));
  await campaigns.create(project, spec('later', 7200_000));
  await timers.fireDue(Date.now() + 3600_000 + 1000);
  expect(await state.list(`campaign-queue/${project}/`)).not.toHaveLength(0);
}

/** The state entries whose key or value holds `text`. */
async function mentioning(state: StateStore, text: string) {
  const all = await state.list<unknown>('');
  return all.filter(([key, value]) => key.includes(text) || JSON.stringify(value).includes(text));
}

describe.each(stateStores)('eraseUserState (%s state)', (_name, open) => {
  it('deletes every key of the user and leaves other users’ state alone', async () => {
    const state = open();
    const ids = await populate(state, erased);
    const keptIds = await populate(state, kept);
    // Another user following the erased one: an edge keyed by the erased user's id.
    await runKeyed(
      createFollowGraph(state).tasks(
        project,
        [artists],
        [event('artist.follow', { userId: kept }, { artistId: erased })],
      ),
      (err) => {
        throw err;
      },
    );
    expect((await mentioning(state, erased)).length).toBeGreaterThan(10);
    const keptBefore = (await mentioning(state, kept)).length;
    const found = await stateNotificationIds(state, project, erased);
    const owners = {
      state,
      preferences: createPreferences(state),
      push: createPushSubscriptions(state),
      suppressions: createSuppressions(state),
    };
    const user = { project, userId: erased, anonymousIds: [anonymous] };
    const deleted = await eraseUserState(owners, user, [...new Set([...ids, ...found])]);

    expect(deleted).toBeGreaterThan(10);
    expect(await mentioning(state, erased)).toEqual([]);
    expect(await mentioning(state, anonymous)).toEqual([]);
    expect(await mentioning(state, `${erased}@example.com`)).toEqual([]);
    // The kept user loses only the edge to the erased one.
    expect((await mentioning(state, kept)).length).toBe(keptBefore - 1);
    expect(await createSendRecords(state).get(project, keptIds[0]!)).toBeDefined();
    // The bounced address stays suppressed, known by its hash only.
    const blocked = await createSuppressions(state).blocks(
      project,
      'someone',
      'FAN-ERASED@example.com',
    );
    expect(blocked?.reason).toBe('bounce');
    expect(await eraseUserState(owners, user, ids)).toBe(0); // idempotent
  });
});

import { describe, expect, it } from 'vitest';
import { createCampaignRunner } from '../../src/campaigns/campaign-runner.js';
import { campaignKey, type CampaignRecord } from '../../src/campaigns/campaign-record.js';
import { createCampaigns } from '../../src/campaigns/campaigns.js';
import { createSendTimes } from '../../src/campaigns/send-times.js';
import type { NotificationIntent } from '../../src/notify/notification.js';
import { createAudience } from '../../src/rules/audience.js';
import { createFollowGraph } from '../../src/rules/follow-graph.js';
import { createMemoryStateStore } from '../../src/state/memory-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import { createTimers } from '../../src/state/timers.js';
import { log, noSegments } from '../rules/rules-fixtures.js';

const t0 = Date.parse('2026-06-01T10:00:00Z');
const users = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7'];

/**
 * Campaigns on the in-memory state store with real persistent timers and a clock the test
 * moves; the router's place is taken by `route`, which keeps each intent (or fails for the
 * users in `failing`), as the runner's `Route` port allows.
 */
function openCampaigns(
  options: { failing?: Set<string>; cohortFails?: boolean; cutAfterBatch?: boolean } = {},
) {
  let clock = t0;
  const state = cutOnce(createMemoryStateStore(), options.cutAfterBatch ?? false);
  const timers = createTimers(state, log);
  const routed: NotificationIntent[] = [];
  const route = async (intent: NotificationIntent) => {
    if (options.failing?.has(intent.userId)) throw new Error('state store down');
    routed.push(intent);
  };
  const audience = createAudience({
    follows: createFollowGraph(state),
    segments: noSegments,
    cohorts: {
      users: async () => {
        if (options.cohortFails) throw new Error('no such cohort');
        return [];
      },
    },
  });
  const times = createSendTimes({ zones: { timeZoneOf: async () => 'UTC' } });
  const now = () => clock;
  const runner = createCampaignRunner(
    { state, timers, audience, times, route, log, now },
    { planPageSize: 3 },
  );
  const campaigns = createCampaigns({ state, runner, times, bestHours: false, now });
  return {
    campaigns,
    routed,
    record: (id: string) => state.get<CampaignRecord>(campaignKey('dev', id)),
    /** Moves the clock by `ms` and handles the timers due then, as their interval would. */
    async pass(ms: number) {
      clock += ms;
      while ((await timers.fireDue(clock)) > 0);
    },
  };
}

/**
 * The store, but when `armed`, the first send step's record change after its queue batch
 * fails once: the step ends there, as a process killed between the two writes would.
 */
function cutOnce(base: StateStore, armed: boolean): StateStore {
  let cut = false;
  return {
    ...base,
    async batch(writes) {
      const done = await base.batch(writes);
      if (armed && writes.some((w) => w.op === 'del' && w.key.startsWith('campaign-queue/'))) {
        armed = false;
        cut = true;
      }
      return done;
    },
    async update(key, fn) {
      if (!cut) return base.update(key, fn);
      cut = false;
      throw new Error('killed between the queue batch and the record');
    },
  };
}

const notification = { category: 'news', title: 'Hi {{userId}} from {{campaign.name}}', body: '' };

describe('campaign runner', () => {
  it('plans the audience page by page, then routes it at the campaign’s pace, once each', async () => {
    const c = openCampaigns();
    const { id } = await c.campaigns.create('dev', {
      name: 'tour',
      audience: { kind: 'list', users: [...users].reverse() },
      notification,
      ratePerSecond: 2,
    });
    await c.pass(0);
    // Three pages of three planned; the first second's two routed.
    expect(await c.record(id)).toMatchObject({ status: 'sending', targeted: 7, routed: 2 });
    expect(c.routed.map((i) => i.userId)).toEqual(['u1', 'u2']);
    await c.pass(999);
    expect(c.routed).toHaveLength(2);
    await c.pass(1);
    expect(c.routed).toHaveLength(4);
    await c.pass(1000);
    await c.pass(1000);
    expect(await c.record(id)).toMatchObject({ status: 'done', routed: 7, finishedAt: t0 + 3000 });
    expect(c.routed.map((i) => i.userId)).toEqual(users);
    expect(c.routed[0]).toMatchObject({
      rule: `campaign:${id}`,
      dedupKey: `campaign:${id}`,
      title: 'Hi u1 from tour',
      variables: { campaign: { id, name: 'tour' }, userId: 'u1' },
    });
  });

  it('finishes when the audience is a whole number of pages, or empty', async () => {
    const c = openCampaigns();
    const six = await c.campaigns.create('dev', {
      name: 'six',
      audience: { kind: 'list', users: users.slice(0, 6) },
      notification,
      ratePerSecond: 100,
    });
    const none = await c.campaigns.create('dev', {
      name: 'none',
      audience: { kind: 'cohort', cohort: 'empty' },
      notification,
    });
    await c.pass(0);
    await c.pass(1000);
    expect(await c.record(six.id)).toMatchObject({ status: 'done', targeted: 6, routed: 6 });
    expect(await c.record(none.id)).toMatchObject({ status: 'done', targeted: 0, routed: 0 });
  });

  it('tries a recipient whose route failed again, and gives up after five tries', async () => {
    const c = openCampaigns({ failing: new Set(['u3']) });
    const { id } = await c.campaigns.create('dev', {
      name: 'retry',
      audience: { kind: 'list', users },
      notification,
      ratePerSecond: 100,
    });
    for (let i = 0; i < 10; i++) await c.pass(1000);
    expect(await c.record(id)).toMatchObject({ status: 'done', routed: 6, failed: 1 });
    expect(c.routed.map((i) => i.userId)).toEqual(users.filter((u) => u !== 'u3'));
  });

  it('counts the recipients of a step cut short after its queue batch, once', async () => {
    const c = openCampaigns({ cutAfterBatch: true });
    const { id } = await c.campaigns.create('dev', {
      name: 'cut',
      audience: { kind: 'list', users },
      notification,
      ratePerSecond: 2,
    });
    for (let i = 0; i < 8; i++) await c.pass(1000);
    expect(c.routed.map((i) => i.userId)).toEqual(users);
    expect(await c.record(id)).toMatchObject({ status: 'done', targeted: 7, routed: 7 });
  });

  it('retries an audience that fails with growing pauses, then marks the campaign failed', async () => {
    const c = openCampaigns({ cohortFails: true });
    const { id } = await c.campaigns.create('dev', {
      name: 'gone',
      audience: { kind: 'cohort', cohort: 'deleted' },
      notification,
    });
    await c.pass(0);
    expect(await c.record(id)).toMatchObject({ status: 'scheduled' });
    for (let i = 0; i < 20; i++) await c.pass(60_000);
    expect(await c.record(id)).toMatchObject({
      status: 'failed',
      error: 'plan: no such cohort',
    });
    await expect(c.campaigns.cancel('dev', id)).rejects.toMatchObject({
      code: 'CAMPAIGN_FINISHED',
    });
  });

  it('stops at a cancel and drops the queue', async () => {
    const c = openCampaigns();
    const { id } = await c.campaigns.create('dev', {
      name: 'stop',
      audience: { kind: 'list', users },
      notification,
      ratePerSecond: 1,
    });
    await c.pass(0);
    expect(c.routed).toHaveLength(1);
    await c.campaigns.cancel('dev', id);
    for (let i = 0; i < 5; i++) await c.pass(1000);
    expect(c.routed).toHaveLength(1);
    expect(await c.record(id)).toMatchObject({ status: 'cancelled', routed: 1, targeted: 7 });
    expect(await c.campaigns.list('dev')).toHaveLength(1);
  });
});

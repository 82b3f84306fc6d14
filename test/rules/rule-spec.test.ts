import { describe, expect, it } from 'vitest';
import { ruleSpecSchema } from '../../src/rules/rule-spec.js';

const notification = { category: 'social', title: 'Hi', body: '' };
const base = { name: 'r', trigger: { kind: 'event' }, audience: { kind: 'user' }, notification };
const issues = (spec: unknown) => {
  const parsed = ruleSpecSchema.safeParse(spec);
  return parsed.success ? [] : parsed.error.issues.map((i) => i.path.join('.'));
};

describe('ruleSpecSchema', () => {
  it('fills the documented defaults', () => {
    const spec = ruleSpecSchema.parse(base);
    expect(spec.trigger).toEqual({ kind: 'event', where: [] });
    expect(spec.notification).toMatchObject({
      priority: 'normal',
      channels: ['in_app', 'web_push', 'email'],
      data: {},
    });
    const threshold = ruleSpecSchema.parse({
      ...base,
      trigger: { kind: 'threshold', stream: 's', value: 'votes', above: 1000 },
      audience: { kind: 'list', users: ['u1'] },
    });
    expect(threshold.trigger).toMatchObject({ hysteresis: 0 });
    const schedule = ruleSpecSchema.parse({
      ...base,
      trigger: { kind: 'schedule', types: ['show.scheduled'], at: { field: 'props.startsAt' } },
    });
    expect(schedule.trigger).toMatchObject({ at: { field: 'props.startsAt', offsetMs: 0 } });
  });

  it('takes every trigger and audience kind of the README example', () => {
    const follow = { types: ['artist.follow'], entity: 'props.artistId' };
    const unfollow = { types: ['artist.unfollow'], entity: 'props.artistId' };
    const ok = [
      {
        trigger: { kind: 'absence', first: { types: ['a'] }, then: { types: ['b'] }, withinMs: 5 },
      },
      { audience: { kind: 'followers', entity: 'props.artistId', follow, unfollow } },
      { audience: { kind: 'segment', types: ['vote.cast'], sinceMs: 1000 } },
    ];
    for (const part of ok) expect(issues({ ...base, ...part })).toEqual([]);
  });

  it('refuses malformed rules, naming the bad part', () => {
    const threshold = { kind: 'threshold', stream: 's', value: 'v' };
    const list = { kind: 'list', users: ['u'] };
    expect(issues({ ...base, name: 'Bad Name' })).toEqual(['name']);
    expect(
      issues({ ...base, trigger: { kind: 'event', where: [{ field: 'nope', op: 'eq' }] } }),
    ).toEqual(['trigger.where.0.field']);
    expect(issues({ ...base, trigger: threshold, audience: list })).toEqual(['trigger']);
    expect(
      issues({ ...base, trigger: { ...threshold, above: 1, below: 0 }, audience: list }),
    ).toEqual(['trigger']);
    expect(issues({ ...base, trigger: { ...threshold, above: 1 } })).toEqual(['audience.kind']);
    expect(issues({ ...base, notification: { ...notification, priority: 'urgent' } })).toEqual([
      'notification.priority',
    ]);
    expect(issues({ ...base, notification: { ...notification, channels: ['sms'] } })).toEqual([
      'notification.channels.0',
    ]);
  });

  it('ties followers of `key` to thresholds and event fields to event triggers', () => {
    const edge = { types: ['f'], entity: 'props.id' };
    const followers = (entity: string) => ({
      kind: 'followers',
      entity,
      follow: edge,
      unfollow: edge,
    });
    const threshold = { kind: 'threshold', stream: 's', value: 'v', above: 1 };
    expect(issues({ ...base, trigger: threshold, audience: followers('key') })).toEqual([]);
    expect(issues({ ...base, audience: followers('key') })).toEqual(['audience.entity']);
    expect(issues({ ...base, trigger: threshold, audience: followers('props.id') })).toEqual([
      'audience.entity',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { ruleSpecSchema } from '../../../src/rules/rule-spec.js';

const withSteps = (steps: unknown[], channels = ['in_app', 'email']) => ({
  name: 'r',
  trigger: { kind: 'event' },
  audience: { kind: 'user' },
  notification: { category: 'c', title: 'Hi', body: '', channels, steps },
});
const issues = (steps: unknown[], channels?: string[]) => {
  const parsed = ruleSpecSchema.safeParse(withSteps(steps, channels));
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};
const send = { kind: 'send' };
const wait = { kind: 'wait_for', state: 'read', withinMs: 1000 };

describe('notification.steps', () => {
  it('takes every step kind, with their defaults', () => {
    const steps = [
      { kind: 'digest', periodMs: 60_000 },
      { ...send, channels: ['in_app'] },
      wait,
      { kind: 'delay', ms: 5 },
      {
        kind: 'branch',
        on: { preference: 'email' },
        exists: true,
        then: [{ kind: 'escalate' }],
      },
    ];
    const parsed = ruleSpecSchema.parse(withSteps(steps));
    expect(parsed.notification.steps![0]).toEqual({ kind: 'digest', periodMs: 60_000, key: '' });
    expect(parsed.notification.steps![4]).toMatchObject({ else: [] });
  });

  it('refuses steps out of order or malformed, naming the bad step', () => {
    expect(issues([wait])).toEqual(['notification.steps.0: wait_for comes after a send']);
    expect(issues([{ ...send, channels: ['web_push'] }])).toEqual([
      "notification.steps.0.channels: web_push is not among the rule's channels",
    ]);
    expect(issues([send, { kind: 'wait_for', state: 'opened', withinMs: 1 }])).toEqual([
      'notification.steps.1.state: Invalid option: expected one of "seen"|"read"|"clicked"',
    ]);
    expect(issues([{ kind: 'delay', ms: 0 }])[0]).toMatch(/^notification\.steps\.0\.ms: /);
    expect(issues([{ kind: 'branch', on: { field: 'props.x' }, equals: 1, in: [1] }])).toEqual([
      'notification.steps.0.on: a branch has exactly one of equals, in or exists',
    ]);
    expect(issues([])[0]).toMatch(/^notification\.steps: /);
  });

  it('counts a send inside a branch only when both of its ways send', () => {
    const branch = (then: unknown[], otherwise: unknown[]) => ({
      kind: 'branch',
      on: { field: 'props.plan' },
      equals: 'pro',
      then,
      else: otherwise,
    });
    expect(issues([branch([send], [send]), wait, { kind: 'escalate' }])).toEqual([]);
    expect(issues([branch([send], []), wait])).toEqual([
      'notification.steps.1: wait_for comes after a send',
    ]);
    expect(issues([branch([wait], [])])).toEqual([
      'notification.steps.0.then.0: wait_for comes after a send',
    ]);
  });
});

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openLmdbStateStore } from '../../../src/state/lmdb-state-store.js';
import { createMemoryStateStore } from '../../../src/state/memory-state-store.js';
import { createSealer } from '../../../src/state/sealer.js';
import { event, stateStores, tempDir } from '../rules-fixtures.js';
import { firingOf, openWorkflows, workflowRule } from './workflow-fixture.js';

const halfHour = 1_800_000;
const escalation = workflowRule([
  { kind: 'send', channels: ['in_app'] },
  { kind: 'wait_for', state: 'read', withinMs: halfHour },
  { kind: 'escalate' },
]);
const day = 86_400_000;

describe.each(stateStores)('workflow runner (%s state)', (_name, open) => {
  it('sends in-app, and emails only the user who has not read it within the wait', async () => {
    const state = open();
    const { runner, inbox, sent, reasons, pass } = openWorkflows(state);
    const firing = firingOf(escalation, 'f1');
    await runner.start(firing, 'reader');
    await runner.start(firing, 'ignorer');
    expect(sent.map((n) => [n.userId, n.channels, n.dedupKey, n.inbox])).toEqual([
      ['reader', ['in_app'], 'nudge/f1#0', undefined],
      ['ignorer', ['in_app'], 'nudge/f1#0', undefined],
    ]);
    await inbox.mark('dev', 'reader', [sent[0]!.id], 'read');

    await pass(halfHour - 1);
    expect(sent).toHaveLength(2);
    await pass(1);
    expect(sent.slice(2).map((n) => [n.userId, n.channels, n.dedupKey, n.inbox, n.title])).toEqual([
      ['ignorer', ['email'], 'nudge/f1#2', false, 'Plan was shared with you'],
    ]);
    // The email carries the same message: the inbox keeps the one in-app item.
    expect((await inbox.list('dev', 'ignorer')).items.map((i) => i.id)).toEqual([sent[1]!.id]);
    const started = ['workflow: started: 3 steps', 'workflow: send in_app as'];
    const waited = `workflow: wait_for read ${halfHour} ms`;
    expect(reasons('reader')).toEqual([
      ...[`${started[0]}`, `${started[1]} n1`, waited],
      'workflow: wait_for read met by n1: ended',
    ]);
    expect(reasons('ignorer')).toEqual([
      ...[`${started[0]}`, `${started[1]} n2`, waited],
      `workflow: wait_for read not met within ${halfHour} ms`,
      'workflow: escalate to send email as n3',
      'workflow: ended after its last step',
    ]);
  });

  it('runs once per firing and user, also when the firing comes again', async () => {
    const state = open();
    const { runner, sent, reasons, pass } = openWorkflows(state);
    await Promise.all([1, 2, 3].map(() => runner.start(firingOf(escalation, 'f1'), 'u1')));
    await pass(halfHour);
    await runner.start(firingOf(escalation, 'f1'), 'u1'); // after the run ended
    expect(sent.map((n) => n.channels[0])).toEqual(['in_app', 'email']);
    expect(reasons('u1').filter((r) => r.includes('started'))).toHaveLength(1);
    await runner.start(firingOf(escalation, 'f2'), 'u1'); // another firing: a run of its own
    expect(sent.map((n) => n.dedupKey)).toEqual(['nudge/f1#0', 'nudge/f1#2', 'nudge/f2#0']);
    // An ended run's record goes `keepEndedMs` after its end: f2 ended only now.
    await pass(7 * day);
    expect(
      (await state.list<{ status: string }>('rule/dev/nudge/run/')).map(([k, run]) => [
        k,
        run.status,
      ]),
    ).toEqual([['rule/dev/nudge/run/u1/f2', 'done']]);
  });

  it('ends a wait_for clicked on a click event for the run’s notification, from its user only', async () => {
    const clicks = workflowRule([
      { kind: 'send', channels: ['email'] },
      { kind: 'wait_for', state: 'clicked', withinMs: 60_000 },
      { kind: 'send', channels: ['in_app'] },
    ]);
    const { runner, sent, reasons, pass } = openWorkflows(open());
    for (const user of ['clicker', 'opener', 'other'])
      await runner.start(firingOf(clicks, 'f1'), user);
    const [clicked, opened] = sent;
    const events = [
      event('email.click', { userId: 'clicker' }, { notificationId: clicked!.id }),
      event('email.open', { userId: 'opener' }, { notificationId: opened!.id }),
      // Names the clicker's notification, but the user differs: not the clicker's run.
      event('notification.click', { userId: 'other' }, { notificationId: clicked!.id }),
    ];
    for (const task of runner.engagementTasks('dev', ['nudge'], events)) await task.run();
    await pass(60_000);
    expect(sent.slice(3).map((n) => n.userId)).toEqual(['opener', 'other']);
    expect(reasons('clicker').at(-1)).toBe(
      `workflow: wait_for clicked met by ${clicked!.id}: ended`,
    );
  });

  it('digests the firings of one key within the period into one send with their count', async () => {
    const digest = workflowRule(
      [
        { kind: 'digest', periodMs: 60_000, key: '{{props.doc}}' },
        { kind: 'send', channels: ['in_app'] },
      ],
      { title: '{{digest.count}} shares of {{props.doc}}' },
    );
    const state = open();
    const { runner, sent, reasons, pass } = openWorkflows(state);
    const firings = [
      firingOf(digest, 'f1', { doc: 'Plan' }),
      firingOf(digest, 'f2', { doc: 'Plan' }),
      firingOf(digest, 'f3', { doc: 'Memo' }),
      firingOf(digest, 'f4', { doc: 'Plan' }),
    ];
    for (const firing of firings) await runner.start(firing, 'u1');
    await runner.start(firings[1]!, 'u1'); // a firing repeated is one member, and its run ended
    expect(sent).toEqual([]);
    await pass(60_000);
    // Expected from the firings themselves: per doc, in order.
    const byDoc = new Map<string, string[]>();
    for (const f of firings) {
      const doc = (f.context.props as { doc: string }).doc;
      byDoc.set(doc, [...(byDoc.get(doc) ?? []), f.id]);
    }
    expect(
      sent.map((n) => [
        n.title,
        (n.variables.digest as { items: Array<{ id: string }> }).items.map((i) => i.id),
      ]),
    ).toEqual([...byDoc].map(([doc, ids]) => [`${ids.length} shares of ${doc}`, ids]));
    expect(reasons('u1')).toContain('workflow: digest: joined nudge/f1: ended');
    expect(reasons('u1')).toContain('workflow: digest closed: 3 firings');

    // The period is over: the next firing opens a new digest.
    await runner.start(firingOf(digest, 'f5', { doc: 'Plan' }), 'u1');
    await pass(60_000);
    expect(sent.map((n) => n.title).at(-1)).toBe('1 shares of Plan');
    expect(await state.list('rule/dev/nudge/digest/')).toEqual([]);
  });

  it('branches on a preference and on a field of the firing', async () => {
    const branching = workflowRule([
      {
        kind: 'branch',
        on: { preference: 'email' },
        exists: true,
        then: [{ kind: 'send', channels: ['email'] }],
        else: [{ kind: 'send', channels: ['in_app'] }],
      },
      { kind: 'delay', ms: 1000 },
      {
        kind: 'branch',
        on: { field: 'props.plan' },
        in: ['pro', 'team'],
        then: [{ kind: 'escalate' }],
      },
    ]);
    const { runner, preferences, sent, pass } = openWorkflows(open());
    await preferences.put('dev', 'mailed', { email: 'mailed@example.com' });
    await runner.start(firingOf(branching, 'f1', { plan: 'pro' }), 'mailed');
    await runner.start(firingOf(branching, 'f1', { plan: 'pro' }), 'app');
    await runner.start(firingOf(branching, 'f1', { plan: 'free' }), 'free');
    expect(sent.map((n) => [n.userId, n.channels[0]])).toEqual([
      ['mailed', 'email'],
      ['app', 'in_app'],
      ['free', 'in_app'],
    ]);
    await pass(1000);
    // Escalation after email has no channel left; after in-app it is email.
    expect(sent.slice(3).map((n) => [n.userId, n.channels[0], n.dedupKey])).toEqual([
      ['app', 'email', 'nudge/f1#2.then.0'],
    ]);
  });
});

describe('workflow runs across a restart and at rest', () => {
  it('escalates after a restart in the middle of the wait', async () => {
    const dir = tempDir('workflow-restart');
    const before = openLmdbStateStore(dir);
    const first = openWorkflows(before);
    await first.runner.start(firingOf(escalation, 'f1'), 'u1');
    await before.close();

    const after = openLmdbStateStore(dir);
    const second = openWorkflows(after);
    await second.pass(halfHour);
    expect(second.sent.map((n) => [n.userId, n.channels, n.dedupKey])).toEqual([
      ['u1', ['email'], 'nudge/f1#2'],
    ]);
    await after.close();
  });

  it('keeps the firing’s context sealed in the run', async () => {
    const state = createMemoryStateStore();
    const sealer = createSealer([{ id: 'k1', key: randomBytes(32) }]);
    const { runner, sent, pass } = openWorkflows(state, sealer);
    await runner.start(firingOf(escalation, 'f1', { doc: 'Secret plan' }), 'u1');
    const stored = await state.list<Record<string, unknown>>('rule/dev/nudge/run/');
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain('Secret plan');
    await pass(halfHour);
    expect(sent.map((n) => n.title)).toEqual(Array(2).fill('Secret plan was shared with you'));
  });
});

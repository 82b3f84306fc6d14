import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Channel, SendResult } from '../../src/notify/channel.js';
import type { DecisionLog } from '../../src/notify/decision-log.js';
import { createDelivery } from '../../src/notify/delivery.js';
import type { ChannelName, Notification } from '../../src/notify/notification.js';
import { openLmdbStateStore } from '../../src/state/lmdb-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import { createTimers, type Timer } from '../../src/state/timers.js';
import { openDecisionLog } from '../helpers/decision-log.js';

const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'backline-delivery-'));
let store: Awaited<ReturnType<typeof openDecisionLog>>;
let decisions: DecisionLog;

beforeAll(async () => {
  store = await openDecisionLog(dir);
  decisions = store.decisions;
});
afterAll(() => store.close());

/**
 * A push service as the internet would answer: scripted results, each call recorded with
 * its time. It stands in for a provider on the internet, not for backline code.
 */
function provider(script: SendResult[]): Channel & { calls: number[] } {
  const calls: number[] = [];
  return {
    name: 'web_push',
    calls,
    reachable: async () => true,
    async send() {
      calls.push(Date.now());
      return script[Math.min(calls.length - 1, script.length - 1)]!;
    },
  };
}

const notification = (id: string): Notification => ({
  id,
  ts: Date.now(),
  project: 'p',
  userId: 'u1',
  rule: 'r',
  category: 'c',
  title: 't',
  body: 'b',
  data: {},
  priority: 'normal',
  dedupKey: undefined,
  channels: ['web_push'],
  template: undefined,
  variables: {},
});

/** The one retry timer waiting in `state`. */
async function pendingRetry(state: StateStore): Promise<Timer> {
  const pending = await state.list<Timer>('timer/');
  expect(pending).toHaveLength(1);
  return pending[0]![1];
}

async function outcomes(id: string): Promise<string[]> {
  await decisions.durable();
  return (await decisions.query('p', 'u1', { notification: id }))
    .map((d) => `${d.attempt}:${d.outcome}`)
    .sort();
}

describe('delivery', () => {
  it('retries a retryable failure with backoff, honouring afterMs, then delivers', async () => {
    const state = openLmdbStateStore(join(dir, `state-${Date.now()}`));
    const timers = createTimers(state, log); // not started: checked by hand below
    const push = provider([
      { status: 'retry', reason: '429', afterMs: 300 },
      { status: 'retry', reason: '503' },
      { status: 'delivered' },
    ]);
    const delivery = createDelivery(
      { channels: new Map<ChannelName, Channel>([['web_push', push]]), timers, decisions, log },
      { retryBaseMs: 50, retryMaxMs: 200 },
    );
    await delivery.send('web_push', notification('n-retry'));
    // Each retry is a persistent timer, fired by hand at chosen times as the timers'
    // interval would: nothing before its due time, the next attempt at it.
    const first = await pendingRetry(state);
    expect(first.dueAt - push.calls[0]!).toBeGreaterThanOrEqual(300); // afterMs
    expect(await timers.fireDue(first.dueAt - 1)).toBe(0);
    expect(push.calls).toHaveLength(1);
    expect(await timers.fireDue(first.dueAt)).toBe(1);
    expect(push.calls).toHaveLength(2);
    const second = await pendingRetry(state);
    expect(await timers.fireDue(second.dueAt)).toBe(1);
    expect(push.calls).toHaveLength(3);
    expect(await state.list('timer/')).toEqual([]);
    expect(await outcomes('n-retry')).toEqual(['1:retrying', '2:retrying', '3:delivered']);
    await state.close();
  });

  it('records a dead letter after the last attempt', async () => {
    const state = openLmdbStateStore(join(dir, `state-dlq-${Date.now()}`));
    const timers = createTimers(state, log); // not started: checked by hand below
    const push = provider([{ status: 'retry', reason: '500' }]);
    const delivery = createDelivery(
      { channels: new Map<ChannelName, Channel>([['web_push', push]]), timers, decisions, log },
      { maxAttempts: 3, retryBaseMs: 10, retryMaxMs: 20 },
    );
    await delivery.send('web_push', notification('n-dead'));
    expect(await timers.fireDue((await pendingRetry(state)).dueAt)).toBe(1); // attempt 2
    expect(await timers.fireDue((await pendingRetry(state)).dueAt)).toBe(1); // attempt 3
    expect(push.calls).toHaveLength(3);
    expect(await state.list('timer/')).toEqual([]); // nothing after the last attempt
    expect(await outcomes('n-dead')).toEqual(['1:retrying', '2:retrying', '3:dead_letter']);
    await state.close();
  });

  it('keeps a pending retry through a restart (the timer is persisted)', async () => {
    const path = join(dir, `state-restart-${Date.now()}`);
    let state = openLmdbStateStore(path);
    let timers = createTimers(state, log, { checkEveryMs: 10 });
    const first = provider([{ status: 'retry', reason: '503', afterMs: 200 }]);
    await createDelivery({
      channels: new Map<ChannelName, Channel>([['web_push', first]]),
      timers,
      decisions,
      log,
    }).send('web_push', notification('n-restart'));
    await state.close();

    state = openLmdbStateStore(path);
    timers = createTimers(state, log, { checkEveryMs: 10 });
    const second = provider([{ status: 'delivered' }]);
    createDelivery({
      channels: new Map<ChannelName, Channel>([['web_push', second]]),
      timers,
      decisions,
      log,
    });
    // Default backoff: the retry is due 0.5–1 s after the first attempt.
    expect(await timers.fireDue(Date.now() + 2000)).toBe(1);
    expect(second.calls).toHaveLength(1);
    expect(await outcomes('n-restart')).toEqual(['1:retrying', '2:delivered']);
    await state.close();
  });
});

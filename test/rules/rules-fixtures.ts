import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { NotificationIntent } from '../../src/notify/notification.js';
import type { StreamEvent } from '../../src/model/event.js';
import type { WindowResult } from '../../src/model/window-result.js';
import type { defaultProjectQueueOptions } from '../../src/rules/project-queue.js';
import { createRulesService } from '../../src/rules/rules-service.js';
import { ruleSpecSchema, type RuleSpec } from '../../src/rules/rule-spec.js';
import { openLmdbStateStore } from '../../src/state/lmdb-state-store.js';
import { createMemoryStateStore } from '../../src/state/memory-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import { createTimers, type Timers } from '../../src/state/timers.js';
import type { SegmentQuery } from '../../src/rules/audience.js';

export const log = pino({ level: 'silent' });

export const tempDir = (name: string): string => mkdtempSync(join(tmpdir(), `backline-${name}-`));

/** Every StateStore implementation, for suites that run against each (Hono's shared suites). */
export const stateStores: Array<[string, () => StateStore]> = [
  ['memory', createMemoryStateStore],
  ['lmdb', () => openLmdbStateStore(tempDir('rules-state'))],
];

/** Rules that never query segments get a segment query that fails loudly if they do. */
export const noSegments: SegmentQuery = {
  users: () => Promise.reject(new Error('no ClickHouse in this test')),
};

/** A rule through the real schema, so tests see the defaults a user gets. */
export const rule = (spec: Record<string, unknown>): RuleSpec => ruleSpecSchema.parse(spec);

let nextId = 0;
export function event(
  type: string,
  fields: Partial<StreamEvent> = {},
  props: Record<string, unknown> = {},
): StreamEvent {
  nextId += 1;
  return {
    id: `ev${nextId}`,
    type,
    ts: Date.now(),
    userId: '',
    anonymousId: '',
    sessionId: '',
    props,
    ...fields,
  };
}

export function windowOf(
  stream: string,
  values: Record<string, unknown>,
  fields: Partial<WindowResult> = {},
): WindowResult {
  return { stream, start: 0, end: 60_000, key: '', values, final: false, rev: 1, ...fields };
}

/**
 * A rules service on `state` with real persistent timers, routing into `intents`. Tests
 * check the timers by hand at chosen times (`timers.fireDue(at)`, what their interval calls
 * with the clock's time), so no outcome depends on how fast the machine runs.
 */
export function openRules(
  state: StateStore,
  rules: Record<string, RuleSpec[]>,
  options: {
    segments?: SegmentQuery;
    route?: (intent: NotificationIntent) => Promise<void>;
    queue?: Partial<typeof defaultProjectQueueOptions>;
  } = {},
) {
  const intents: NotificationIntent[] = [];
  const timers: Timers = createTimers(state, log);
  const service = createRulesService(
    {
      state,
      timers,
      segments: options.segments ?? noSegments,
      route: options.route ?? (async (intent) => void intents.push(intent)),
      log,
    },
    rules,
    options.queue,
  );
  return { service, timers, intents };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

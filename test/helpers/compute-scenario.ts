import { expect } from 'vitest';
import { partitionOf } from '../../src/cluster/event-log.js';
import type { StreamEvent } from '../../src/model/event.js';
import { streamSpecSchema } from '../../src/pipeline/stream-spec.js';
import { ruleSpecSchema } from '../../src/rules/rule-spec.js';
import { finalsOf, partitions, revsGoingBack, type ComputeCluster } from './compute-cluster.js';
import type { ComputeNode } from './compute-node.js';
import { eventually } from './eventually.js';

export const streams = [
  // Per key in 1 s windows, with a lateness that lets late events re-emit finals.
  streamSpecSchema.parse({
    name: 'per_key',
    source: { types: ['play'] },
    groupBy: ['props.k'],
    window: { kind: 'tumbling', sizeMs: 1000 },
    aggregates: [
      { name: 'n', fn: 'count' },
      { name: 'v', fn: 'sum', field: 'props.v' },
    ],
    outOfOrderMs: 200,
    allowedLatenessMs: 2000,
    idleTickMs: 60_000,
  }),
  // One wide window with early revisions: open across a whole handover.
  streamSpecSchema.parse({
    name: 'early_total',
    source: { types: ['play'] },
    window: { kind: 'tumbling', sizeMs: 20_000 },
    aggregates: [{ name: 'n', fn: 'count' }],
    outOfOrderMs: 0,
    allowedLatenessMs: 1000,
    idleTickMs: 60_000,
    emit: { mode: 'early', everyMs: 30 },
  }),
  streamSpecSchema.parse({
    name: 'sessions',
    source: { types: ['play'] },
    groupBy: ['userId'],
    window: { kind: 'session', gapMs: 300 },
    aggregates: [{ name: 'n', fn: 'count' }],
    outOfOrderMs: 100,
    allowedLatenessMs: 1000,
    idleTickMs: 60_000,
  }),
];

export const welcome = ruleSpecSchema.parse({
  name: 'welcome',
  trigger: { kind: 'event', types: ['signup'] },
  audience: { kind: 'user' },
  notification: { category: 'onboarding', title: 'Welcome', body: '' },
});

// Event times ten minutes ahead: the wall-clock idle tick (now − outOfOrderMs) never moves a
// watermark, so windows close by event time alone and every run computes the same finals.
export const base = Math.ceil((Date.now() + 600_000) / 20_000) * 20_000;

const event = (project: string, id: string, fields: Partial<StreamEvent>): StreamEvent => ({
  id: `${project}-${id}`,
  type: 'play',
  ts: base,
  userId: '',
  anonymousId: '',
  sessionId: '',
  props: {},
  ...fields,
});

/** Play `i`: 50 ms apart, with a 1 s pause every 20 (sessions end there). */
export const play = (project: string, i: number, ts = base + i * 50 + Math.floor(i / 20) * 1000) =>
  event(project, `play-${i}`, { ts, userId: `u${i % 3}`, props: { k: 'xyz'[i % 3], v: i % 7 } });

export const signup = (project: string, n: string) =>
  event(project, `signup-${n}`, { type: 'signup', userId: `${project}-user-${n}` });

/**
 * What the tests do to a cluster of these `projects` (each on a partition of its own, so
 * tests on one ClickHouse do not read each other's events): append plays and signups as
 * ingest would, then compare with the single pipeline.
 */
export function scenario(cluster: ComputeCluster, projects: readonly string[]) {
  expect(new Set(projects.map((p) => partitionOf(p, partitions))).size).toBe(projects.length);
  return {
    /** Plays `from`…`to` (inclusive) of every project, five per frame. */
    async plays(from: number, to: number) {
      for (const project of projects)
        for (let i = from; i <= to; i += 5) {
          const frame = [];
          for (let j = i; j <= Math.min(to, i + 4); j++) frame.push(play(project, j));
          await cluster.append(project, frame);
        }
    },
    /** One play at `ts` per project: a late one, or one far ahead that closes every window. */
    async playAt(i: number, ts: number) {
      for (const project of projects) await cluster.append(project, [play(project, i, ts)]);
    },
    async signups(names: string[]) {
      for (const project of projects)
        await cluster.append(
          project,
          names.map((n) => signup(project, n)),
        );
    },
  };
}

export const openWithRules = (
  openCluster: (
    specs: Record<string, typeof streams>,
    rules: Record<string, Array<typeof welcome>>,
  ) => Promise<ComputeCluster>,
  projects: readonly string[],
) =>
  openCluster(
    Object.fromEntries(projects.map((p) => [p, streams])),
    Object.fromEntries(projects.map((p) => [p, [welcome]])),
  );

type Metric = { get(): Promise<{ values: Array<{ value: number; labels: object }> }> };

/** A counter's or gauge's value for exactly these labels (0 when never set). */
export const value = async (metric: Metric, labels: object = {}) =>
  (await metric.get()).values.find((v) => JSON.stringify(v.labels) === JSON.stringify(labels))
    ?.value ?? 0;

/** Every partition held by exactly one of the nodes, taken over and being consumed. */
export async function ownedByOne(nodes: ComputeNode[]) {
  await eventually(
    async () => {
      const takeovers = await Promise.all(nodes.map((n) => value(n.metrics.takeovers)));
      const owned = nodes.flatMap((n) => n.owner.owned()).length;
      return owned === partitions && takeovers.reduce((a, b) => a + b) >= partitions;
    },
    15_000,
    'every partition taken over',
  );
  expect(nodes.flatMap((n) => n.owner.owned()).sort()).toEqual([0, 1, 2, 3]);
}

/** The finals published on the bus are the single pipeline's, window by window, in order. */
export async function expectSameFinals(cluster: ComputeCluster) {
  const expected = finalsOf(cluster.expected);
  expect(expected.size).toBeGreaterThan(50);
  await eventually(
    () => finalsOf(cluster.observed).size >= expected.size,
    15_000,
    'every final published',
  );
  expect(finalsOf(cluster.observed)).toEqual(expected);
  expect(revsGoingBack(cluster.observed)).toEqual([]);
}

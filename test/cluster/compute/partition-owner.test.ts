import { describe, expect, it } from 'vitest';
import { readCursor } from '../../../src/cluster/compute/partition-cursor.js';
import { partitionOf } from '../../../src/cluster/event-log.js';
import { partitions, useComputeCluster } from '../../helpers/compute-cluster.js';
import {
  base,
  expectSameFinals,
  openWithRules,
  ownedByOne,
  scenario,
  signup,
  value,
} from '../../helpers/compute-scenario.js';
import { eventually } from '../../helpers/eventually.js';

const { openCluster } = useComputeCluster();

describe('partition owner', () => {
  it('lets exactly one node consume each partition, with the finals of a single pipeline', async () => {
    const projects = ['alpha', 'gamma', 'delta'];
    const cluster = await openWithRules(openCluster, projects);
    const run = scenario(cluster, projects);
    await cluster.startStorage();
    const nodes = [await cluster.startNode('a'), await cluster.startNode('b')];
    await ownedByOne(nodes);

    await run.plays(0, 99);
    await run.signups(['1', '2']);
    await run.playAt(999, base + 100_000);
    await expectSameFinals(cluster);

    // Each event went to the streams of exactly one node: its partition's owner.
    const fed = nodes.flatMap((n) => n.fed.map((f) => ({ ...f, node: n })));
    expect(fed).toHaveLength(projects.length * (100 + 2 + 1)); // plays, signups, the last play
    expect(new Set(fed.map((f) => f.id)).size).toBe(fed.length);
    for (const { project, node } of fed)
      expect(node.owner.owned()).toContain(partitionOf(project, partitions));
    for (const node of nodes) await node.rules.idle();
    expect(nodes.flatMap((n) => [...n.routed.values()])).toEqual(
      Array(projects.length * 2).fill(1),
    );
  });

  it('hands over a killed owner’s partitions: exact finals, none twice, revs only grow, rules once per entry', async () => {
    const projects = ['eight', 'nine', 'six'];
    const [first] = projects as [string];
    const cluster = await openWithRules(openCluster, projects);
    const run = scenario(cluster, projects);
    const stopStorage = await cluster.startStorage();
    let killed!: () => void;
    const dead = new Promise<void>((resolve) => (killed = resolve));
    const a = await cluster.startNode('a', {
      afterRoute(intent) {
        if (intent.userId !== signup(first, 'x').userId) return;
        a.kill(); // the rule work of entry X is done; the cursor cannot include it any more
        killed();
      },
    });
    await ownedByOne([a]);
    const b = await cluster.startNode('b');

    const cursorAtNewest = async (project: string) => {
      const newest = await cluster.newestEntry(project);
      const cursor = () => readCursor(cluster.client, partitionOf(project, partitions));
      await eventually(async () => (await cursor()) === newest, 15_000, 'cursor at the newest');
    };
    // Phase 1: consumed by A up to its cursor, then stored and trimmed from the log.
    await run.plays(0, 30);
    await run.playAt(1001, base + 1500); // late, within the lateness of its window
    await run.plays(31, 44);
    for (const project of projects) {
      await cursorAtNewest(project);
      await eventually(async () => (await cluster.logLength(project)) === 0, 15_000, 'trimmed');
    }
    // Storage stops: from here on, entries stay in the log, before the cursor too.
    await stopStorage();
    await run.plays(45, 49);
    await run.signups(['1', '2']);
    for (const project of projects) await cursorAtNewest(project);
    await cluster.append(first, [signup(first, 'x')]);
    await dead;
    // Appended while nobody owns the partitions: they close windows A had open.
    await run.plays(50, 61);
    await run.signups(['3']);

    await ownedByOne([b]);
    await cluster.startStorage(); // stopped after the test
    await run.playAt(1002, base + 4500); // late, into a window closed during the takeover
    await run.plays(62, 99);
    await run.signups(['4']);
    await run.playAt(999, base + 100_000);
    await expectSameFinals(cluster);
    expect(await value(b.metrics.takeoverEvents, { source: 'stored' })).toBeGreaterThan(0);
    expect(await value(b.metrics.takeoverEvents, { source: 'log' })).toBeGreaterThan(0);
    expect(await value(b.metrics.takeoverFinals, { outcome: 'seen' })).toBeGreaterThan(0);
    expect(await value(b.metrics.takeoverFinals, { outcome: 'emitted' })).toBeGreaterThan(0);

    // Rules: entries up to A's cursor ran once, X (after it) on both nodes, later ones on B.
    await b.rules.idle();
    const runs = (p: string, n: string) => {
      const key = `welcome/${p}-signup-${n}`;
      return [n, a.routed.get(key) ?? 0, b.routed.get(key) ?? 0];
    };
    for (const p of projects) {
      expect(['1', '2'].map((n) => runs(p, n))).toEqual([
        ['1', 1, 0],
        ['2', 1, 0],
      ]);
      expect(['3', '4'].map((n) => runs(p, n))).toEqual([
        ['3', 0, 1],
        ['4', 0, 1],
      ]);
    }
    expect(runs(first, 'x')).toEqual(['x', 1, 1]);
    // …and the router's de-dup key made X one notification: one inbox item per user.
    const items = await cluster.client.zrangebylex('state-index', '[inbox/', '[inbox0');
    const users = items.map((key) => decodeURIComponent(key.split('/')[2]!)).sort();
    const signups = projects.flatMap((p) => ['1', '2', '3', '4'].map((n) => signup(p, n).userId));
    expect(users).toEqual([...signups, signup(first, 'x').userId].sort());
  });

  it('stops consuming and drops its open windows when its leases go; the next owner goes on', async () => {
    const projects = ['ten', 'blue', 'one'];
    const cluster = await openWithRules(openCluster, projects);
    const run = scenario(cluster, projects);
    await cluster.startStorage();
    const a = await cluster.startNode('a');
    await ownedByOne([a]);
    const b = await cluster.startNode('b');
    await run.plays(0, 49);
    await eventually(() => a.fed.length === projects.length * 50, 15_000, 'A fed phase 1');
    expect(a.pipeline.openWindowCount()).toBeGreaterThan(0);

    await a.leases.close(); // a clean shutdown: lost, then released
    expect(a.owner.owned()).toEqual([]);
    expect(a.pipeline.openWindowCount()).toBe(0);
    await ownedByOne([b]);
    await run.plays(50, 99);
    await run.playAt(999, base + 100_000);
    await expectSameFinals(cluster);
    expect(a.fed).toHaveLength(projects.length * 50);
    expect(b.fed).toHaveLength(projects.length * 51);
  });
});

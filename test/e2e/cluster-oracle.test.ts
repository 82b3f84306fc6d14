import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accuracyScenario,
  accuracyStreamNames,
  accuracyStreams,
  accuracyWindows,
  framesOf,
  type AccuracyStream,
} from '../helpers/accuracy-scenario.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import type { GeneratedEvent } from '../helpers/event-generator.js';
import { eventually } from '../helpers/eventually.js';
import { openProducer, type LiveWindow, type Producer } from '../helpers/live-client.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';
import { connect, stats, type Message, type SocketClient } from '../helpers/socket-client.js';
import { nearQuantile, oracleWindows } from '../helpers/window-oracle.js';

// Event time: 20 bursts of 200 ms, 500 ms apart, from t0 (two minutes ago, aligned).
const t0 = Math.floor((Date.now() - 120_000) / 10_000) * 10_000;
const key = 'cluster_oracle_key_0123456789';
const config = {
  projects: [{ id: 'acc', keys: [{ key, scopes: ['ingest', 'read'] }], streams: accuracyStreams }],
  cluster: { leaseTtlMs: 2000 },
};
const scenario = accuracyScenario(t0);
const oracle = new Map(
  accuracyStreamNames.map((name) => [name, oracleWindows(scenario.counted, accuracyWindows[name])]),
);

/** Each frame with the nodes (0-based) it goes to: two nodes at once for one of them. */
function framePlan(): Array<{ events: GeneratedEvent[]; to: number[] }> {
  const plan: Array<{ events: GeneratedEvent[]; to: number[] }> = [];
  const sentTo = new Map<string, number>();
  let next = 0;
  const roundRobin = (events: GeneratedEvent[]) => {
    const to = next++ % 3;
    for (const event of events) sentTo.set(event.id, to);
    plan.push({ events, to: [to] });
  };
  framesOf(scenario.arrival.slice(0, 2000)).forEach(roundRobin);
  // Resent ids go to another node than the one that took them first.
  for (const first of [0, 1, 2]) {
    const resent = scenario.duplicates.filter((event) => sentTo.get(event.id) === first);
    for (const events of framesOf(resent)) plan.push({ events, to: [(first + 1) % 3] });
  }
  const rest = framesOf(scenario.arrival.slice(2000));
  rest.slice(0, -1).forEach(roundRobin);
  plan.push({ events: rest[rest.length - 1]!, to: [1, 2] }); // the same frame to two nodes at once
  for (const events of [
    [scenario.push1],
    [...scenario.lateWithin, ...scenario.tooLate],
    [scenario.push2],
  ])
    roundRobin(events);
  return plan;
}

type Finals = Map<AccuracyStream, Map<string, LiveWindow>>;

interface Outcome {
  finals: Finals[]; // per dashboard
  tables: Array<Map<AccuracyStream, LiveWindow[]>>; // per node
  acks: { accepted: number; duplicates: number };
  counts: number[]; // stored `acc` events, per node
  late: Array<Record<string, number>>; // late-event counters, per node
}

let cluster: TestCluster;
let single: ServerProcess;
const sockets: Array<{ close(): void }> = [];
let clustered: Outcome;
let alone: Outcome;

beforeAll(async () => {
  [cluster, single] = await Promise.all([
    startCluster({ config, key }),
    startServer({ config, key }),
  ]);
  // No partition moves while the events flow: the shares have settled.
  await eventually(
    async () => (await cluster.partitionsHeld()).sort((a, b) => a - b).join() === '5,5,6',
    60_000,
    'the partitions spread 5/5/6',
    250,
  );
  const nodes = [1, 2, 3].map((n) => cluster.node(n));
  [clustered, alone] = await Promise.all([run(nodes), run([single])]);
}, 300_000);

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await Promise.all([cluster?.stop(), single?.stop()]);
  if (single) removeDir(single.dataDir);
}, 60_000);

/** Sends the plan over `nodes` (one node: every frame to it, in order) and reads what came out. */
async function run(nodes: ServerProcess[]): Promise<Outcome> {
  const dashboards = await Promise.all(nodes.map((node) => dashboard(node)));
  const producers: Producer[] = await Promise.all(
    nodes.map((node) => openProducer(node.wsUrl, key)),
  );
  sockets.push(...producers);
  const acks = { accepted: 0, duplicates: 0 };
  const count = (ack: Message) => {
    acks.accepted += ack.accepted as number;
    acks.duplicates += ack.duplicates as number;
  };
  for (const { events, to } of framePlan()) {
    if (nodes.length === 1) for (const _ of to) count(await producers[0]!.send(events));
    else (await Promise.all(to.map((n) => producers[n]!.send(events)))).forEach(count);
  }
  const finals = await Promise.all(dashboards.map((live) => collectFinals(live)));
  const tables = await Promise.all(nodes.map((node) => windowTables(node, finals[0]!)));
  const counts = await Promise.all(nodes.map((node) => storedCount(node)));
  const late = await Promise.all(nodes.map((node) => lateCounters(node)));
  return { finals, tables, acks, counts, late };
}

async function dashboard(node: ServerProcess): Promise<SocketClient> {
  const live = await connect(`${node.wsUrl}/v1/live?key=${key}`);
  sockets.push(live);
  for (const name of accuracyStreamNames) {
    live.send({ t: 'sub', id: name, stream: name });
    expect(await live.nextMessage(30_000)).toMatchObject({ t: 'snapshot', id: name });
  }
  return live;
}

/** The newest final of every window (flush group left out), once every window has one and 1.5 s passed quietly. */
async function collectFinals(live: SocketClient): Promise<Finals> {
  const finals: Finals = new Map(accuracyStreamNames.map((name) => [name, new Map()]));
  const complete = () =>
    accuracyStreamNames.every((name) => finals.get(name)!.size === oracle.get(name)!.length);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const wait = complete() ? 1500 : deadline - Date.now();
    const message = await live.nextMessage(Math.max(wait, 1)).catch(() => undefined);
    if (!message) {
      if (complete()) return finals;
      const sizes = accuracyStreamNames.map((name) => finals.get(name)!.size);
      throw new Error(`finals incomplete by the deadline: ${sizes}`);
    }
    if (message.t !== 'window') continue;
    const w = message.w as LiveWindow;
    if (!w.final || w.key === 'flush') continue;
    const byWindow = finals.get(message.id as AccuracyStream)!;
    const id = `${w.start}/${w.key}`;
    if ((byWindow.get(id)?.rev ?? 0) < w.rev) byWindow.set(id, w);
  }
}

/** `GET /v1/streams/:name/windows` of every stream, once it holds as many windows as `finals`. */
async function windowTables(node: ServerProcess, finals: Finals) {
  const tables = new Map<AccuracyStream, LiveWindow[]>();
  for (const name of accuracyStreamNames) {
    let windows: LiveWindow[] = [];
    await eventually(
      async () => {
        const url = `${node.url}/v1/streams/${name}/windows?from=${t0 - 10_000}&to=${t0 + 60_000}`;
        const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
        windows = ((await res.json()) as { windows: LiveWindow[] }).windows.filter(
          (w) => w.key !== 'flush',
        );
        return windows.length === finals.get(name)!.size;
      },
      30_000,
      `${name}'s window table on ${node.url}`,
      250,
    );
    tables.set(name, sorted(windows));
  }
  return tables;
}

/** Stored `acc` events as the node's stats say, once they stop growing (or reach every id). */
async function storedCount(node: ServerProcess): Promise<number> {
  let count = 0;
  await eventually(
    async () => (count = (await stats(node.url, key)).counts.acc ?? 0) >= scenario.unique.length,
    30_000,
    `every event stored, as ${node.url} counts`,
    250,
  ).catch(() => undefined); // the count as it is then is what the test compares
  return count;
}

async function lateCounters(node: ServerProcess): Promise<Record<string, number>> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const counters: Record<string, number> = {};
  for (const match of text.matchAll(/^backline_pipeline_late_events_total\{(.*)\} (\d+)$/gm))
    counters[match[1]!] = Number(match[2]);
  return counters;
}

const sorted = (windows: Iterable<LiveWindow>) =>
  [...windows].sort((a, b) => a.start - b.start || (a.key < b.key ? -1 : 1));
const strip = ({ start, end, key: k, values }: LiveWindow) => ({ start, end, key: k, values });
/** Late-event counters summed over nodes (a partition's owner counts them). */
const summed = (late: Array<Record<string, number>>) => {
  const sum: Record<string, number> = {};
  for (const counters of late)
    for (const [labels, value] of Object.entries(counters))
      sum[labels] = (sum[labels] ?? 0) + value;
  return sum;
};

describe('three nodes, events spread over them, against one node and the oracle', () => {
  it('acks each id once across the nodes, resent and sent to two nodes at once included', () => {
    const resentAtOnce = framePlan().find((frame) => frame.to.length === 2)!.events.length;
    const want = {
      accepted: scenario.unique.length,
      duplicates: scenario.duplicates.length + resentAtOnce,
    };
    expect(clustered.acks).toEqual(want);
    expect(alone.acks).toEqual(want);
  });

  it('stores every id once: the stored counts of every node are those of one node', () => {
    expect(clustered.counts).toEqual([1, 2, 3].map(() => scenario.unique.length));
    expect(alone.counts).toEqual([scenario.unique.length]);
  });

  it.each(accuracyStreamNames)(
    '%s: the same finals on every node’s dashboard as on one node’s, revs included',
    (name) => {
      const one = sorted(alone.finals[0]!.get(name)!.values());
      expect(one.length).toBe(oracle.get(name)!.length);
      for (const finals of clustered.finals)
        expect(sorted(finals.get(name)!.values())).toEqual(one);
    },
  );

  it.each(accuracyStreamNames)(
    '%s: the same window table from every node as the finals',
    (name) => {
      const want = sorted(alone.finals[0]!.get(name)!.values()).map(strip);
      expect(alone.tables[0]!.get(name)!.map(strip)).toEqual(want);
      for (const tables of clustered.tables) expect(tables.get(name)!.map(strip)).toEqual(want);
    },
  );

  it.each(accuracyStreamNames)(
    '%s: finals equal to the oracle over the unique events (exact but the sketch)',
    (name) => {
      const got = sorted(clustered.finals[0]!.get(name)!.values());
      const want = oracle.get(name)!;
      expect(got.map((w) => `${w.start}/${w.key}/${w.end}`)).toEqual(
        want.map((w) => `${w.start}/${w.key}/${w.end}`),
      );
      want.forEach((exact, i) => {
        const { values } = got[i]!;
        for (const agg of ['n', 'total', 'lo', 'hi', 'users'] as const)
          expect(values[agg], `${exact.start}/${exact.key} ${agg}`).toBe(exact.values[agg]);
        expect(values.mean as number).toBeCloseTo(exact.values.mean, 9);
        const q = values.q as Record<string, number>;
        expect(nearQuantile(q.p50!, exact.vs, 0.5), `p50 of ${exact.start}/${exact.key}`).toBe(
          true,
        );
        expect(nearQuantile(q.p90!, exact.vs, 0.9), `p90 of ${exact.start}/${exact.key}`).toBe(
          true,
        );
      });
    },
  );

  it('counts late events (within the lateness, too late) as one node does', () => {
    const cluster = summed(clustered.late);
    const one = summed(alone.late);
    for (const name of accuracyStreamNames) {
      const label = (kind: string) => `stream="${name}",kind="${kind}"`;
      expect(one[label('too_late')]).toBe(scenario.tooLate.length);
      expect(one[label('within')]).toBe(scenario.lateWithin.length);
      expect(cluster[label('too_late')]).toBe(scenario.tooLate.length);
      expect(cluster[label('within')]).toBe(scenario.lateWithin.length);
    }
  });
});

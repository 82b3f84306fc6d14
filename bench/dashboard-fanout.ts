import { randomBytes } from 'node:crypto';
import { sleep } from './deadline.js';
import { openEventSender, type EventSender } from './event-sender.js';
import { roundRunner, summarizeRounds, type RoundFigures } from './fanout-rounds.js';
import { mergeCounts } from './fleet-result.js';
import { createLiveFleet } from './live-fleet.js';
import { openFleet } from './load-fleet.js';
import { byCode, count, ms } from './number-format.js';
import type { BenchOptions } from './options.js';
import { startCpuSample } from './proc-stats.js';
import type { Scenario, ScenarioResult } from './scenario.js';
import { scrapeMetrics } from './server-metrics.js';
import { describeServer, type ServerProcess } from './server-process.js';
import { withServer } from './with-server.js';
import { workerCommand } from './worker-process.js';

const name = 'dashboard-fanout';
const warmupRounds = 2;
const rounds = 10;
const everyMs = 100;
// Between rounds, so one round's publish never overlaps the next one's send.
const rounding = { timeoutMs: 10_000, pauseMs: 100, everyMs };
// Server CPU is also read over this long with the dashboards subscribed and nothing sent.
const idleMs = 1000;

/**
 * One window per round (grouped by `props.round`), early updates every 100 ms. A day-long
 * window closes during no run (barring midnight UTC), so the rounds' early updates are the
 * only broadcasts the dashboards get.
 */
const fanoutStream = {
  name: 'fanout',
  source: { types: ['fanout'] },
  groupBy: ['props.round'],
  window: { kind: 'tumbling', sizeMs: 86_400_000 },
  aggregates: [{ name: 'events', fn: 'count' }],
  emit: { mode: 'early', everyMs },
};
const settings = { project: { streams: [fanoutStream] } };

/**
 * Issue "Load benchmark suite", item 4: `sockets` dashboards over the worker fleet each
 * subscribe to one stream; one event over /v1/ingest then makes one window update, and each
 * dashboard's delay from the event's send to that update is measured, round after round.
 */
export const dashboardFanout: Scenario = { name, run: runFanout };

async function runFanout(options: BenchOptions): Promise<ScenarioResult> {
  const commands = [
    describeServer(settings),
    `${options.workers} × ${workerCommand}: the dashboards, on /v1/live`,
    'one ingest socket in the runner (bench/event-sender.ts) sends each round’s event',
  ];
  return withServer(name, settings, commands, async (server) => {
    const figures = await measureFanout(server, options);
    return { ...verdict(figures, server), figures, table: table(figures), notes: notes() };
  });
}

/** Opens and subscribes the dashboards, then runs the warm-up and the measured rounds. */
async function measureFanout(server: ServerProcess, options: BenchOptions) {
  const fleet = await openFleet({
    transport: 'ws',
    url: `ws://127.0.0.1:${server.port}/v1/live?key=${server.key}`,
    sockets: options.sockets,
    workers: options.workers,
    connectTimeoutMs: 30_000,
  });
  let sender: EventSender | undefined;
  try {
    const live = createLiveFleet(fleet);
    const sub = await live.subscribe({ t: 'sub', id: 1, stream: fanoutStream.name }, 30_000);
    sender = await openEventSender(`ws://127.0.0.1:${server.port}/v1/ingest?key=${server.key}`);
    const idle = await idleCpu(server);
    const round = roundRunner(server, sender, live, randomBytes(4).toString('hex'), rounding);
    for (let i = 0; i < warmupRounds; i += 1) await round(`w${i}`, false);
    await scrapeMetrics(server.port); // resets the server's event-loop statistics
    const measured: RoundFigures[] = [];
    for (let i = 0; i < rounds; i += 1) measured.push(await round(`r${i}`, true));
    const lag = (await scrapeMetrics(server.port)).get(
      'backline_ops_event_loop_lag_seconds{stat="max"}',
    );
    return {
      dashboards: options.sockets,
      opened: fleet.opened,
      subscribed: sub.subscribed,
      connectMs: fleet.connectMs,
      workers: options.workers,
      rounds: measured.length,
      latencyMs: live.latency.summary(),
      ...summarizeRounds(measured),
      idleServerCpuPercent: idle.all,
      idleServerMainThreadCpuPercent: idle.main,
      eventLoopDelayMaxMs: lag === undefined ? NaN : lag * 1000,
      errors: mergeCounts([fleet.errors, sub.errors, ...measured.map((r) => r.errors)]),
    };
  } finally {
    await sender?.close();
    await fleet.close();
  }
}

type Figures = Awaited<ReturnType<typeof measureFanout>>;

function verdict(f: Figures, server: ServerProcess) {
  if (!server.alive())
    return { ok: false, failure: `server died during the run:\n${server.logTail().join('\n')}` };
  if (f.subscribed < f.dashboards)
    return {
      ok: false,
      failure: `${count(f.subscribed)} of ${count(f.dashboards)} dashboards subscribed`,
    };
  if (f.missingDeliveries > 0)
    return {
      ok: false,
      failure: `${count(f.missingDeliveries)} updates never reached their dashboard`,
    };
  return { ok: true };
}

function table(f: Figures): ScenarioResult['table'] {
  const { latencyMs: latency } = f;
  return [
    [
      'dashboards subscribed',
      `${count(f.subscribed)} of ${count(f.dashboards)}, from ${f.workers} worker processes`,
    ],
    ['rounds measured (after warm-up)', `${f.rounds} (+${warmupRounds})`],
    ['updates delivered', count(latency.samples)],
    [
      'send → update latency p50 / p99 / max',
      `${ms(latency.p50Ms)} / ${ms(latency.p99Ms)} / ${ms(latency.maxMs)}`,
    ],
    [
      'send → last dashboard, per round: median / max',
      `${ms(f.untilLastDashboardMs.median)} / ${ms(f.untilLastDashboardMs.max)}`,
    ],
    [
      'first → last dashboard, per round: median / max',
      `${ms(f.spreadMs.median)} / ${ms(f.spreadMs.max)}`,
    ],
    [
      'server CPU, send → last delivery: all threads / main thread (100 % = one core)',
      `${percent(f.serverCpuPercent)} / ${percent(f.serverMainThreadCpuPercent)}`,
    ],
    [
      `server CPU idle with the dashboards (${idleMs / 1000} s): all threads / main thread`,
      `${percent(f.idleServerCpuPercent)} / ${percent(f.idleServerMainThreadCpuPercent)}`,
    ],
    [
      'server main-thread CPU per round: total / of it in the kernel (socket writes)',
      `${ms(f.serverMainThreadMsPerRound)} / ${ms(f.serverMainThreadSystemMsPerRound)}`,
    ],
    ['server event-loop delay max (its 10 ms sampling timer included)', ms(f.eventLoopDelayMaxMs)],
    ['time to open the dashboards', `${(f.connectMs / 1000).toFixed(2)} s`],
    ['errors', byCode(f.errors)],
  ];
}

const percent = (n: number) => (Number.isFinite(n) ? `${n.toFixed(1)} %` : 'n/a');

/** Server CPU over `idleMs` with the dashboards subscribed and nothing sent. */
async function idleCpu(server: ServerProcess) {
  const cpu = startCpuSample(server.pid);
  await sleep(idleMs);
  const sample = cpu.read();
  if (!sample) return { all: NaN, main: NaN };
  const { wallSeconds: wall } = sample;
  return { all: (sample.cpuSeconds / wall) * 100, main: (sample.mainThreadSeconds / wall) * 100 };
}

function notes(): string[] {
  return [
    'The stream emits early updates every 100 ms, so send → update holds up to 100 ms of ' +
      'waiting for the emit timer; first → last dashboard is the publish and the delivery ' +
      'alone. Times are taken on the machine’s monotonic clock, which the runner and the ' +
      'workers share (bench/machine-clock.ts); a dashboard’s time is when its worker read the ' +
      'message, so the workers’ own queueing (they share the two cores) is in the figures. ' +
      'Server CPU comes from /proc in 10 ms ticks, summed over the rounds; the rounds’ wall ' +
      'time includes the wait for the emit timer, so compare it with the idle figure. On ' +
      'loopback the kernel usually runs the receiving end’s TCP work inside the sender’s ' +
      'write, so the server’s kernel time per write is higher than over a network.',
  ];
}

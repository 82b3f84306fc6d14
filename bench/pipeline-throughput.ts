import { count, mebibytes, micros, ms, ratio } from './number-format.js';
import type { BenchOptions } from './options.js';
import { flatStreams, groupedStream, pipelineCases, type PipelineCase } from './pipeline-cases.js';
import { failedResult, type Scenario, type ScenarioResult } from './scenario.js';
import { loadServer, type ServerLoad } from './server-load.js';
import { scrapeMetrics, sumOf } from './server-metrics.js';
import { describeServer, startServer, type ServerSettings } from './server-process.js';
import { fillWindows, type WindowMemory } from './window-memory.js';

const name = 'pipeline-throughput';

interface CaseFigures extends ServerLoad {
  label: string;
  streams: number;
  groups: number;
  openWindows: number;
  windowsEmitted: number;
  rssBytes: number | undefined;
  memory?: WindowMemory;
}

/**
 * The stream-processing issue: events/s through ingest and the pipeline with 1, 10 and 100
 * streams and with 10 and 100,000 group keys, next to the same load with no streams; and the
 * memory an open window takes. Each case runs on a fresh server with its own config file.
 */
export const pipelineThroughput: Scenario = {
  name,
  loads: pipelineCases(1).length,
  run: runPipelineThroughput,
};

const settingsOf = (c: PipelineCase): ServerSettings => ({ project: { streams: c.streams } });

async function runPipelineThroughput(options: BenchOptions): Promise<ScenarioResult> {
  const commands = [
    describeServer({ project: { streams: [] } }),
    `${describeServer({ project: { streams: flatStreams(100) } })} (1 and 10 streams: the first of these)`,
    `${describeServer({ project: { streams: [groupedStream] } })} (10 and ${count(options.windowKeys)} keys)`,
    'load: this process, ws-load.ts, events with `props.g` (bench/event-frames.ts)',
  ];
  const cases: CaseFigures[] = [];
  try {
    for (const c of pipelineCases(options.windowKeys))
      if (c.quick || !options.quick) cases.push(await measureCase(c, options));
  } catch (err) {
    return failedResult(name, err, commands);
  }
  const silent = cases.filter((c) => c.load.acceptedEvents === 0).map((c) => c.label);
  return {
    scenario: name,
    ok: silent.length === 0,
    ...(silent.length ? { failure: `nothing acknowledged with ${silent.join(', ')}` } : {}),
    figures: { cases },
    table: [...cases.flatMap((c) => caseRows(c, cases[0]!)), ...memoryRows(cases)],
    commands,
    notes: notes(options),
  };
}

async function measureCase(c: PipelineCase, options: BenchOptions): Promise<CaseFigures> {
  const server = await startServer(settingsOf(c));
  try {
    const memory = c.measureMemory ? await fillWindows(server, c.groups) : undefined;
    // The CI smoke run gives each load half its measured time, to stay within seconds.
    const measureMs = options.measureSeconds * (options.quick ? 500 : 1000);
    const loaded = await loadServer(server, options, c.groups, measureMs);
    if (!server.alive())
      throw new Error(`server died with ${c.label}:\n${server.logTail().join('\n')}`);
    const metrics = await scrapeMetrics(server.port);
    return {
      label: c.label,
      streams: c.streams.length,
      groups: c.groups,
      ...loaded,
      openWindows: metrics.get('backline_pipeline_open_windows') ?? NaN,
      windowsEmitted: sumOf(metrics, 'backline_pipeline_windows_emitted_total'),
      rssBytes: server.rssBytes(),
      ...(memory ? { memory } : {}),
    };
  } finally {
    await server.stop();
  }
}

function caseRows(c: CaseFigures, none: CaseFigures): ScenarioResult['table'] {
  const eps = c.load.eventsPerSecond;
  const rows: ScenarioResult['table'] = [
    [
      `**${c.label}**: events/s acknowledged (÷ no streams)`,
      `${count(eps)} (${ratio(eps, none.load.eventsPerSecond)})`,
    ],
    [
      `${c.label}: server CPU per event, all threads / main thread (main ÷ no streams)`,
      `${micros(c.cpuMicrosPerEvent)} / ${micros(c.mainThreadMicrosPerEvent)} ` +
        `(${ratio(c.mainThreadMicrosPerEvent, none.mainThreadMicrosPerEvent)})`,
    ],
    [
      `${c.label}: ack latency p50 / p99; warm-up (until every socket had an ack)`,
      `${ms(c.load.latencyMs.p50Ms)} / ${ms(c.load.latencyMs.p99Ms)}; ${c.load.warmupSeconds} s`,
    ],
  ];
  if (c.streams > 0) rows.push([`${c.label}: open windows at the end`, count(c.openWindows)]);
  return rows;
}

function memoryRows(cases: CaseFigures[]): ScenarioResult['table'] {
  const none = cases.find((c) => c.streams === 0)?.memory;
  const keyed = cases.find((c) => c.streams > 0 && c.memory);
  const memory = keyed?.memory;
  if (!none || !memory) return [];
  const perWindow = (delta: (m: WindowMemory) => number) =>
    memory.openWindows > 0 ? (delta(memory) - delta(none)) / memory.openWindows : NaN;
  const bytes = (n: number) => (Number.isFinite(n) ? `${count(n)} B` : 'n/a');
  const signed = (n: number) => `${n < 0 ? '−' : '+'}${mebibytes(Math.abs(n))}`;
  return [
    [
      `window memory: open windows after ${count(memory.events)} events over as many keys`,
      count(memory.openWindows),
    ],
    [
      `heap used after those events: ${keyed.label} / no streams`,
      `${signed(memory.heapUsedDeltaBytes)} / ${signed(none.heapUsedDeltaBytes)}`,
    ],
    [
      `RSS after those events: ${keyed.label} / no streams`,
      `${signed(memory.rssDeltaBytes)} / ${signed(none.rssDeltaBytes)}`,
    ],
    [
      '**memory per open window** (difference ÷ open windows): heap / RSS',
      `${bytes(perWindow((m) => m.heapUsedDeltaBytes))} / ${bytes(perWindow((m) => m.rssDeltaBytes))}`,
    ],
  ];
}

function notes(options: BenchOptions): string[] {
  return [
    `Same closed-loop load for every case (${options.connections} sockets × ${options.inflight} ` +
      `frames of ${options.eventsPerFrame} events in flight), each on a fresh server. Every ` +
      'stream also gets an hourly rollup in ClickHouse, brought up to date every few seconds ' +
      'off the insert path (the rollup roller): events/s shows that whole cost, while ' +
      'main-thread CPU per event isolates the JavaScript side (decoding, validation, the ' +
      'stream operators, emission). Streams take every event (each through a bound on ' +
      'props.ms of its own, so no two are the same definition); their aggregates cycle through ' +
      'count, uniq of userId and quantiles of props.ms (bench/pipeline-cases.ts). `--quick` ' +
      'runs three of the six cases (no streams, 100 streams, many keys) for half as long.',
    `Window memory: before its load, the server takes ${count(options.windowKeys)} events ` +
      'whose `props.g` takes as many values; the heap (`nodejs_heap_size_used_bytes` on /metrics) and RSS grow by ' +
      'more than the same events cost with no streams, and the difference over ' +
      '`backline_pipeline_open_windows` is the memory per window (count, uniq and quantiles ' +
      'state). The heap holds garbage not yet collected, so the figure is approximate.',
  ];
}

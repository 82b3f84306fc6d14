import type { RunCounts, WorkerReport } from './fleet-protocol.js';
import { createLatencyHistogram, type LatencySummary } from './latency-histogram.js';

/** One run of the whole fleet: every worker's report merged. */
export interface FleetRunResult {
  measuredSeconds: number;
  /** Events the server acknowledged as accepted, per second of the window. */
  eventsPerSecond: number;
  framesPerSecond: number;
  /** Events the generator actually sent, per second of the window. */
  eventsSentPerSecond: number;
  counts: RunCounts;
  /** Merged HDR histograms of every worker: exact percentiles, not averages of percentiles. */
  latencyMs: LatencySummary;
  errors: Record<string, number>;
  /** CPU the load workers used over the window, in percent of one core. */
  generatorCpuPercent: number;
  /** Sockets of the fleet (idle ones too) still open after the run. */
  openSockets: number;
  /** The fleet's other sockets, by close code: see `WorkerReport` `ran`. */
  closedSockets: Record<string, number>;
}

type RanReport = Extract<WorkerReport, { t: 'ran' }>;

export function mergeReports(reports: RanReport[], measuredSeconds: number): FleetRunResult {
  const latency = createLatencyHistogram();
  for (const report of reports) latency.add(report.latency);
  const counts = zeroCounts();
  for (const report of reports)
    for (const key of Object.keys(counts) as Array<keyof RunCounts>)
      counts[key] += report.counts[key];
  const perSecond = (n: number) => Math.round(n / measuredSeconds);
  const cpuSeconds = reports.reduce((sum, report) => sum + report.cpuSeconds, 0);
  return {
    measuredSeconds,
    eventsPerSecond: perSecond(counts.accepted),
    framesPerSecond: perSecond(counts.acks),
    eventsSentPerSecond: perSecond(counts.eventsSent),
    counts,
    latencyMs: latency.summary(),
    errors: mergeCounts(reports.map((report) => report.errors)),
    generatorCpuPercent: Math.round((cpuSeconds / measuredSeconds) * 1000) / 10,
    openSockets: reports.reduce((sum, report) => sum + report.openSockets, 0),
    closedSockets: mergeCounts(reports.map((report) => report.closedSockets)),
  };
}

export function mergeCounts(all: Array<Record<string, number>>): Record<string, number> {
  const merged: Record<string, number> = {};
  for (const counts of all)
    for (const [code, n] of Object.entries(counts)) merged[code] = (merged[code] ?? 0) + n;
  return merged;
}

function zeroCounts(): RunCounts {
  return {
    acks: 0,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    framesSent: 0,
    eventsSent: 0,
    skipped: 0,
    unacked: 0,
  };
}

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderProfiles } from './cpu-profiles.js';
import type { Machine } from './machine.js';
import type { BenchOptions } from './options.js';
import type { ScenarioResult } from './scenario.js';

export interface BenchReport {
  startedAt: Date;
  /** The command as typed, so a reader can run it again. */
  command: string;
  options: BenchOptions;
  machine: Machine;
  results: ScenarioResult[];
}

export const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));

/** Writes `<timestamp>.json` and `<timestamp>.md` under bench/results; returns both paths. */
export function writeReport(report: BenchReport, dir = resultsDir) {
  const stamp = runStamp(report.startedAt);
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `${stamp}.json`);
  const markdown = join(dir, `${stamp}.md`);
  writeFileSync(json, `${JSON.stringify(toJson(report), null, 2)}\n`);
  writeFileSync(markdown, renderMarkdown(report));
  return { json, markdown };
}

/** A run's name in bench/results: its start, `2026-12-01T08-00-00Z`. */
export function runStamp(startedAt: Date): string {
  // Colons are not allowed in Windows file names; a checkout there should still work.
  return startedAt
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
}

// The table rows repeat the figures as text; the JSON keeps only the figures.
function toJson(report: BenchReport) {
  const results = report.results.map(({ table: _table, ...rest }) => rest);
  return { ...report, startedAt: report.startedAt.toISOString(), results };
}

export function renderMarkdown(report: BenchReport): string {
  const { machine: m, options: o } = report;
  const memory = `${(m.totalMemoryBytes / 1024 ** 3).toFixed(1)} GiB`;
  const lines = [
    `## backline bench, ${report.startedAt.toISOString()}`,
    '',
    `\`${report.command}\` at ${m.gitCommit}${m.gitDirty ? ' (uncommitted changes)' : ''}`,
    `${m.cpuModel}, ${m.cores} cores, ${memory}, Node ${m.node}, ${m.platform}` +
      (m.openFilesLimit ? `, ${m.openFilesLimit} open files per process` : '') +
      `; load average ${m.loadAverage} at the start`,
    `${o.warmupSeconds} s warm-up + ${o.measureSeconds} s measured per load; closed loop: ` +
      `${o.connections} connections, ${o.eventsPerFrame} events/frame, ${o.inflight} frames in flight; ` +
      (o.cluster > 0
        ? `cluster: ${o.cluster} nodes and one redis-server (appendfsync always) on this machine, ` +
          `${o.clusterSockets} sockets across them`
        : `fleet: ${o.sockets} sockets over ${o.workers} worker processes, ${o.rate} frames/s × ` +
          `${o.batch} events each; peers: ${o.peerSockets} idle sockets`),
  ];
  for (const result of report.results) lines.push('', ...renderResult(result));
  return `${lines.join('\n')}\n`;
}

function renderResult(result: ScenarioResult): string[] {
  const head = [`### ${result.scenario}${result.ok ? '' : ' (FAILED)'}`, ''];
  const load = result.loadAverage
    ? [
        `Load average (1 min, this run's processes included) while it ran: start ` +
          `${result.loadAverage.start}, mean ${result.loadAverage.mean}, max ` +
          `${result.loadAverage.max}, end ${result.loadAverage.end}.`,
        '',
      ]
    : [];
  const failure = result.failure ? ['```', result.failure, '```', ''] : [];
  const rows = result.table.map(([label, value]) => `| ${label} | ${value} |`);
  const notes = (result.notes ?? []).flatMap((note) => [note, '']);
  const commands = result.commands?.length
    ? ['', 'Commands:', '', ...result.commands.map((command) => `- \`${command}\``)]
    : [];
  return [
    ...head,
    ...failure,
    ...load,
    ...notes,
    ...(rows.length ? ['| figure | value |', '|---|---|', ...rows] : []),
    ...commands,
    ...renderProfiles(result.profiles),
  ];
}

import { setTimeout as sleep } from 'node:timers/promises';
import { checkAnswers } from './history-checks.js';
import {
  historyStream,
  seedEnd,
  dayMs,
  type HistorySeedResult,
  type HistorySeedSpec,
} from './history-data.js';
import {
  historyGoalMs,
  historyRoutes,
  measureRoutes,
  type RouteFigures,
} from './history-routes.js';
import { count, mebibytes, ms } from './number-format.js';
import type { BenchOptions } from './options.js';
import type { Scenario, ScenarioResult } from './scenario.js';
import { onSeededServer, type SeededServer } from './seed-process.js';
import { scrapeMetrics, sumOf } from './server-metrics.js';
import type { ServerSettings } from './server-process.js';

const name = 'history';
const seedScript = 'bench/history-seed.ts';

/** Issue #14, goal 6: 10M events over 30 days. `--quick` keeps the days, not the rows. */
const full = { events: 10_000_000, days: 30, users: 100_000, warmup: 5, calls: 200 };
const quick = { events: 200_000, days: 30, users: 5000, warmup: 2, calls: 20 };
const settings: ServerSettings = { project: { streams: [historyStream] } };
const rollTimeoutMs = 600_000;

/**
 * History queries over a month of stored events (issue #14, goal 6): the seed stores them
 * and the stream's windows before the server starts (history-seed.ts), the server's roller
 * rolls them (timed), the answers are checked against the seed, then each route is called
 * over ranges that move from call to call.
 */
export const history: Scenario = {
  name,
  maxMs: (options) => (options.quick ? 120_000 : 1_800_000),
  run: runHistory,
};

async function runHistory(options: BenchOptions): Promise<ScenarioResult> {
  const size = options.quick ? quick : full;
  const endMs = seedEnd(Date.now());
  const seed: HistorySeedSpec = { events: size.events, days: size.days, endMs, users: size.users };
  const args = [seed.events, seed.days, seed.endMs, seed.users];
  const run = { scenario: name, script: seedScript, args, timeoutMs: 900_000, settings };
  return onSeededServer<HistorySeedResult>(run, (on) => measure(on, seed, size));
}

/** On the started server: waits for the roll, checks, then times the routes. */
async function measure(
  { server, seeded, startSeconds }: SeededServer<HistorySeedResult>,
  seed: HistorySeedSpec,
  counts: typeof full,
): Promise<Omit<ScenarioResult, 'scenario' | 'commands'>> {
  const days = { start: seed.endMs - seed.days * dayMs, end: seed.endMs };
  const roll = await rolled(server.port);
  const target = { port: server.port, key: server.key };
  const problems = await checkAnswers(target, days, seeded, historyStream.name);
  if (roll.failures > 0) problems.push(`${roll.failures} rollup rolls or rounds failed`);
  const routes = problems.length ? [] : await measureRoutes(target, days, counts);
  const figures = { seed: seeded, startSeconds, roll, routes, rssBytes: server.rssBytes() };
  return {
    ok: problems.length === 0,
    ...(problems.length ? { failure: problems.join('\n') } : {}),
    figures,
    table: table(seeded, counts, figures),
    notes: notes(counts),
  };
}

interface RollFigures {
  /** Rounds finished when first seen: 1 unless the first was too short to be seen alone. */
  rounds: number;
  seconds: number;
  failures: number;
}

/**
 * Waits for the roller's first round, which rolls every seeded event: the seed marked the
 * rollup before storing any. Its duration comes from the round histogram.
 */
async function rolled(port: number): Promise<RollFigures> {
  const deadline = Date.now() + rollTimeoutMs;
  for (;;) {
    const metrics = await scrapeMetrics(port);
    const rounds = metrics.get('backline_storage_rollup_round_seconds_count') ?? 0;
    if (rounds >= 1) {
      const seconds = metrics.get('backline_storage_rollup_round_seconds_sum') ?? Number.NaN;
      const failures = sumOf(metrics, 'backline_storage_rollup_failures_total');
      return { rounds, seconds, failures };
    }
    if (Date.now() > deadline) throw new Error(`no rollup round ended in ${rollTimeoutMs} ms`);
    await sleep(100);
  }
}

function table(
  seeded: HistorySeedResult,
  counts: typeof full,
  figures: { startSeconds: number; roll: RollFigures; routes: RouteFigures[]; rssBytes?: number },
): Array<[string, string]> {
  const { roll } = figures;
  const rounds = roll.rounds === 1 ? 'its first round' : `its first ${roll.rounds} rounds`;
  return [
    [
      'seeded (outside the clock)',
      `${count(seeded.events)} events over ${counts.days} days in ${seeded.eventParts} parts ` +
        `(${seeded.eventsSeconds.toFixed(1)} s); ${count(seeded.windows)} closed windows ` +
        `(${seeded.windowsSeconds.toFixed(1)} s)`,
    ],
    ['server start → listening', `${figures.startSeconds.toFixed(1)} s`],
    [
      `**roller: ${count(seeded.streamEvents)} stream events rolled**`,
      `${roll.seconds.toFixed(2)} s in ${rounds}; ${roll.failures} failures`,
    ],
    ...figures.routes.map((r): [string, string] => [
      `**${r.route}**: p50 / p99 / max (${r.calls} calls)`,
      `${ms(r.p50Ms)} / **${ms(r.p99Ms)}** / ${ms(r.maxMs)} — goal p99 < ${historyGoalMs} ms ` +
        `${r.goalMet ? 'met' : '**MISSED**'}; first call ${ms(r.coldMs)}; ` +
        `${count(r.meanBytes)} B per answer`,
    ]),
    ['server RSS after the calls', mebibytes(figures.rssBytes)],
  ];
}

function notes(counts: typeof full): string[] {
  return [
    `The seed stores ${count(counts.events)} events of one project over ${counts.days} whole ` +
      'UTC days up to the last midnight, one insert per day, from `numbers()` with ' +
      `deterministic hashes (${counts.users} users, 10 types, a plan and a number in props), ` +
      `the stream \`${historyStream.name}\`'s closed 1-minute windows per plan computed from ` +
      'them as the pipeline writes them, and its rollup table marked before any event, so ' +
      "the server's roller rolls every event in its first round. Answers are checked " +
      'against the seed before any call is timed.',
    `Each route is called ${counts.warmup} times (not counted) then ${counts.calls} times, ` +
      `the ${historyRoutes.length} routes in turn, one call at a time over loopback, each ` +
      'over a range that moves from call to call; a time runs from the send to the last ' +
      'byte of the answer.',
  ];
}

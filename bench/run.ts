/**
 * `npm run bench [-- --quick | --connections N | --events N | --seconds N | --inflight N]`:
 * runs every scenario in turn against a fresh server, prints a Markdown summary and keeps
 * JSON + Markdown under bench/results. Exits 1 if a scenario measured nothing.
 */
import { ingestWs } from './ingest-ws.js';
import { describeMachine } from './machine.js';
import { OptionsError, parseOptions, type BenchOptions } from './options.js';
import { renderMarkdown, writeReport } from './report.js';
import type { Scenario } from './scenario.js';

/** In run order; each scenario starts and stops its own server. */
const scenarios: Scenario[] = [ingestWs];

// Server start, drain and shutdown on top of the measured time; past this the run is stuck.
const overheadPerScenarioMs = 120_000;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let options: BenchOptions;
  try {
    options = parseOptions(args);
  } catch (err) {
    if (!(err instanceof OptionsError)) throw err;
    console.error(
      `${err.message}\nusage: npm run bench -- [--quick] [--connections N] ` +
        '[--events N] [--seconds N] [--inflight N]',
    );
    process.exitCode = 2;
    return;
  }
  const watchdog = armWatchdog(options);
  const startedAt = new Date();
  const machine = describeMachine();
  const results = [];
  for (const scenario of scenarios) {
    console.log(`running ${scenario.name} …`);
    results.push(await scenario.run(options));
  }
  clearTimeout(watchdog);

  const report = { startedAt, command: commandLine(args), options, machine, results };
  const files = writeReport(report);
  console.log(`\n${renderMarkdown(report)}\nwrote ${files.json}\n      ${files.markdown}`);
  if (results.some((result) => !result.ok)) process.exitCode = 1;
}

function armWatchdog(options: BenchOptions): NodeJS.Timeout {
  const perScenarioMs =
    (options.warmupSeconds + options.measureSeconds) * 1000 + overheadPerScenarioMs;
  const limitMs = perScenarioMs * scenarios.length;
  const timer = setTimeout(() => {
    console.error(`bench still running after ${limitMs} ms; giving up`);
    process.exit(3); // the server's exit hook kills it and removes its data folder
  }, limitMs);
  return timer.unref();
}

function commandLine(args: string[]): string {
  const tail = args.join(' ');
  if (process.env.npm_lifecycle_event === 'bench')
    return `npm run bench${tail ? ` -- ${tail}` : ''}`;
  return `tsx bench/run.ts${tail ? ` ${tail}` : ''}`;
}

// Ctrl-C: exit through the exit hooks, which stop the server and remove its data folder.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

main().catch((err: unknown) => {
  console.error('bench failed:', err);
  process.exitCode = 1;
});
